"""Cut a document's pages into retrieval chunks that follow the shape of French council minutes and
délibérations: one agenda item per section, and the legal units (visas, considérants, articles, the
decision, the vote) never cut in the middle. Pure Python: the same pages always give the same chunks."""

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

HEADING_SEPARATOR = " › "
MIN_TAIL_TOKENS = 30  # a last chunk adding less than this joins the previous chunk of its section
MAX_HEADING_CHARS = 200
MAX_HEADING_LINES = 6

_DASHES = "–—"  # en and em dashes
_QUOTES = "'’"  # straight and typographic apostrophes


@dataclass
class ChunkDraft:
    text: str
    position: int
    pages: list[int]
    heading: str
    token_count: int


# --- token estimate ---------------------------------------------------------------------------------

_WORDS_RE = re.compile(r"[^\W\d_]+")
_CAPITAL_WORDS_RE = re.compile(r"(?<![^\W\d_])[A-ZÀ-ÖØ-ÞŒ]{2,}(?![^\W\d_])")
_NUMBERS_RE = re.compile(r"\d+")
_PUNCTUATION_RUNS_RE = re.compile(r"([^\w\s]|_)\1*")
_UPPER_RE = re.compile(r"[A-ZÀ-ÖØ-ÞŒ]")
_LOWER_RE = re.compile(r"[a-zß-öø-ÿœ]")


def _cost(text: str) -> int:
    """Estimated tokens of `text` in hundredths (integers, so sums over lines are exact).

    A word costs 0.70 + 0.12 a letter; a word in capitals 0.40 + 0.32 a letter (capitals are rare in
    the vocabulary); a number 0.60 + 0.05 a digit; a run of one punctuation mark ("……") 1.25."""
    words, capitals = _WORDS_RE.findall(text), _CAPITAL_WORDS_RE.findall(text)
    numbers = _NUMBERS_RE.findall(text)
    letters, capital_letters = sum(map(len, words)), sum(map(len, capitals))
    return (
        70 * (len(words) - len(capitals))
        + 12 * (letters - capital_letters)
        + 40 * len(capitals)
        + 32 * capital_letters
        + 60 * len(numbers)
        + 5 * sum(map(len, numbers))
        + 125 * sum(1 for _ in _PUNCTUATION_RUNS_RE.finditer(text))
    )


def count_tokens(text: str) -> int:
    """Approximate how many multilingual-e5-small (XLM-R sentencepiece) tokens `text` makes, specials excluded.

    `words * 1.3` is 25% off on council minutes (French runs at ~1.5 tokens a word, capitals and
    OCR noise far more), so each word, number and punctuation run is costed by kind and length
    (see `_cost`). Fitted against the real tokenizer on the Avranches and Couthenans minutes: on
    220-token chunks the estimate is 1.6% high on average, within -9%/+11% for 90% of them.
    """
    return math.ceil(_cost(text) / 100)


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
_SENTENCE_END = (".", "!", "?", ";", ":", "…")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;…])\s+(?=\S)")


@dataclass
class _Line:
    text: str
    page: int
    blank_before: bool = False
    kind: str = TEXT
    rank: int = 0  # headings only
    family: str = ""  # headings only: the numbering style ("date", "question", "arabic/", "upper"…)
    bare: bool = False  # a heading marker with its title on the next line ("QUESTION No 2")
    joins_previous: bool = False  # a piece of the same source line as the line before it
    cost: int = 0


@dataclass
class _Unit:
    kind: str
    lines: list[_Line] = field(default_factory=list)
    glue_next: bool = False


def _is_upper(text: str, min_letters: int = 2) -> bool:
    """Written in capitals (a few letters lowered by OCR tolerated)."""
    upper, lower = len(_UPPER_RE.findall(text)), len(_LOWER_RE.findall(text))
    return upper + lower >= min_letters and upper >= 0.85 * (upper + lower)


