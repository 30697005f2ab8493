"""Abstention on the Avranches minutes: does apps.assistant.confidence let the assistant answer the
answerable questions of bench/retrieval/eval_set.json and decline the unanswerable ones?

    .venv/bin/python bench/abstention/run.py            # 105 + 26 questions (reuses the retrieval bench's index)
    .venv/bin/python bench/abstention/run.py --smoke    # 1 document, a handful of questions, for CI
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import setup_django
from bench.retrieval.run import build_corpus, is_relevant, load_questions

HITS = 6  # what the assistant retrieves; the model is given the first 5
GIVEN_TO_MODEL = 5
THRESHOLDS = [round(0.05 * i, 2) for i in range(4, 17)]  # 0.20 … 0.80
MIN_ANSWERED = 0.90  # the rule ABSTAIN_BELOW was chosen by: abstain on at most 1 answerable question in 10
SPLITS = 200  # random halves for the cross-validated figure
SMOKE_UNANSWERABLE = 4
MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        start=1,
    )
}


def session_date(filename: str) -> date | None:
    """The council session's date, from the minutes' file name (four naming habits over the years)."""
    if filename.endswith("du_2_juin.txt"):  # the year is only in the text: 2 June 2014
        return date(2014, 6, 2)
    if m := re.search(r"CM_?(\d\d)[._](\d\d)[._](\d{4})", filename):
        return date(int(m[3]), int(m[2]), int(m[1]))
    if m := re.search(r"CM_?(\d\d)\.(\d\d)\.(\d\d)_", filename):  # YY.MM.DD
        return date(2000 + int(m[1]), int(m[2]), int(m[3]))
    if (m := re.search(r"du_(\d{1,2})_(\w+)_(\d{4})", filename)) and m[2] in MONTHS:
        return date(int(m[3]), MONTHS[m[2]], int(m[1]))
    return None


def date_sessions(main) -> None:
    """Registre asks for a document's date on upload; the retrieval bench leaves it empty."""
    from apps.documents.models import Document
    from apps.tenants.context import tenant_context

    with tenant_context(main.pk):
        for document in Document.objects.filter(date__isnull=True):
            Document.objects.filter(pk=document.pk).update(date=session_date(document.original_filename))


def score_questions(main, questions) -> list[dict]:
    from apps.assistant.confidence import retrieval_confidence
    from apps.documents.models import Document
    from apps.documents.search import search
    from apps.tenants.context import tenant_context

    with tenant_context(main.pk):
        names = dict(Document.objects.values_list("pk", "original_filename"))
    rows = []
    for q in questions:
        with tenant_context(main.pk):
            hits = search(authority_id=main.pk, query=q["question"], limit=HITS, with_facets=False).hits
            started = time.perf_counter()
            score = retrieval_confidence(authority_id=main.pk, query=q["question"], hits=hits)
            elapsed = time.perf_counter() - started
        given = hits[:GIVEN_TO_MODEL]
        relevant = q["answerable"] and any(
            names.get(h.document_id) in q["documents"] and is_relevant(h.text, q["quotes"]) for h in given
        )
        rows.append(
            {
                "id": q["id"],
                "answerable": q["answerable"],
                "tags": q["tags"],
                "score": score,
                "relevant": relevant,
                "ms": 1000 * elapsed,
            }
        )
    return rows


def rates(rows: list[dict], threshold: float) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]] or [{}]
    unanswerable = [r for r in rows if not r["answerable"]] or [{}]
    answered = [r for r in answerable if r.get("score", 0) >= threshold]
    return {
        "declined": sum(r.get("score", 1) < threshold for r in unanswerable) / len(unanswerable),
        "answered": len(answered) / len(answerable),
        "answered_relevant": sum(r["relevant"] for r in answered) / len(answerable),
    }


def choose_threshold(rows: list[dict]) -> float:
    """The highest threshold that still answers MIN_ANSWERED of the answerable questions."""
    return max((t for t in THRESHOLDS if rates(rows, t)["answered"] >= MIN_ANSWERED), default=THRESHOLDS[0])


