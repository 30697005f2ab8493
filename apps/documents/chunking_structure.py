"""The structure of French council minutes and délibérations, read line by line: what each line is
(heading, visa, considérant, article, decision, vote, page furniture), the sections the headings open,
and the units never cut in the middle. `chunking` packs these units into chunks."""

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

MAX_HEADING_CHARS = 200
MAX_HEADING_LINES = 6

_DASHES = "–—"  # en and em dashes
_QUOTES = "'’"  # straight and typographic apostrophes

_UPPER_RE = re.compile(r"[A-ZÀ-ÖØ-ÞŒ]")
_LOWER_RE = re.compile(r"[a-zß-öø-ÿœ]")


# --- lines and what they are ------------------------------------------------------------------------

TEXT, HEADING, VISA, CONSIDERANT, ARTICLE, DECISION, VOTE, BULLET = (
    "text", "heading", "visa", "considerant", "article", "decision", "vote", "bullet",
)  # fmt: skip
HEADER, FOOTER = "header", "footer"  # running page furniture, transparent to the structure

# Heading ranks, strongest first. A heading closes the open headings from its own family (numbering
# style) down; an agenda item or an "Objet :" also closes the weaker ones open; any other heading
# nests under the open ones ("2017.07.04 - 3" › "A) Subventions" › "1) Le principe").
SESSION_ITEM, OBJET, NUMBERED, LETTERED, UPPERCASE = range(5)

_SESSION_ITEM_RE = re.compile(
    # "2017.07.04 - 2", read through OCR ("2018.06.26-I", "20l6.07.04'l2")
    rf"^[\dlIO]{{4}}\s*[.\-/]\s*[\dlIO]{{2}}\s*[.\-/]\s*[\dlIO]{{2}}\s*[-{_DASHES}{_QUOTES}]\s*(?:[\dlI]{{1,3}}|[sS])"
    r"(?:\s?[A-Z])?\b"
    # "QUESTION No 2", "Point n°3 – Travaux", "DÉLIBÉRATION N° 2021-12"
    r"|^(?:Question|QUESTION|Point|POINT|Affaire|AFFAIRE|Dossier|DOSSIER|D[ée]lib[ée]ration|D[ÉE]LIB[ÉE]RATION)"
    rf"\s*(?:[nN]\s*[°oO.º]\s*|num[ée]ro\s*)?[lI]?\d[\w-]*(?=\s*(?:$|[-{_DASHES}:.)]?\s+\S))"
)
_OBJET_RE = re.compile(r"^objet\s*:", re.IGNORECASE)
_NUMBERED_RE = re.compile(rf"^(\d{{1,2}}|[IVX]{{1,4}})\s*([.)/]|[-{_DASHES}](?=\s)|(?<=[IVX])\s(?=[A-Z]))\s*(.*)$")
_LETTERED_RE = re.compile(rf"^([A-H])\s*([)/]|[-{_DASHES}](?=\s))\s*(.+)$")
_VOTE_RES = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^(?:pour|contre|abstentions?|votants|exprim[ée]s|(?:nombre de )?suffrages exprim[ée]s)\s*:?\s*\d+",
        r"^\d+\s+(?:votes?\s+|voix\s+)?(?:pour|contre|abstentions?)\b",  # "13 votes pour", "15 pour."
        rf"^(?:adopt|approuv|accept|rejet)[ée]+e?s?\s+(?:à|a)\s+l[{_QUOTES}]\s*(?:unanimit|majorit)",
        rf"^(?:à|a)\s+l[{_QUOTES}]\s*unanimit",
        r"^(?:le conseil municipal|apr[èe]s (?:en avoir )?d[ée]lib[ée]r[ée]|apr[èe]s d[ée]bat)"
        r".{0,120}\b(?:unanimit|majorit|accepte|adopte|approuve\b|refuse|rejette|abstien|(?:prend|pris|donn[ée]) acte)",
    )
]
# "LE CONSEIL MUNICIPAL, A L'UNANIMITE, ACCEPTE CETTE PROPOSITION" and its OCR variants
_CAPITAL_VOTE_RE = re.compile(
    r"^LE CONSEIL MUNICIPAL\b|UNANIM|MAJORIT|\bACCEP(?!TATION)|\bADOPT[EÉ]|ABSTIEN|\bREFUS[EÉ]|\bREJET"
    r"|\b(?:PREND|PRIS|DONN[EÉ]) ACTE\b"
)
_DECISION_RE = re.compile(
    r"^(?:(?:le conseil|apr[èe]s)\b.{0,100}\b)?(?:d[ée]lib[èée]re|d[ée]cide|arr[êe]te)\s*:?$", re.IGNORECASE
)
_VISA_RE = re.compile(r"^vus?\b", re.IGNORECASE)
_CONSIDERANT_RE = re.compile(r"^(?:consid[ée]rant|attendu que)\b", re.IGNORECASE)
_ARTICLE_RE = re.compile(rf"^(?:Article|ARTICLE|Art\.)\s*(?:\d+|1er|premier|PREMIER|[IVX]+)\s*(?:[:.\-{_DASHES})]|$)")
_BULLET_RE = re.compile(rf"^(?:[-{_DASHES}•●▪◦*»·]|\d{{1,2}}\s*°\s*\)?|\d{{1,2}}\s*[-).]|[a-z]\))")
_PAGE_NUMBER_RE = re.compile(r"^(?:page\s*)?\d{1,3}(?:\s*(?:/|sur)\s*\d{1,3})?$", re.IGNORECASE)
SENTENCE_END = (".", "!", "?", ";", ":", "…")


