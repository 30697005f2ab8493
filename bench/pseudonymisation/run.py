"""Pseudonymisation recall and precision on real council minutes annotated by hand (annotations.json):
Avranches (the minutes the rules were written against) and Couthenans (PDFs, another commune, another
style, held out), per type and overall, with the mean time per paragraph. Needs no database.

    .venv/bin/python bench/pseudonymisation/run.py             # every annotated paragraph
    .venv/bin/python bench/pseudonymisation/run.py --details   # also list misses and spurious masks
    .venv/bin/python bench/pseudonymisation/run.py --smoke     # first 5 paragraphs, for CI
"""

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from apps.ai.pseudonymise import KINDS, find_entities, pseudonymise

ANNOTATIONS = Path(__file__).with_name("annotations.json")


def occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    """Where the string stands as whole words ("Marc" is not in "Marché"), or anywhere when OCR glued it
    to the next word ("D.NiCOLASjusqu'à")."""
    whole = [m.span() for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", text)]
    return whole or [m.span() for m in re.finditer(re.escape(needle), text)]


def is_masked(text: str, start: int, end: int, masked: set[int]) -> bool:
    """Every letter and digit of the string lies under a placeholder (spaces and punctuation may not)."""
    return all(i in masked for i in range(start, end) if text[i].isalnum())


def evaluate(items: list[dict]) -> dict:
    annotated, found, spans_by_kind, correct_by_kind = Counter(), Counter(), Counter(), Counter()
    misses, spurious, elapsed = [], [], 0.0
    for item in items:
        text = item["text"]
        started = time.perf_counter()
        pseudonymise(text)
        elapsed += time.perf_counter() - started
        spans = find_entities(text)
        masked = {i for s in spans for i in range(s.start, s.end)}
        truth = []
        for entity in item["entities"]:
            places = occurrences(text, entity["text"])
            if not places:
                raise SystemExit(f"annotation not in its paragraph: {entity['text']!r} ({item['file']})")
            truth += places
            annotated[entity["type"]] += 1
            if all(is_masked(text, start, end, masked) for start, end in places):
                found[entity["type"]] += 1
            else:
                misses.append((entity["type"], entity["text"], item["file"]))
        for span in spans:
            spans_by_kind[span.kind] += 1
            if any(span.start < end and start < span.end for start, end in truth):
                correct_by_kind[span.kind] += 1
            else:
                spurious.append((span.kind, text[span.start : span.end], item["file"]))
    return {
        "annotated": annotated,
        "found": found,
        "spans": spans_by_kind,
        "correct": correct_by_kind,
        "misses": misses,
        "spurious": spurious,
        "ms_per_paragraph": 1000 * elapsed / len(items),
    }


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:6.1%} ({part}/{whole})" if whole else "     – (0)"


def corpus(item: dict) -> str:
    return "Avranches" if item["file"].startswith("avranches") else "Couthenans"


def report(name: str, result: dict, items: list[dict], details: bool) -> None:
    files = len({i["file"] for i in items})
    print(
        f"\n## {name}: {len(items)} paragraphs from {files} file{'s' if files > 1 else ''}, "
        f"mean {sum(len(i['text']) for i in items) / len(items):.0f} characters\n"
    )
    print(f"{'type':10} {'recall':>18} {'precision':>18}")
    for kind in KINDS:
        if result["annotated"][kind] or result["spans"][kind]:
            print(
                f"{kind:10} {ratio(result['found'][kind], result['annotated'][kind]):>18} "
                f"{ratio(result['correct'][kind], result['spans'][kind]):>18}"
            )
    total = {key: sum(result[key].values()) for key in ("annotated", "found", "spans", "correct")}
    print(
        f"{'overall':10} {ratio(total['found'], total['annotated']):>18} {ratio(total['correct'], total['spans']):>18}"
    )
    print(f"mean {result['ms_per_paragraph']:.1f} ms per paragraph")
    if details:
        print("\nmisses (annotated, not fully masked):")
        for kind, text, file in result["misses"]:
            print(f"  {kind:9} {text!r:40} {file}")
        print("\nspurious (masked, not annotated):")
        for kind, text, file in result["spurious"]:
            print(f"  {kind:9} {text!r:40} {file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="first 5 paragraphs only")
    parser.add_argument("--details", action="store_true", help="list misses and spurious masks")
    args = parser.parse_args()
    items = json.loads(ANNOTATIONS.read_text())
    if args.smoke:
        items = items[:5]
    started = time.perf_counter()
    pseudonymise("Monsieur Jean Dupont")  # loads the NER model: its one-off cost is reported apart
    print(f"NER model loaded in {time.perf_counter() - started:.1f} s (not counted below)")
    names = sorted({corpus(item) for item in items})
    for name in names:
        part = [item for item in items if corpus(item) == name]
        report(name, evaluate(part), part, args.details)
    if len(names) > 1:
        report("All", evaluate(items), items, details=False)


if __name__ == "__main__":
    main()