def _title_like(rest: str, separator: str, next_line: _Line | None, *, lettered: bool = False) -> bool:
    """After "3." or "B)": a short title, not the first line of a numbered sentence."""
    if not rest or not (rest[0].isupper() or rest[0] in "«\"'"):
        return False
    if rest[-1] in ",;«(" or len(rest) > (160 if separator == "/" or lettered else 100):
        return False
    if separator == "/" or lettered:
        return True  # "3/ Délibération …", "B) Mise en place …": never list items in these documents
    wrapped = next_line is not None and not next_line.blank_before and next_line.text[:1].islower()
    return ", " not in rest and len(rest.split()) <= 12 and not wrapped


def _capital_title(line: _Line, previous: _Line | None) -> bool:
    """A short line in capitals that stands apart: capitals inside a run of capitals are a list or a table."""
    text = line.text
    if not _is_upper(text, 8) or ", " in text or text.endswith((",", ";")) or len(text) > 120:
        return False
    if " " not in text and len(text) < 12:
        return False
    apart = line.blank_before or previous is None or previous.text.endswith(_SENTENCE_END)
    return apart or previous.kind in (HEADING, VOTE)


def _vote_goes_on(line: _Line, previous: _Line | None) -> bool:
    """The second line of a vote written in capitals that wrapped at the margin."""
    if previous is None or previous.kind != VOTE or previous.text.endswith(_SENTENCE_END):
        return False
    return _is_upper(line.text) and (not line.blank_before or len(previous.text) >= 80)


def _classify(line: _Line, previous: _Line | None, next_line: _Line | None) -> None:
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


def _read_lines(pages: list[tuple[int, str]]) -> list[_Line]:
    """Non-blank lines, whitespace collapsed, each knowing its page and kind."""
    per_page: list[list[_Line]] = []
    for number, text in pages:
        lines, blank = [], True
        for raw in (text or "").splitlines():
            collapsed = " ".join(raw.split())
            if collapsed:
                lines.append(_Line(collapsed, number, blank_before=blank))
            blank = not collapsed
        per_page.append(lines)
    flat = [line for lines in per_page for line in lines]
    for index, line in enumerate(flat):
        _classify(line, flat[index - 1] if index else None, flat[index + 1] if index + 1 < len(flat) else None)
        line.cost = _cost(line.text)
    _mark_furniture(per_page)
    return flat


def _mark_furniture(per_page: list[list[_Line]]) -> None:
    """Page numbers, and lines repeated at the edge of three pages or more, are headers and footers:
    kept in the text, but they no longer break a run of visas or a paragraph across a page."""

    def key(line: _Line) -> str:
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


def _heading_end(lines: list[_Line], start: int) -> int:
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
        wrapped = not line.blank_before and line.text[:1].islower() and not lines[end - 1].text.endswith(_SENTENCE_END)
        if not (title or capitals or wrapped):
            break
        end += 1
    return end


def _only_titles(lines: list[_Line]) -> bool:
    """Page furniture and at most two short lines that are no sentence and no vote."""
    content = [x for x in lines if x.kind not in (HEADER, FOOTER)]
    return len(content) <= 2 and all(
        x.kind in (TEXT, HEADING) and len(x.text) <= 80 and not x.text.endswith((".", ";")) for x in content
    )


def _heading_blocks(lines: list[_Line]) -> dict[int, int]:
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


def _sections(lines: list[_Line]) -> list[tuple[list[str], list[_Line]]]:
    """(heading path, lines) per section; a heading's own lines open its section."""
    sections: list[tuple[list[str], list[_Line]]] = [([], [])]
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
        header: list[_Line] = []  # a page header just before a heading belongs to the heading's page
        while sections[-1][1] and sections[-1][1][-1].kind == HEADER:
            header.insert(0, sections[-1][1].pop())
        sections.append(([t for _, _, t in open_headings], header + lines[index:end]))
        index = end
    # A section that is only its heading joins the next one when that is its sub-item.
    folded: list[tuple[list[str], list[_Line]]] = []
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


def _continues(unit: _Unit, line: _Line) -> bool:
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
    return not line.blank_before and not last.text.endswith(_SENTENCE_END)


