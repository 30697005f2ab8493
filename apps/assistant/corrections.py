"""Spelling corrections as separate changes the agent accepts or rejects one by one: word-level
differences between a text and its corrected version, with exact character offsets in the original."""

import re
from difflib import SequenceMatcher

# Words, runs of whitespace, single punctuation marks: joined back, the tokens give the text exactly.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def diff(original: str, corrected: str) -> list[dict]:
    """Changes turning `original` into `corrected`: [{"id", "start", "end", "before", "after"}], where
    original[start:end] == before, ids numbered from 1 in reading order, touching changes merged."""
    changes: list[dict] = []
    # Lines first, then words within the lines that differ: a long text stays fast to compare.
    a_lines, b_lines = original.splitlines(keepends=True), corrected.splitlines(keepends=True)
    starts = _offsets(a_lines)
    matcher = SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:  # the usual case: each line corrected in place
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                changes += _word_changes(a_lines[i], b_lines[j], starts[i])
        else:
            changes += _word_changes("".join(a_lines[i1:i2]), "".join(b_lines[j1:j2]), starts[i1])
    merged = _merge(original, changes)
    return [{"id": n} | change for n, change in enumerate(merged, start=1)]


def apply(original: str, changes: list[dict], accepted_ids) -> str:
    """The original text with only the accepted changes made (ids compared as strings, so ids read
    back from a form work too). Raises ValueError when a change does not fit the original."""
    accepted = {str(i) for i in accepted_ids}
    out, position = [], 0
    for change in sorted(changes, key=lambda c: (c["start"], c["end"])):
        if str(change["id"]) not in accepted:
            continue
        start, end = change["start"], change["end"]
        if start < position or original[start:end] != change["before"]:
            raise ValueError(f"change {change['id']} does not match the original text")
        out += [original[position:start], change["after"]]
        position = end
    out.append(original[position:])
    return "".join(out)


def _offsets(pieces: list[str]) -> list[int]:
    """Start offset of each piece, and the end of the last one."""
    offsets = [0]
    for piece in pieces:
        offsets.append(offsets[-1] + len(piece))
    return offsets


def _word_changes(a: str, b: str, base: int) -> list[dict]:
    """Raw changes between two pieces of text, each with the span the agent will see: a bare insertion
    (a missing space or comma) is hard to see and to judge, so its span takes in the word it sticks to."""
    a_tokens, b_tokens = _TOKEN.findall(a), _TOKEN.findall(b)
    starts = _offsets(a_tokens)
    changes = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a_tokens, b_tokens, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        start, end = base + starts[i1], base + starts[i2]
        shown = (start, end)
        if start == end and i2 < len(a_tokens):
            shown = (start, end + len(a_tokens[i2]))
        elif start == end and i1 > 0:
            shown = (start - len(a_tokens[i1 - 1]), end)
        changes.append({"start": start, "end": end, "after": "".join(b_tokens[j1:j2]), "shown": shown})
    return changes


def _merge(original: str, changes: list[dict]) -> list[dict]:
    """One change per group of raw changes whose spans overlap or touch: judged together."""
    groups: list[list[dict]] = []
    for change in sorted(changes, key=lambda c: (c["shown"], c["start"])):
        if groups and change["shown"][0] <= max(c["shown"][1] for c in groups[-1]):
            groups[-1].append(change)
        else:
            groups.append([change])
    merged = []
    for group in groups:
        start, end = min(c["shown"][0] for c in group), max(c["shown"][1] for c in group)
        pieces, position = [], start
        for change in sorted(group, key=lambda c: (c["start"], c["end"])):
            pieces += [original[position : change["start"]], change["after"]]
            position = change["end"]
        pieces.append(original[position:end])
        if (after := "".join(pieces)) != original[start:end]:
            merged.append({"start": start, "end": end, "before": original[start:end], "after": after})
    return merged
