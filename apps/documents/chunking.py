"""Cut a document's pages into retrieval chunks that follow the shape of French council minutes and
délibérations: one agenda item per section, and the legal units (visas, considérants, articles, the
decision, the vote) never cut in the middle. Pure Python: the same pages always give the same chunks."""

import math
import re
from dataclasses import dataclass

from .chunking_structure import (
    ARTICLE,
    BULLET,
    CONSIDERANT,
    FOOTER,
    HEADER,
    SENTENCE_END,
    TEXT,
    VISA,
    VOTE,
    Line,
    Unit,
    group_units,
    read_lines,
    split_sections,
)

HEADING_SEPARATOR = " › "
MIN_TAIL_TOKENS = 30  # a last chunk adding less than this joins the previous chunk of its section


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


# --- packing ----------------------------------------------------------------------------------------

_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;…])\s+(?=\S)")


def _cost_of(lines: list[Line]) -> int:
    return sum(line.cost for line in lines)


def _ends_sentence(line: Line) -> bool:
    return line.text.endswith(SENTENCE_END) or line.kind == VOTE


def _split_line(line: Line, budget: int) -> list[Line]:
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
    pieces = [Line(part, line.page, kind=line.kind, joins_previous=True, cost=_cost(part)) for part in parts]
    pieces[0].joins_previous = line.joins_previous
    return pieces


def _split_unit(lines: list[Line], budget: int) -> list[list[Line]]:
    """A unit over budget, cut between sentences (a vote stays with the sentence it closes)."""
    sentences: list[list[Line]] = []
    for line in lines:
        new = not sentences or (
            _ends_sentence(sentences[-1][-1]) and line.kind not in (VOTE, FOOTER) and not line.text[:1].islower()
        )
        if new or line.kind in (VISA, CONSIDERANT, BULLET, ARTICLE):
            sentences.append([line])
        else:
            sentences[-1].append(line)
    pieces: list[list[Line]] = []
    for sentence in sentences:
        if _cost_of(sentence) <= budget:
            pieces.append(sentence)
        else:  # one sentence over budget: between its lines, then inside a line
            for line in sentence:
                pieces += [[line]] if line.cost <= budget else [[part] for part in _split_line(line, budget)]
    packed: list[list[Line]] = []
    for piece in pieces:
        if packed and _cost_of(packed[-1]) + _cost_of(piece) <= budget:
            packed[-1] = packed[-1] + piece
        else:
            packed.append(piece)
    return packed


def _pieces(units: list[Unit], budget: int) -> list[list[Line]]:
    """Glued units travel as one piece when they fit, else in pairs, else alone, else split."""
    groups: list[list[Unit]] = []
    for unit in units:
        if groups and groups[-1][-1].glue_next:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    pieces: list[list[Line]] = []
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


def _overlap(previous: list[Line], budget: int) -> list[Line]:
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
    overlap: list[Line]  # the end of the previous chunk, repeated
    fresh: list[list[Line]]  # the pieces this chunk adds

    @property
    def lines(self) -> list[Line]:
        return self.overlap + [line for piece in self.fresh for line in piece]

    @property
    def fresh_cost(self) -> int:
        return sum(_cost_of(piece) for piece in self.fresh)


def _pack(units: list[Unit], max_tokens: int, overlap_tokens: int) -> list[list[Line]]:
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


def _join(lines: list[Line]) -> str:
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
    document = read_lines(pages)
    for line in document:  # costed here: reading the structure needs no token estimate
        line.cost = _cost(line.text)
    for path, lines in split_sections(document):
        heading = HEADING_SEPARATOR.join(part for part in (title.strip(), *path) if part)
        for chunk_lines in _pack(group_units(lines), max_tokens, overlap_tokens):
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
