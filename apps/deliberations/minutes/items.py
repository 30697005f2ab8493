"""The numbered items of minutes (agenda points: « 1. », « II - », « Point 3 : »…) and their titles, which
become the deliberations' objets; OCR-mangled headings are cleaned."""

import re
from dataclasses import dataclass

from .text import TITLE_CHARS, Text, fold, squash

HEADER_FAMILIES = [
    ("dotted", re.compile(r"^[ \t]*(?:19|20)\d\d\.\d\d\.\d\d[ \t]*[-–—][ \t]*(\d{1,3})\b[ \t]*(.*)$", re.M)),
    ("question", re.compile(r"^[ \t]*question[ \t]*n[ \t]*[o°º][ \t.]*([0-9lio]{1,3})\b[ \t:.-]*(.*)$", re.M)),
    ("deliberation", re.compile(r"^[ \t]*deliberation[ \t]*n[ \t]*[o°º][ \t.]*([\w./-]{1,20})[ \t:.–-]*(.*)$", re.M)),
    ("objet", re.compile(r"^[ \t]*()objet[ \t]*:[ \t]*(\S.*)$", re.M)),
    ("numbered", re.compile(r"^[ \t]*(\d{1,2})[ \t]*[/).-](?![\d.])[ \t]*([a-z].*)$", re.M)),
    ("roman", re.compile(r"^[ \t]*([ivx]{1,5})[ \t]*[/).-]?[ \t]+([a-z].*)$", re.M)),
]
_CONNECTOR = re.compile(r"(?:de|du|des|d'|et|a|au|aux|la|le|les|en|pour|sur|par)\s")  # « DU REMPART… » goes on
FOOTER = re.compile(r"^\s*(?:cm\s*[-–]|\d+\s*$|page\s+\d+)")
_DANGLING = re.compile(r"\b(?:a|a la|au|aux|de|de la|des|du|d'|et|en|la|le|les|l'|pour|sur|par)\s*$")


@dataclass
class Item:
    start: int
    end: int
    number: str
    title: str
    title_end: int


def find_items(text: Text, decisions: list) -> list[Item]:
    """Items of the family of headers that holds the most decisions (dotted numbers at Avranches,
    « 1/ » or roman numbers at Couthenans…); an agenda listed twice is harmless: items without a
    decision give no proposal."""
    best, best_score = [], 0
    for family, pattern in HEADER_FAMILIES:
        matches = [m for m in pattern.finditer(text.folded) if len(re.findall(r"[a-z]", m.group(0))) >= 3]
        if len(matches) < 2 and family not in ("dotted", "objet", "deliberation"):
            continue
        items = [
            _item(text, family, m, matches[i + 1].start() if i + 1 < len(matches) else len(text.folded))
            for i, m in enumerate(matches)
        ]
        score = sum(1 for item in items if any(item.start <= d.start < item.end for d in decisions))
        if score > best_score:
            best, best_score = items, score
    return best


def _item(text: Text, family: str, match: re.Match, end: int) -> Item:
    number = (
        match.group(1).replace("l", "1").replace("i", "1").replace("o", "0")
        if family == "question"
        else match.group(1).upper()
        if family == "roman"
        else match.group(1)
    )
    lines, position = [], match.start(2)
    first = text.raw[match.start(2) : match.end(2)].strip()
    if family == "dotted" and re.fullmatch(r"(?i)(bis|ter)?\s*", first):
        number, first = f"{number} {first.lower()}".strip(), ""
    if first:
        lines.append(first)
    position = match.end(2)
    blanks = 0
    while position < end and len(lines) < 4:
        line_end = text.raw.find("\n", position + 1)
        line_end = end if line_end < 0 or line_end > end else line_end
        line = text.raw[position:line_end].strip()
        folded_line = text.folded[position:line_end].strip()
        if not line:
            blanks += 1
            if blanks > 2:
                break
        elif _continues_title(line, folded_line, lines, family, blanks):
            if family == "dotted" and not lines and re.fullmatch(r"(?i)bis|ter", line):
                number = f"{number} {line.lower()}"
            else:
                lines.append(line)
            blanks = 0
        else:
            break
        position = line_end
    title = ocr_cleaned(squash(" ".join(lines))).strip(" :.-–")[:TITLE_CHARS]
    return Item(start=match.start(), end=end, number=number, title=title, title_end=position)


def ocr_cleaned(title: str) -> str:
    """« POLIT?QUE D'lNSERTION » → « POLITIQUE D'INSERTION »: slips of this corpus' OCR inside capitals."""
    title = re.sub(r"(?<=[A-Z])\?(?=[A-Z])", "I", title)
    return re.sub(r"(?<![A-Za-z])l(?=[A-Z]{2})", "I", title)


def _continues_title(line: str, folded_line: str, lines: list[str], family: str, blanks: int) -> bool:
    if FOOTER.match(folded_line) or folded_line.startswith(("rapporteur", "-", "•")):
        return False
    if not lines:
        return True
    letters = [c for c in line if c.isalpha()]
    upper = len(letters) >= 3 and sum(c.isupper() for c in letters) / len(letters) > 0.85
    unfinished = bool(_DANGLING.search(fold(lines[-1])) or re.search(r"[\d–-]\s*$", lines[-1]))
    if family in ("dotted", "question"):
        previous = [c for c in lines[-1] if c.isalpha()]
        return (
            upper
            and sum(c.isupper() for c in previous) > 0.85 * len(previous)
            and (blanks == 0 or unfinished or bool(_CONNECTOR.match(folded_line)))
        )
    return blanks == 0 and unfinished and len(line) < 120
