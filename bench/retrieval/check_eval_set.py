"""Validate bench/retrieval/eval_set.json against the Avranches minutes.

Usage:
    python bench/retrieval/check_eval_set.py [--data DIR] [--set FILE]

Checks, for every question:
  * ids are unique, required keys are present, answerable/document/quote are consistent;
  * every document file exists in the corpus directory;
  * every answer_quote is an exact substring of its document (after reading the file as UTF-8,
    no normalisation), is 40-400 characters long and contains no form feed;
  * (warning only) whether an answer_quote also occurs verbatim in another document.
Exit status is 1 if any check fails. Only the standard library is used.
"""

import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SET = os.path.join(HERE, "eval_set.json")
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "proces-verbaux"))
if not os.path.isdir(DEFAULT_DATA):
    DEFAULT_DATA = "/work/shared/data/proces-verbaux"


def as_list(x):
    return x if isinstance(x, list) else [x]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory holding the avranches_*.txt files")
    ap.add_argument("--set", default=DEFAULT_SET, help="eval set JSON")
    args = ap.parse_args()

    with open(args.set, encoding="utf-8") as f:
        data = json.load(f)
    corpus = {}
    for name in sorted(os.listdir(args.data)):
        if name.startswith("avranches_") and name.endswith(".txt"):
            with open(os.path.join(args.data, name), encoding="utf-8") as f:
                corpus[name] = f.read()

    errors, warnings = [], []
    if data.get("version") != 1 or data.get("corpus") != "avranches-proces-verbaux":
        errors.append("bad header (version/corpus)")
    qs = data["questions"]
    ids = collections.Counter(q["id"] for q in qs)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]

    per_doc = collections.Counter()
    tags = collections.Counter()
    n_ok = 0
    for q in qs:
        qid = q["id"]
        for k in ("id", "question", "document", "answer_quote", "answerable", "tags"):
            if k not in q:
                errors.append(f"{qid}: missing key {k}")
        tags.update(q.get("tags", []))
        if not q["answerable"]:
            if q["document"] is not None or q["answer_quote"] is not None:
                errors.append(f"{qid}: unanswerable question must have null document and quote")
            continue
        docs, quotes = as_list(q["document"]), as_list(q["answer_quote"])
        if len(docs) != len(quotes):
            errors.append(f"{qid}: {len(docs)} documents but {len(quotes)} quotes")
            continue
        for doc, quote in zip(docs, quotes, strict=True):
            per_doc[doc] += 1
            if doc not in corpus:
                errors.append(f"{qid}: unknown document {doc!r}")
                continue
            if not (40 <= len(quote) <= 400):
                errors.append(f"{qid}: quote length {len(quote)} outside 40-400")
            if "\x0c" in quote:
                errors.append(f"{qid}: quote contains a form feed (page break)")
            if quote not in corpus[doc]:
                errors.append(f"{qid}: quote is NOT a substring of {doc}")
                continue
            n_ok += 1
            others = [d for d, t in corpus.items() if d != doc and d not in docs and quote in t]
            if others:
                warnings.append(f"{qid}: quote also occurs verbatim in {others}")

    missing = [d for d in corpus if per_doc[d] == 0]
    if missing:
        errors.append(f"documents without any question: {missing}")

    n_ans = sum(q["answerable"] for q in qs)
    print(
        f"questions: {len(qs)} ({n_ans} answerable, {len(qs) - n_ans} unanswerable); "
        f"{n_ok} quotes verified as exact substrings"
    )
    counts = [per_doc[d] for d in corpus]
    print(f"questions per document: min {min(counts)}, max {max(counts)} over {len(corpus)} documents")
    print("tags:", ", ".join(f"{t}={c}" for t, c in tags.most_common()))
    for w in warnings:
        print("WARNING", w)
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