def _units(lines: list[_Line]) -> list[_Unit]:
    """A section's lines grouped into units, split only when one alone exceeds the budget."""
    units: list[_Unit] = []
    waiting: list[_Line] = []  # a page header goes with what follows it
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
            units.append(_Unit(line.kind, [*waiting, line]))
            waiting = []
    if waiting and units:
        units[-1].lines += waiting
    elif waiting:
        units.append(_Unit(TEXT, waiting))
    for unit, following in itertools.pairwise(units):
        last = unit.lines[-1]
        unit.glue_next = (
            unit.kind in (HEADING, DECISION)
            or (unit.kind == ARTICLE and following.kind == ARTICLE)
            or (last.text.endswith(":") and last.kind != VOTE)  # an introduction and what it introduces
        )
    return units


# --- packing ----------------------------------------------------------------------------------------


def _cost_of(lines: list[_Line]) -> int:
    return sum(line.cost for line in lines)


def _ends_sentence(line: _Line) -> bool:
    return line.text.endswith(_SENTENCE_END) or line.kind == VOTE


def _split_line(line: _Line, budget: int) -> list[_Line]:
    """A single line over budget: its sentences, then windows of whole words."""
    parts: list[str] = []
    for sentence in _SENTENCE_SPLIT_RE.split(line.text):
        window, window_cost = [], 0
        for word in sentence.split(" "):
            if window and window_cost + _cost(word) > budget:  # costs add up across spaces
                parts.append(" ".join(window))
                window, window_cost = [], 0
            window.append(word)
            window_cost += _cost(word)
        parts.append(" ".join(window))
    pieces = [_Line(part, line.page, kind=line.kind, joins_previous=True, cost=_cost(part)) for part in parts]
    pieces[0].joins_previous = line.joins_previous
    return pieces


def _split_unit(lines: list[_Line], budget: int) -> list[list[_Line]]:
    """A unit over budget, cut between sentences (a vote stays with the sentence it closes)."""
    sentences: list[list[_Line]] = []
    for line in lines:
        new = not sentences or (
            _ends_sentence(sentences[-1][-1]) and line.kind not in (VOTE, FOOTER) and not line.text[:1].islower()
        )
        if new or line.kind in (VISA, CONSIDERANT, BULLET, ARTICLE):
            sentences.append([line])
        else:
            sentences[-1].append(line)
    pieces: list[list[_Line]] = []
    for sentence in sentences:
        if _cost_of(sentence) <= budget:
            pieces.append(sentence)
        else:  # one sentence over budget: between its lines, then inside a line
            for line in sentence:
                pieces += [[line]] if line.cost <= budget else [[part] for part in _split_line(line, budget)]
    packed: list[list[_Line]] = []
    for piece in pieces:
        if packed and _cost_of(packed[-1]) + _cost_of(piece) <= budget:
            packed[-1] = packed[-1] + piece
        else:
            packed.append(piece)
    return packed


def _pieces(units: list[_Unit], budget: int) -> list[list[_Line]]:
    """Glued units travel as one piece when they fit, else in pairs, else alone, else split."""
    groups: list[list[_Unit]] = []
    for unit in units:
        if groups and groups[-1][-1].glue_next:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    pieces: list[list[_Line]] = []
    for group in groups:
        lines = [line for unit in group for line in unit.lines]
        if _cost_of(lines) <= budget:
            pieces.append(lines)
            continue
        index = 0
        while index < len(group):
            unit = group[index]
            if unit.glue_next and index + 1 < len(group):
                pair = unit.lines + group[index + 1].lines
                if _cost_of(pair) <= budget:
                    pieces.append(pair)
                    index += 2
                    continue
            pieces += [unit.lines] if _cost_of(unit.lines) <= budget else _split_unit(unit.lines, budget)
            index += 1
    return pieces


def _overlap(previous: list[_Line], budget: int) -> list[_Line]:
    """The longest tail of `previous` within budget (never all of it), starting on a sentence when
    that keeps at least half of what starting on a line would."""
    sentence_start = line_start = len(previous)
    total = 0
    for start in range(len(previous) - 1, 0, -1):
        total += previous[start].cost
        if total > budget:
            break
        if previous[start].joins_previous or previous[start].kind in (VOTE, HEADER, FOOTER):
            continue  # opens on a line, never on a vote or a page footer
        line_start = start
        if _ends_sentence(previous[start - 1]) or previous[start].kind != TEXT:
            sentence_start = start
    if _cost_of(previous[sentence_start:]) * 2 >= _cost_of(previous[line_start:]):
        line_start = sentence_start
    tail = previous[line_start:]
    return tail if any(line.kind not in (HEADER, FOOTER) for line in tail) else []