@dataclass
class Line:
    text: str
    page: int
    blank_before: bool = False
    kind: str = TEXT
    rank: int = 0  # headings only
    family: str = ""  # headings only: the numbering style ("date", "question", "arabic/", "upper"…)
    bare: bool = False  # a heading marker with its title on the next line ("QUESTION No 2")
    joins_previous: bool = False  # a piece of the same source line as the line before it
    cost: int = 0  # estimated tokens in hundredths, set by `chunking`


@dataclass
class Unit:
    kind: str
    lines: list[Line] = field(default_factory=list)
    glue_next: bool = False


def _is_upper(text: str, min_letters: int = 2) -> bool:
    """Written in capitals (a few letters lowered by OCR tolerated)."""
    upper, lower = len(_UPPER_RE.findall(text)), len(_LOWER_RE.findall(text))
    return upper + lower >= min_letters and upper >= 0.85 * (upper + lower)


def _title_like(rest: str, separator: str, next_line: Line | None, *, lettered: bool = False) -> bool:
    """After "3." or "B)": a short title, not the first line of a numbered sentence."""
    if not rest or not (rest[0].isupper() or rest[0] in "«\"'"):
        return False
    if rest[-1] in ",;«(" or len(rest) > (160 if separator == "/" or lettered else 100):
        return False
    if separator == "/" or lettered:
        return True  # "3/ Délibération …", "B) Mise en place …": never list items in these documents
    wrapped = next_line is not None and not next_line.blank_before and next_line.text[:1].islower()
    return ", " not in rest and len(rest.split()) <= 12 and not wrapped


def _capital_title(line: Line, previous: Line | None) -> bool:
    """A short line in capitals that stands apart: capitals inside a run of capitals are a list or a table."""
    text = line.text
    if not _is_upper(text, 8) or ", " in text or text.endswith((",", ";")) or len(text) > 120:
        return False
    if " " not in text and len(text) < 12:
        return False
    apart = line.blank_before or previous is None or previous.text.endswith(SENTENCE_END)
    return apart or previous.kind in (HEADING, VOTE)


def _vote_goes_on(line: Line, previous: Line | None) -> bool:
    """The second line of a vote written in capitals that wrapped at the margin."""
    if previous is None or previous.kind != VOTE or previous.text.endswith(SENTENCE_END):
        return False
    return _is_upper(line.text) and (not line.blank_before or len(previous.text) >= 80)


def _classify(line: Line, previous: Line | None, next_line: Line | None) -> None:
    text = line.text
    if match := _SESSION_ITEM_RE.match(text):
        line.kind, line.rank, line.bare = HEADING, SESSION_ITEM, not text[match.end() :].strip(f" :-.{_DASHES}")
        line.family = "date" if text[0].isdigit() else text.split(None, 1)[0].lower()
    elif any(regex.match(text) for regex in _VOTE_RES) or (_CAPITAL_VOTE_RE.search(text) and _is_upper(text, 10)):
        line.kind = VOTE
    elif _OBJET_RE.match(text):
        line.kind, line.rank, line.family, line.bare = HEADING, OBJET, "objet", not text.split(":", 1)[1].strip()
    elif (match := _NUMBERED_RE.match(text)) and _title_like(match[3], match[2], next_line):
        style = "arabic" if match[1][0].isdigit() else "roman"
        line.kind, line.rank, line.family = HEADING, NUMBERED, style + match[2].strip()
    elif (match := _LETTERED_RE.match(text)) and _title_like(match[3], match[2], next_line, lettered=True):
        line.kind, line.rank, line.family = HEADING, LETTERED, "letter" + match[2].strip()
    elif _vote_goes_on(line, previous):
        line.kind = VOTE
    elif len(text) <= 120 and _DECISION_RE.match(text):
        line.kind = DECISION
    elif _VISA_RE.match(text):
        line.kind = VISA
    elif _CONSIDERANT_RE.match(text):
        line.kind = CONSIDERANT
    elif _ARTICLE_RE.match(text):
        line.kind = ARTICLE
    elif _BULLET_RE.match(text):
        line.kind = BULLET
    elif _capital_title(line, previous):
        line.kind, line.rank, line.family = HEADING, UPPERCASE, "upper"


