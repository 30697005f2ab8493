"""Long texts cut in parts a model call can take, and the figures a model's text must not invent."""

import re

_BREAKS = ("\n\n", "\n", ". ", " ")


def _cut(text: str, limit: int, floor: int) -> int:
    """Where to cut text[:limit]: after the last paragraph break past `floor`, else a line, a sentence,
    a word; else at `limit`."""
    for mark in _BREAKS:
        at = text.rfind(mark, floor, limit)
        if at > 0:
            return at + len(mark)
    return limit


def split_parts(text: str, max_chars: int) -> list[str]:
    """Consecutive parts of at most `max_chars`, of similar sizes, cut on paragraph boundaries where
    possible; joined back they give the text exactly."""
    parts = []
    while len(text) > max_chars:
        remaining_parts = -(-len(text) // max_chars)
        target = len(text) // remaining_parts
        cut = _cut(text, min(max_chars, target + target // 5), target * 3 // 5)
        parts.append(text[:cut])
        text = text[cut:]
    return [*parts, text] if text else parts


def truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: _cut(text, max_chars, max_chars * 4 // 5)].rstrip()


def groups(texts: list[str], max_chars: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for text in texts:
        if groups[-1] and sum(map(len, groups[-1])) + len(text) > max_chars:
            groups.append([])
        groups[-1].append(text)
    return groups


_NUMBER = re.compile(r"\d+(?:[,.]\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u202f.](?=\d{3}(?!\d))")


def _numbers(text: str) -> set[str]:
    return {n.replace(".", ",").lstrip("0") for n in _NUMBER.findall(_THOUSANDS.sub("", text))}


def unverified_numbers(output: str, *sources: str) -> list[str]:
    """Numbers (amounts, dates, counts) of two digits or more in the output that no source contains:
    the usual sign of an invented or mistyped figure."""
    known = set().union(*(_numbers(source) for source in sources))
    return sorted(n for n in _numbers(output) - known if len(n.split(",")[0]) > 1)
