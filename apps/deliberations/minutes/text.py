"""Text primitives shared by the minutes rules: pages joined with their offsets, an accent- and
OCR-folded copy of the same length, number words, and the Proposal/Attendance records."""

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

MONTHS = [
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
]
_UNITS = [
    "zero",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
]
NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS)} | {"une": 1, "vingt": 20, "trente": 30, "quarante": 40}
NUMBER_WORDS |= {f"dix-{w}": 10 + i for i, w in enumerate(_UNITS[7:10], 7)}
NUMBER_WORDS |= {f"{t}-{w}": v + i for t, v in (("vingt", 20), ("trente", 30)) for i, w in enumerate(_UNITS[2:10], 2)}
NUMBER_WORDS |= {"vingt-et-un": 21, "vingt et un": 21, "trente-et-un": 31, "trente et un": 31}
EXCERPT_CHARS = 300
TITLE_CHARS = 300
_CIVILITIES = ("madame", "monsieur", "messieurs", "mesdames", "mademoiselle")


@dataclass
class Proposal:
    """One deliberation found in the minutes, for an agent to confirm."""

    objet: str
    decision: str
    excerpt: str
    confidence: float
    page: int | None = None
    number: str = ""  # the item's number as written ("3", "III", "1 bis")
    vote_effectif: int | None = None
    vote_reel: int | None = None
    vote_pour: int | None = None
    vote_contre: int | None = None
    vote_abstention: int | None = None
    votes_derived: bool = False  # counted from attendance and names, not written as numbers
    notes: list[str] = field(default_factory=list)
    source: str = "règles"
    offset: int = 0  # position in the text: orders proposals, places the model's ones

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Attendance:
    exercice: int | None = None
    presents: int | None = None
    pouvoirs: int | None = None
    votants: int | None = None
    by_question: dict[int, int] = field(default_factory=dict)  # voters when members come late or leave proxies

    def at(self, number: str) -> "Attendance":
        """The attendance for one agenda item (« 3 », « 1 bis »): its own count of voters when known."""
        question = int(match.group(0)) if (match := re.match(r"\d+", number or "")) else None
        if question is None or question not in self.by_question:
            return self
        return Attendance(self.exercice, self.presents, self.pouvoirs, self.by_question[question])


@dataclass
class Text:
    """The minutes' pages joined; `folded` is the same text lowercased, without accents and with this
    corpus' OCR slips undone, character for character, so offsets in one are offsets in the other."""

    raw: str
    folded: str
    page_starts: list[tuple[int, int]]

    def page_at(self, offset: int) -> int | None:
        number = None
        for start, page in self.page_starts:
            if start > offset:
                break
            number = page
        return number


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "’‘`´":
        return "'"
    if char in "Ïï":  # this OCR reads T as Ï (« ACCEPÏE »)
        return "t"
    if char.isascii():
        return char.lower()
    base = unicodedata.normalize("NFD", char)[0]
    lowered = (base if base.isascii() else char).lower()
    return lowered if len(lowered) == 1 else char


def fold(text: str) -> str:
    folded = "".join(map(_fold_char, text))
    return re.sub(r"(?<=[a-z])\?(?=[a-z])", "i", folded)  # « MUN?CIPAL »


def assemble(pages) -> Text:
    """pages: a text, or [{"number", "text"}] as stored on Document.pages."""
    if isinstance(pages, str):
        pages = [{"number": 1, "text": pages}]
    parts, starts, offset = [], [], 0
    for page in pages:
        starts.append((offset, page.get("number")))
        chunk = (page.get("text") or "").replace("\x00", "") + "\n\n"
        parts.append(chunk)
        offset += len(chunk)
    raw = "".join(parts)
    return Text(raw=raw, folded=fold(raw), page_starts=starts)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def count_names(fragment: str) -> int:
    """How many people a list such as « MADAME LEROY, MESSIEURS SIRI, HUET ET MADAME SEILLE » names."""
    words = []
    for word in re.split(r"(\W+)", fragment):
        civility = word in ("m", "mm", "mme", "mmes", "mr", "mlle") or (
            len(word) >= 6 and any(SequenceMatcher(None, word, c).ratio() >= 0.6 for c in _CIVILITIES)
        )
        words.append("," if civility else word)
    pieces = re.split(r",|\bet\b|\.(?=\s)|;", "".join(words))
    return sum(1 for piece in pieces if re.search(r"[a-z]{2,}", piece))