def read_lines(pages: list[tuple[int, str]]) -> list[Line]:
    """Non-blank lines, whitespace collapsed, each knowing its page and kind."""
    per_page: list[list[Line]] = []
    for number, text in pages:
        lines, blank = [], True
        for raw in (text or "").splitlines():
            collapsed = " ".join(raw.split())
            if collapsed:
                lines.append(Line(collapsed, number, blank_before=blank))
            blank = not collapsed
        per_page.append(lines)
    flat = [line for lines in per_page for line in lines]
    for index, line in enumerate(flat):
        _classify(line, flat[index - 1] if index else None, flat[index + 1] if index + 1 < len(flat) else None)
    _mark_furniture(per_page)
    return flat


def _mark_furniture(per_page: list[list[Line]]) -> None:
    """Page numbers, and lines repeated at the edge of three pages or more, are headers and footers:
    kept in the text, but they no longer break a run of visas or a paragraph across a page."""

    def key(line: Line) -> str:
        return re.sub(r"[\W\d_]+", "#", line.text.lower())

    edges = [(lines[:2], lines[-2:]) for lines in per_page]
    seen = Counter(k for top, bottom in edges for k in {key(line) for line in top + bottom})
    for top, bottom in edges:
        for group, kind in ((bottom, FOOTER), (top, HEADER)):
            for line in group:
                running = seen[key(line)] >= 3 and len(line.text) <= 60
                if line.kind in (TEXT, BULLET) and (running or _PAGE_NUMBER_RE.match(line.text)):
                    line.kind = kind


# --- sections ---------------------------------------------------------------------------------------


def _heading_end(lines: list[Line], start: int) -> int:
    """Index after the heading starting at `start`: its title line and its wrapped continuations."""
    end, first = start + 1, lines[start]
    while end < len(lines) and end - start < MAX_HEADING_LINES:
        line = lines[end]
        if line.kind in (HEADER, FOOTER, VOTE):
            break
        title = end == start + 1 and first.bare and line.kind in (TEXT, HEADING) and len(line.text) <= 150
        dash_led = line.kind == BULLET and not lines[end - 1].text.endswith(":")  # "– BUDGET ANNEXE", not a list
        plain = line.kind == TEXT or dash_led or (line.kind == HEADING and line.rank == UPPERCASE)
        capitals = plain and _is_upper(line.text)
        wrapped = not line.blank_before and line.text[:1].islower() and not lines[end - 1].text.endswith(SENTENCE_END)
        if not (title or capitals or wrapped):
            break
        end += 1
    return end


def _only_titles(lines: list[Line]) -> bool:
    """Page furniture and at most two short lines that are no sentence and no vote."""
    content = [x for x in lines if x.kind not in (HEADER, FOOTER)]
    return len(content) <= 2 and all(
        x.kind in (TEXT, HEADING) and len(x.text) <= 80 and not x.text.endswith((".", ";")) for x in content
    )


def _heading_blocks(lines: list[Line]) -> dict[int, int]:
    """start -> end of each heading, except tables of contents: three headings or more of one family
    with nothing but short titles between them list the agenda, they do not open it."""
    blocks, index = [], 0
    while index < len(lines):
        if lines[index].kind == HEADING:
            blocks.append((index, _heading_end(lines, index)))
            index = blocks[-1][1]
        else:
            index += 1
    kept: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    for block in [*blocks, None]:
        same_family = run and block and lines[block[0]].family == lines[run[0][0]].family
        listed = {lines[start].text.lower() for start, _ in run}  # an entry coming back: the items begin
        if same_family and lines[block[0]].text.lower() not in listed and _only_titles(lines[run[-1][1] : block[0]]):
            run.append(block)
            continue
        if len(run) >= 3:
            for line in (line for start, end in run for line in lines[start:end]):
                line.kind = TEXT
        else:
            kept += run
        run = [block] if block else []
    return dict(kept)


