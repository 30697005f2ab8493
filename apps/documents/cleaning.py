"""Text cleaning shared by every extraction format: pure functions, no I/O.
Keeps one line per printed line, because the chunker splits on lines like "Article 2 :" or "DÉLIBÈRE"."""

import math
import re
import unicodedata
from collections import Counter

# Lines at the top or bottom of a page that are candidates for running headers and footers.
EDGE_LINES = 3
# A line must sit on this share of pages (and on at least 3 of them) to count as running: a lower bar
# would delete content lines that happen to repeat, such as "13 votes pour" closing two pages.
RUNNING_SHARE = 0.6
RUNNING_MIN_PAGES = 3

_CHAR_MAP = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u2010": "-",
        "\u2011": "-",
        "\t": " ",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u3000": " ",
        **{chr(c): " " for c in range(0x2000, 0x200B)},
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Symbol-font glyphs (Wingdings arrows, bullets) land in the private use area: they carry no text.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_SPACES = re.compile(r" {2,}")
_DASHES = "\u2013\u2014"  # en and em dashes
_SEPARATOR = re.compile(rf"^[\s_=~*·•.\-{_DASHES}]{{3,}}$")

_PAGE_LABEL = re.compile(r"^(page|p\.)\s*\d{1,4}(\s*(/|sur|of)\s*\d{1,4})?$", re.IGNORECASE)
_PAGE_FRACTION = re.compile(r"^(\d{1,4})\s*(/|sur)\s*(\d{1,4})$", re.IGNORECASE)
_BARE_NUMBER = re.compile(rf"^[-{_DASHES}(\[]?\s*(\d{{1,4}})\s*[-{_DASHES})\]]?$")
_PAGE_IN_LINE = re.compile(r"\b(page|p\.)\s*\d{1,4}(\s*(/|sur|of)\s*\d{1,4})?", re.IGNORECASE)

_SUPERSCRIPT = re.compile(r"^(er|ère|re|e|ème|nd|nde)\b(.*)$")
_APOSTROPHES = "'\u2019"
_HYPHEN_END = re.compile(rf"([\w{_APOSTROPHES}-]*\w)-$")
_FIRST_WORD = re.compile(r"^(\w+)")
_WORD = re.compile(r"\w+(?:-\w+)*")

_NUMBERS = {
    "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
    "vingt", "vingts", "trente", "quarante", "cinquante", "soixante", "cent", "cents", "mille",
}  # fmt: skip
# First halves of French compounds: "après-midi", "vis-à-vis", "non-valeur", "procès-verbal".
_COMPOUND_HEADS = _NUMBERS | {
    "à", "après", "au", "aux", "avant", "arrière", "anti", "arc", "bas", "basse", "beau", "belle", "c'est",
    "c\u2019est", "celle", "celles", "celui", "ceux", "chef", "ci", "compte", "contre", "demi", "entre", "est",
    "état", "ex", "extra", "franco", "garde", "grand", "grande", "haut", "haute", "là", "mi", "nord",
    "non", "ouest", "peut", "porte", "post", "procès", "quasi", "rendez", "sans", "semi", "soi", "sous",
    "sud", "sur", "ultra", "vice", "vis", "week",
}  # fmt: skip
# Second halves: enclitic pronouns ("pourra-t-il"), "-ci"/"-là", and common compound tails.
_COMPOUND_TAILS = _NUMBERS | {
    "ce", "ci", "de", "delà", "des", "dessous", "dessus", "dire", "du", "elle", "elles", "en", "eux",
    "être", "il", "ils", "je", "la", "là", "le", "les", "leur", "lui", "même", "mêmes", "midi", "moi",
    "nous", "on", "rendu", "rendus", "t", "toi", "tu", "uns", "unes", "verbal", "verbaux", "vous", "y",
}  # fmt: skip


def clean_text(text: str) -> str:
    """Clean one unpaged text (a DOCX, an HTML page): everything but header/footer removal."""
    return clean_pages([text])[0]


def clean_pages(pages: list[str]) -> list[str]:
    """Clean the pages of one document; running headers and footers are found across pages."""
    normalised = [_normalise(page) for page in pages]
    vocabulary = words_of("\n".join(normalised))
    lines_per_page = strip_running_lines([page.split("\n") for page in normalised])
    return [_tidy(lines, vocabulary) for lines in lines_per_page]


