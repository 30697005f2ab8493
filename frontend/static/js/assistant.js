// Follows a generation's server-sent events: shows the text as it arrives (in a reply editor too), then swaps in the
// server-rendered result (citations linked, sources, feedback). Without JavaScript the page
// offers a reload link instead.
(function () {
  "use strict";

  function follow(box) {
    if (box.dataset.following) return;
    box.dataset.following = "1";
    var text = box.querySelector(".stream-text");
    var status = box.querySelector(".stream-status");
    var source = new EventSource(box.dataset.stream);
    var finished = false;
    // An inbox draft streams straight into the reply editor, unless the agent already wrote there.
    var editor = box.dataset.editor ? document.getElementById(box.dataset.editor) : null;
    if (editor && editor.value.trim()) editor = null;
    var streamed = "";  // what this stream wrote in the editor: the agent's own typing is never overwritten
    function untouched() { return editor && editor.value === streamed; }
    function write(value) { if (untouched()) { editor.value = value; streamed = value; } }

    function data(event) { return JSON.parse(event.data || "{}"); }
    function finish(e) {
      if (finished) return;
      finished = true;
      source.close();
      // The checked text (citations verified) replaces what streamed; a draft finished before the page
      // followed it (a fast server) still lands in the empty editor.
      var output = e && e.type === "done" ? data(e).output : "";
      write(output);  // a failed draft leaves the editor as empty as it found it
      window.htmx.ajax("GET", box.dataset.result, { target: box, swap: "outerHTML" });
    }
    source.addEventListener("status", function (e) { status.textContent = data(e).message || ""; });
    source.addEventListener("sources", function (e) {
      var count = (data(e).sources || []).length;
      status.textContent = count ? count + " passage(s) trouvé(s) ; rédaction en cours…" : "Recherche terminée.";
    });
    source.addEventListener("delta", function (e) {
      text.textContent += data(e).text;
      write(streamed + data(e).text);
    });
    source.addEventListener("reset", function () {
      text.textContent = "";
      write("");
    });
    source.addEventListener("done", finish);
    source.addEventListener("failed", finish);
  }

  function scan(root) {
    if (root.matches && root.matches("[data-stream]")) follow(root);  // swapped in on its own
    if (root.querySelectorAll) root.querySelectorAll("[data-stream]").forEach(follow);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (e) { scan(e.detail.elt); });
})();