def split_sections(lines: list[Line]) -> list[tuple[list[str], list[Line]]]:
    """(heading path, lines) per section; a heading's own lines open its section."""
    sections: list[tuple[list[str], list[Line]]] = [([], [])]
    open_headings: list[tuple[str, int, str]] = []  # (family, rank, title)
    blocks = _heading_blocks(lines)
    index = 0
    while index < len(lines):
        if index not in blocks:
            sections[-1][1].append(lines[index])
            index += 1
            continue
        end, rank, family = blocks[index], lines[index].rank, lines[index].family
        title = " ".join(x.text for x in lines[index:end])
        if len(title) > MAX_HEADING_CHARS:
            title = title[:MAX_HEADING_CHARS].rsplit(" ", 1)[0] + "…"
        families = [f for f, _, _ in open_headings]
        if family in families:
            del open_headings[families.index(family) :]
        while rank <= OBJET and open_headings and open_headings[-1][1] > rank:
            open_headings.pop()
        open_headings.append((family, rank, title))
        for line in lines[index:end]:
            line.kind = HEADING
        header: list[Line] = []  # a page header just before a heading belongs to the heading's page
        while sections[-1][1] and sections[-1][1][-1].kind == HEADER:
            header.insert(0, sections[-1][1].pop())
        sections.append(([t for _, _, t in open_headings], header + lines[index:end]))
        index = end
    # A section that is only its heading joins the next one when that is its sub-item.
    folded: list[tuple[list[str], list[Line]]] = []
    sections = [section for section in sections if section[1]]
    for index, (path, lines_) in enumerate(sections):
        following = sections[index + 1] if index + 1 < len(sections) else None
        bare = all(line.kind in (HEADING, HEADER, FOOTER) for line in lines_)
        if bare and following and len(following[0]) > len(path) and following[0][: len(path)] == path:
            sections[index + 1] = (following[0], lines_ + following[1])
        else:
            folded.append((path, lines_))
    return folded


# --- units: what is never cut -----------------------------------------------------------------------


def _continues(unit: Unit, line: Line) -> bool:
    last = next((x for x in reversed(unit.lines) if x.kind not in (HEADER, FOOTER)), unit.lines[-1])
    if unit.kind == HEADING:
        return False
    if last.kind == VOTE:  # a vote in capitals wrapped on two lines
        return line.kind == TEXT and _is_upper(line.text) and len(line.text) <= 60
    if line.kind in (VISA, CONSIDERANT):
        return unit.kind == line.kind  # a run of visas, a run of considérants
    if line.kind in (ARTICLE, DECISION, HEADING):
        return False
    if unit.kind in (ARTICLE, DECISION):
        return True  # an article, the decision: up to the next structural line
    if line.kind == BULLET:
        return False
    if line.text[:1].islower():
        return True  # a sentence going on, even past a blank line or a page break
    return not line.blank_before and not last.text.endswith(SENTENCE_END)


def group_units(lines: list[Line]) -> list[Unit]:
    """A section's lines grouped into units, split only when one alone exceeds the budget."""
    units: list[Unit] = []
    waiting: list[Line] = []  # a page header goes with what follows it
    for line in lines:
        if line.kind == FOOTER and units:
            units[-1].lines.append(line)
        elif line.kind in (HEADER, FOOTER):
            waiting.append(line)
        elif units and (line.kind == VOTE or (line.kind == HEADING and units[-1].kind == HEADING)):
            units[-1].lines += [*waiting, line]  # a vote closes the block before it
            waiting = []
        elif units and _continues(units[-1], line):
            units[-1].lines += [*waiting, line]
            waiting = []
        else:
            units.append(Unit(line.kind, [*waiting, line]))
            waiting = []
    if waiting and units:
        units[-1].lines += waiting
    elif waiting:
        units.append(Unit(TEXT, waiting))
    for unit, following in itertools.pairwise(units):
        last = unit.lines[-1]
        unit.glue_next = (
            unit.kind in (HEADING, DECISION)
            or (unit.kind == ARTICLE and following.kind == ARTICLE)
            or (last.text.endswith(":") and last.kind != VOTE)  # an introduction and what it introduces
        )
    return units