@dataclass
class _Chunk:
    overlap: list[_Line]  # the end of the previous chunk, repeated
    fresh: list[list[_Line]]  # the pieces this chunk adds

    @property
    def lines(self) -> list[_Line]:
        return self.overlap + [line for piece in self.fresh for line in piece]

    @property
    def fresh_cost(self) -> int:
        return sum(_cost_of(piece) for piece in self.fresh)


def _pack(units: list[_Unit], max_tokens: int, overlap_tokens: int) -> list[list[_Line]]:
    """Greedy packing of one section's units; a new chunk repeats the end of the one before."""
    budget, overlap_budget = max_tokens * 100, overlap_tokens * 100
    chunks: list[_Chunk] = []
    used = 0
    for piece in _pieces(units, budget):
        piece_cost = _cost_of(piece)
        if chunks and used + piece_cost <= budget:
            chunks[-1].fresh.append(piece)
            used += piece_cost
            continue
        overlap = _overlap(chunks[-1].lines, min(overlap_budget, budget - piece_cost)) if chunks else []
        chunks.append(_Chunk(overlap, [piece]))
        used = _cost_of(overlap) + piece_cost
    if len(chunks) >= 2 and chunks[-1].fresh_cost < MIN_TAIL_TOKENS * 100:
        _absorb_tail(chunks, budget, overlap_budget)
    return [chunk.lines for chunk in chunks]


def _absorb_tail(chunks: list[_Chunk], budget: int, overlap_budget: int) -> None:
    """A last chunk adding only a few tokens joins the previous one, which gives up repeating the
    chunk before it as far as needed; failing that it takes whole pieces from the previous one."""
    previous, last = chunks[-2], chunks[-1]
    room = budget - previous.fresh_cost - last.fresh_cost
    if room >= 0:
        overlap = previous.overlap
        if _cost_of(overlap) > room:
            overlap = _overlap(chunks[-3].lines, min(overlap_budget, room)) if len(chunks) >= 3 else []
        chunks[-2:] = [_Chunk(overlap, previous.fresh + last.fresh)]
        return
    while last.fresh_cost < MIN_TAIL_TOKENS * 100 and len(previous.fresh) > 1:
        kept = _Chunk(previous.overlap, previous.fresh[:-1])
        moved = [previous.fresh[-1], *last.fresh]
        moved_cost = sum(_cost_of(piece) for piece in moved)
        if kept.fresh_cost < MIN_TAIL_TOKENS * 100 or moved_cost > budget:
            break
        previous, last = kept, _Chunk(_overlap(kept.lines, min(overlap_budget, budget - moved_cost)), moved)
    chunks[-2:] = [previous, last]


def _join(lines: list[_Line]) -> str:
    return "".join(
        (" " if line.joins_previous else "\n") + line.text if index else line.text for index, line in enumerate(lines)
    )


def chunk_pages(
    pages: list[tuple[int, str]], *, title: str = "", max_tokens: int = 220, overlap_tokens: int = 40
) -> list[ChunkDraft]:
    """Chunks of at most `max_tokens` (as `count_tokens` counts) in reading order, each with its
    heading path ("title › agenda item › sub-item", or the title alone) and the pages it spans.

    Only a single word longer than `max_tokens` makes a longer chunk. Whitespace inside a line is
    collapsed; lines are joined with newlines."""
    if max_tokens < 1 or overlap_tokens < 0:
        raise ValueError("max_tokens must be positive and overlap_tokens not negative")
    drafts: list[ChunkDraft] = []
    for path, lines in _sections(_read_lines(pages)):
        heading = HEADING_SEPARATOR.join(part for part in (title.strip(), *path) if part)
        for chunk_lines in _pack(_units(lines), max_tokens, overlap_tokens):
            drafts.append(
                ChunkDraft(
                    text=_join(chunk_lines),
                    position=len(drafts),
                    pages=sorted({line.page for line in chunk_lines}),
                    heading=heading,
                    token_count=math.ceil(_cost_of(chunk_lines) / 100),  # == count_tokens(text)
                )
            )
    return drafts
