"""Extraction of deliberations from council minutes, by the rules, against hand annotations
(annotations.json): deliberations found (precision, recall), decisions and vote counts among them, time.
Dev files were read while the rules were written; held-out files were annotated after, never used.

    .venv/bin/python bench/minutes_extraction/run.py                 # every annotated file
    .venv/bin/python bench/minutes_extraction/run.py --split heldout # one split
    .venv/bin/python bench/minutes_extraction/run.py --show          # also each proposal and each miss
"""

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
ANNOTATIONS = Path(__file__).with_name("annotations.json")
MATCH_AT = 0.5  # share of the shorter objet's words found in the other
STOP = {"pour", "dans", "avec", "sous", "entre", "leur", "leurs", "cette", "ville", "avranches", "commune"}
DECISIONS = {
    "Adoptée à l'unanimité": "unanimite",
    "Adoptée": "adoptee",
    "Adoptée à la majorité": "adoptee",
    "Rejetée": "rejetee",
    "Prend acte": "acte",
    "Retirée de l'ordre du jour": "retiree",
}


def words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", re.sub(r"['’]", " ", text.lower())).encode("ascii", "ignore").decode()
    return {w[:7] for w in re.findall(r"[a-z0-9]{4,}", plain) if w not in STOP}


def similarity(first: str, second: str) -> float:
    a, b = words(first), words(second)
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _closeness(first: str, second: str) -> float:
    """Tie-break between equal word shares: « Subventions aux associations » is closer to itself than
    to « Demande de subvention association Via Aeterna »."""
    a, b = words(first), words(second)
    return len(a & b) / len(a | b) if a | b else 0.0


def match(expected: list[dict], proposals: list) -> list[tuple[int, int]]:
    """One-to-one pairs (expected index, proposal index), best similarity first."""
    scored = sorted(
        (
            (similarity(e["objet"], p.objet), _closeness(e["objet"], p.objet), i, j)
            for i, e in enumerate(expected)
            for j, p in enumerate(proposals)
        ),
        reverse=True,
    )
    pairs, used_e, used_p = [], set(), set()
    for score, _, i, j in scored:
        if score >= MATCH_AT and i not in used_e and j not in used_p:
            pairs.append((i, j))
            used_e.add(i)
            used_p.add(j)
    return sorted(pairs)


def evaluate(entry: dict, show: bool) -> dict:
    from apps.deliberations.minutes.attendance import session_date
    from apps.deliberations.minutes.extraction import propose_deliberations
    from apps.deliberations.minutes.text import assemble
    from apps.documents.extraction import extract

    path = SHARED_DATA / entry["file"]
    started = time.perf_counter()
    pages = [{"number": p.number, "text": p.text} for p in extract(path, filename=path.name, ocr=False).pages]
    extracted = time.perf_counter()
    proposals = propose_deliberations(pages)
    found_date = session_date(assemble(pages))
    done = time.perf_counter()
    expected = entry["deliberations"]
    pairs = match(expected, proposals)
    result = {
        "file": path.name,
        "split": entry["split"],
        "expected": len(expected),
        "proposed": len(proposals),
        "matched": len(pairs),
        "date_ok": str(found_date) == entry["date"],
        "extract_s": extracted - started,
        "rules_s": done - extracted,
        "decisions_ok": 0,
        "votes": {"stated": [0, 0], "derived": [0, 0]},
    }
    for i, j in pairs:
        want, got = expected[i], proposals[j]
        result["decisions_ok"] += DECISIONS.get(got.decision, got.decision) == want["decision"]
        if want["votes"] is not None:
            kind = "stated" if want["stated"] else "derived"
            result["votes"][kind][1] += 1
            result["votes"][kind][0] += [got.vote_pour, got.vote_contre, got.vote_abstention] == want["votes"]
    if show:
        _show(expected, proposals, pairs)
    return result


def _show(expected, proposals, pairs) -> None:
    matched = dict(pairs)
    for i, want in enumerate(expected):
        got = proposals[matched[i]] if i in matched else None
        votes = [got.vote_pour, got.vote_contre, got.vote_abstention] if got else None
        flag = "  " if got and (want["votes"] is None or votes == want["votes"]) else "!!"
        print(
            f"   {flag} {want['objet'][:60]:<60} {want['votes']} -> "
            f"{(got.objet[:50] + ' ' + str(votes)) if got else 'MISSED'}"
        )
    for j, proposal in enumerate(proposals):
        if j not in matched.values():
            print(f"   ++ extra: {proposal.objet[:80]} ({proposal.decision})")


def summary(rows: list[dict], title: str) -> None:
    if not rows:
        return
    expected, proposed, matched = (sum(r[k] for r in rows) for k in ("expected", "proposed", "matched"))
    stated = [sum(r["votes"]["stated"][k] for r in rows) for k in (0, 1)]
    derived = [sum(r["votes"]["derived"][k] for r in rows) for k in (0, 1)]
    seconds = sum(r["rules_s"] for r in rows)
    print(
        f"{title}: {len(rows)} files, {expected} deliberations annotated, {proposed} proposed, {matched} matched — "
        f"precision {matched / max(proposed, 1):.1%}, recall {matched / max(expected, 1):.1%}; "
        f"decision right {sum(r['decisions_ok'] for r in rows)}/{matched}; "
        f"votes exact: stated {stated[0]}/{stated[1]}, derived {derived[0]}/{derived[1]}; "
        f"dates {sum(r['date_ok'] for r in rows)}/{len(rows)}; "
        f"rules {1000 * seconds / len(rows):.0f} ms per document"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["dev", "heldout"])
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--json", type=Path, help="write the per-file figures there")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()  # settings only: no database is touched
    entries = [e for e in json.loads(ANNOTATIONS.read_text())["files"] if args.split in (None, e["split"])]
    rows = []
    print(
        f"{'file':<62} {'split':<8} {'exp':>4} {'prop':>4} {'match':>5} {'P':>6} {'R':>6} {'votes ok':>9} "
        f"{'date':>5} {'pdf/txt s':>9} {'rules ms':>8}"
    )
    for entry in entries:
        row = evaluate(entry, args.show)
        rows.append(row)
        votes = [row["votes"]["stated"][k] + row["votes"]["derived"][k] for k in (0, 1)]
        print(
            f"{row['file'][:62]:<62} {row['split']:<8} {row['expected']:>4} {row['proposed']:>4} "
            f"{row['matched']:>5} {row['matched'] / max(row['proposed'], 1):>6.1%} "
            f"{row['matched'] / max(row['expected'], 1):>6.1%} {votes[0]:>4}/{votes[1]:<4} "
            f"{'ok' if row['date_ok'] else 'NO':>5} {row['extract_s']:>9.2f} {1000 * row['rules_s']:>8.0f}"
        )
    print()
    for split in ("dev", "heldout"):
        summary([r for r in rows if r["split"] == split], f"{split:>7}")
    summary(rows, "    all")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
