// Follows a generation's server-sent events: shows the text as it arrives, then swaps in the
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

    function data(event) { return JSON.parse(event.data || "{}"); }
    function finish() {
      if (finished) return;
      finished = true;
      source.close();
      window.htmx.ajax("GET", box.dataset.result, { target: box, swap: "outerHTML" });
    }
    source.addEventListener("status", function (e) { status.textContent = data(e).message || ""; });
    source.addEventListener("sources", function (e) {
      var count = (data(e).sources || []).length;
      status.textContent = count ? count + " passage(s) trouvé(s) ; rédaction en cours…" : "Recherche terminée.";
    });
    source.addEventListener("delta", function (e) { text.textContent += data(e).text; });
    source.addEventListener("reset", function () { text.textContent = ""; });
    source.addEventListener("done", finish);
    source.addEventListener("failed", finish);
  }

  function scan(root) {
    if (root.querySelectorAll) root.querySelectorAll("[data-stream]").forEach(follow);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (e) { scan(e.detail.elt); });
})();