def strip_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers and lines repeated at the top or bottom of most pages.

    Only lines reached from the page edge through other removable lines go, so content that
    repeats ("13 votes pour") survives unless it is itself the outermost line of most pages.
    """
    running = _running_keys(pages) if len(pages) >= RUNNING_MIN_PAGES else set()
    cleaned = []
    for number, lines in enumerate(pages, start=1):
        filled = [i for i, line in enumerate(lines) if line.strip()]
        drop: set[int] = set()
        for edge in (filled[:EDGE_LINES], filled[::-1][:EDGE_LINES]):
            for i in edge:
                if _key(lines[i]) not in running and not is_page_number(lines[i], number):
                    break
                drop.add(i)
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


def is_page_number(line: str, page_number: int) -> bool:
    """'Page 3 / 12' anywhere; '3/12', '- 3 -' or '3' when 3 is the page's position."""
    line = line.strip()
    if _PAGE_LABEL.match(line):
        return True
    if match := _PAGE_FRACTION.match(line):
        return int(match.group(1)) == page_number and page_number <= int(match.group(3))
    match = _BARE_NUMBER.match(line)
    return bool(match) and int(match.group(1)) == page_number


def dehyphenate(lines: list[str], vocabulary: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Join words split across line ends, keeping the hyphen of real compounds (Saint-Étienne).

    `vocabulary` holds the lowercased words of the whole document: a split word usually appears
    whole elsewhere ("délibération"), a compound appears hyphenated ("sapeurs-pompiers").
    """
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        head = _HYPHEN_END.search(previous)
        tail = _FIRST_WORD.match(line)
        if head and tail and line[0].isalpha():
            keep = _keeps_hyphen(head.group(1), tail.group(1), vocabulary)
            out[-1] = previous if keep else previous[:-1]
            out[-1] += line
        else:
            out.append(line)
    return out


def words_of(text: str) -> set[str]:
    """Lowercased words of a text, hyphenated compounds kept whole (the vocabulary for dehyphenate)."""
    return set(_WORD.findall(text.lower()))


def _keeps_hyphen(head: str, tail: str, vocabulary: set[str] | frozenset[str]) -> bool:
    last = re.split(rf"[{_APOSTROPHES}-]", head)[-1].lower()
    joined, hyphenated = f"{last}{tail}".lower(), f"{last}-{tail}".lower()
    if (joined in vocabulary) != (hyphenated in vocabulary):
        return hyphenated in vocabulary
    return (
        tail[0].isupper()
        or tail[0].isdigit()
        or head[-1].isdigit()
        or "-" in head
        or last in _COMPOUND_HEADS
        or head.lower() in _COMPOUND_HEADS
        or tail.lower() in _COMPOUND_TAILS
    )


def join_superscripts(lines: list[str]) -> list[str]:
    """PDF text puts ordinals on their own line ('le 1' / 'er' / 'janvier'): put them back."""
    out: list[str] = []
    glue_next = False
    for line in lines:
        match = _SUPERSCRIPT.match(line)
        if out and out[-1][-1:].isdigit() and match:
            out[-1] += match.group(1) + match.group(2)
            glue_next = not match.group(2).strip()
        elif glue_next and out and line:
            out[-1] += " " + line
            glue_next = False
        else:
            out.append(line)
            glue_next = False
    return out


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_CHAR_MAP)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    # A soft hyphen at a line end is a typographic break; elsewhere it is invisible.
    text = text.replace("\u00ad\n", "").replace("\u00ad", "")
    text = _PRIVATE_USE.sub(" ", _CONTROL.sub("", text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def _tidy(lines: list[str], vocabulary: set[str]) -> str:
    lines = [line for line in lines if not _SEPARATOR.match(line)]
    lines = dehyphenate(join_superscripts(lines), vocabulary)
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):  # at most one blank line in a row, none at the start
            out.append(line)
    return "\n".join(out).strip()


def _running_keys(pages: list[list[str]]) -> set[str]:
    counts: Counter[str] = Counter()
    for lines in pages:
        filled = [line for line in lines if line.strip()]
        counts.update({_key(line) for line in filled[:EDGE_LINES] + filled[-EDGE_LINES:]})
    needed = max(RUNNING_MIN_PAGES, math.ceil(RUNNING_SHARE * len(pages)))
    return {key for key, count in counts.items() if key and count >= needed}


def _key(line: str) -> str:
    """Compare lines ignoring case, spacing and an embedded 'page N / M'."""
    return _PAGE_IN_LINE.sub("page #", " ".join(line.lower().split()))