def best_balanced(rows: list[dict]) -> float:
    """For comparison: the threshold with the best mean of the two rates (middle of a plateau)."""

    def balanced(t):
        return rates(rows, t)["declined"] + rates(rows, t)["answered"]

    best = max(balanced(t) for t in THRESHOLDS)
    plateau = [t for t in THRESHOLDS if balanced(t) == best]
    return plateau[len(plateau) // 2]


def cross_validate(rows: list[dict], choose=choose_threshold, splits: int = SPLITS) -> dict[str, float]:
    """Choose on one random half (stratified), measure on the other, both ways; mean over splits."""
    rng = random.Random(20261125)
    held_out, chosen = [], []
    for _ in range(splits):
        halves = ([], [])
        for answerable in (True, False):
            group = [r for r in rows if r["answerable"] is answerable]
            rng.shuffle(group)
            halves[0].extend(group[: len(group) // 2])
            halves[1].extend(group[len(group) // 2 :])
        for train, test in (halves, halves[::-1]):
            threshold = choose(train)
            chosen.append(threshold)
            held_out.append(rates(test, threshold))
    return {key: statistics.mean(r[key] for r in held_out) for key in held_out[0]} | {
        "threshold_min": min(chosen),
        "threshold_max": max(chosen),
        "threshold_median": statistics.median(chosen),
    }


def report(rows: list[dict]) -> None:
    from apps.assistant.confidence import ABSTAIN_BELOW

    n_ans = sum(r["answerable"] for r in rows)
    print(
        f"\n{n_ans} answerable, {len(rows) - n_ans} unanswerable questions; "
        f"confidence p50 {statistics.median(r['ms'] for r in rows):.1f} ms, max {max(r['ms'] for r in rows):.1f} ms"
    )
    print(f"{'threshold':>9}{'declined (unans.)':>19}{'answered (ans.)':>17}{'answered+relevant@5':>21}")
    for t in sorted({*THRESHOLDS, ABSTAIN_BELOW}):
        r = rates(rows, t)
        mark = "  <- ABSTAIN_BELOW" if t == ABSTAIN_BELOW else ""
        print(f"{t:>9.2f}{r['declined']:>19.3f}{r['answered']:>17.3f}{r['answered_relevant']:>21.3f}{mark}")
    at_default = rates(rows, ABSTAIN_BELOW)
    print(
        f"default ABSTAIN_BELOW={ABSTAIN_BELOW:.2f}: declined {at_default['declined']:.3f} of unanswerable, "
        f"answered {at_default['answered']:.3f} of answerable (in-sample)"
    )
    print(
        f"chosen on all questions: {choose_threshold(rows):.2f} by the rule (answer >= {MIN_ANSWERED:.0%}), "
        f"{best_balanced(rows):.2f} by the best mean of the two rates"
    )
    for label, rule in ((f"answer >= {MIN_ANSWERED:.0%}", choose_threshold), ("best mean", best_balanced)):
        cv = cross_validate(rows, rule)
        print(
            f"cross-validated [{label}] (chosen on a random half, measured on the other, both ways, {SPLITS} "
            f"splits): declined {cv['declined']:.3f}, answered {cv['answered']:.3f}, answered+relevant@5 "
            f"{cv['answered_relevant']:.3f}; thresholds chosen {cv['threshold_min']:.2f}-{cv['threshold_max']:.2f} "
            f"(median {cv['threshold_median']:.2f})"
        )
    tags = sorted({t for r in rows if not r["answerable"] for t in r["tags"] if t.startswith(("hors-", "quasi-"))})
    for tag in tags:
        group = [r for r in rows if not r["answerable"] and tag in r["tags"]]
        print(f"  unanswerable {tag:<13} declined {sum(r['score'] < ABSTAIN_BELOW for r in group)}/{len(group)}")
    missed = [r for r in rows if r["answerable"] and r["score"] < ABSTAIN_BELOW]
    print(
        f"  answerable declined: {len(missed)} ({sum(not r['relevant'] for r in missed)} of them without a "
        f"relevant passage in the top {GIVEN_TO_MODEL})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 document and a handful of questions (CI)")
    parser.add_argument("--scores", action="store_true", help="also print each question's score")
    args = parser.parse_args()
    chunking = f"c{os.environ.get('CHUNK_MAX_TOKENS', '480')}"
    smoke = "smoke_" if args.smoke else ""
    # A copy of the retrieval bench's database when it exists: indexing the minutes takes minutes.
    setup_django(f"registre_bench_{smoke}{chunking}_abstention", copy_of=f"registre_bench_{smoke}{chunking}_single")
    answerable, unanswerable = load_questions(args.smoke)
    if args.smoke:
        answerable, unanswerable = answerable[:4], unanswerable[:SMOKE_UNANSWERABLE]
    started = time.perf_counter()
    main_authority, _ = build_corpus(args.smoke, answerable, mixed=False)
    date_sessions(main_authority)
    print(f"corpus ready in {time.perf_counter() - started:.1f}s")
    rows = score_questions(main_authority, answerable + unanswerable)
    if args.scores:
        for r in sorted(rows, key=lambda r: r["score"]):
            print(f"  {r['id']} {'A' if r['answerable'] else 'U'} {r['score']:.3f} relevant@5={r['relevant']:d}")
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
