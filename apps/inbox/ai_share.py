"""The « Cette réponse a été facilitée par l'IA à NN % » of a sent citizen reply: the share of its words
that come from the AI draft, by word-level greedy string tiling, greeting and signature left out.

Tiling finds the runs of at least MIN_TILE_WORDS words that the sent body shares with the draft (« tiles »).
tiling-v2 counts a tile only when it is anchored: LONG_TILE_WORDS words or more itself, or starting or ending
within ANCHOR_WINDOW words, in the sent text, of such a long tile. Why: an agent who edits the draft leaves long
untouched stretches, and the short runs that survive the edits (between two retouched words, around a reworded
clause) sit next to them; an agent who writes the reply themselves restates the same facts, « une caution de
500 euros », « au guichet de la police municipale », and those come out as short runs scattered through new text.
tiling-v1 counted every tile and gave 8 to 43 % to such replies (bench/replies, README.md there).

What it costs, measured there: an agent who rewords every sentence while keeping many short phrases is credited
less of the draft than v1 gave (up to 22 points less); and a reply written from scratch that retypes a long
formula (a telephone number with its sentence, « un justificatif de domicile de moins de trois mois ») anchors
the short runs around it, so it is still over-counted. Text alone cannot tell a kept phrase from a retyped one.
"""

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

ALGORITHM_VERSION = "tiling-v2"  # stored with each share: a figure is only comparable with its own version
# Any two replies on the same subject share two-word runs (« votre demande », « la rue »): not the AI's.
MIN_TILE_WORDS = 3
# A shorter tile counts only within ANCHOR_WINDOW words (sent text) of a tile of LONG_TILE_WORDS or more: the
# module docstring says why. Chosen on the bench's tuning set only, where any length from 7 to 15 with any window
# of 15 or more gave the same figures; the held-out set was run once, with these.
LONG_TILE_WORDS = 8
ANCHOR_WINDOW = 20
ROUND_TO = 5  # the figure is a claim made to citizens: rounded down, never up, and no false precision

# A salutation, then at most four words that are names, titles or their articles (« Bonjour Madame Le Goff »,
# « Monsieur le Maire »), then a comma or the end of the line: « Madame Dupont a signalé, hier… » is body text.
_SALUTATION = r"(?:bonjour|bonsoir|cher|chère|chers|chères|madame|monsieur|mesdames|messieurs|mademoiselle|mme|m\.)"
_NAME_OR_TITLE = rf"(?:{_SALUTATION}|(?-i:[A-ZÀ-ÖØ-Þ])[\w'.-]*|le|la|les|de|du|des|et|[ld]'\w+)(?!\w)"
_GREETING = re.compile(
    rf"\A\s*(?:{_SALUTATION}(?!\w)(?:[ \t]+{_NAME_OR_TITLE}){{0,4}}[ \t]*(?:,|$)[ \t]*){{1,2}}",
    re.IGNORECASE | re.MULTILINE,
)
_OBJET = re.compile(r"\A\s*objet\s*:[^\n]*", re.IGNORECASE)
# A closing starts a sentence with one of these: « Je vous remercie cordialement » is body text…
_CLOSING_STARTS = (
    r"(?:bien |très )?cordialement|bien à vous|(?:sincères |meilleures )?salutations|respectueusement"
    r"|veuillez (?:agréer|recevoir)|(?:je vous prie|nous vous prions) de (?:recevoir|croire)|recevez,"
    r"|recevez (?:mes|nos) (?:sincères |meilleures )?salutations|avec (?:mes|nos) (?:sincères |meilleures )?salutations"
    r"|(?:bonne|belle) (?:fin de )?journée"
)
# … or holds, anywhere, words only a closing formula uses (« Restant à votre disposition, je vous prie d'agréer… »).
_CLOSING_HOLDS = (
    r"d'agréer|veuillez agréer|l'expression de (?:mes|nos)|salutations distinguées|l'assurance de (?:ma|notre)"
)
_CLOSING = re.compile(
    rf"(?:^|(?<=[.!?…])[ \t])[ \t]*(?:(?:{_CLOSING_STARTS})(?!\w)|[^.!?\n]*?(?:{_CLOSING_HOLDS}))",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Share:
    percent: int  # what the reply shows, rounded down to ROUND_TO
    covered_words: int  # words of the sent body found in the draft
    counted_words: int  # words of the sent body
    version: str


def body(text: str) -> str:
    """The text without a leading « Objet : » line, the greeting, and the closing formula with all that follows.

    They are left out because the agent changes them at will (a name, « Bien cordialement ») and they say nothing
    of who wrote the answer: counted, a reply entirely rewritten would still score for its « Madame, Monsieur, ».
    """
    text = text.replace("’", "'")  # the patterns are written with ' and agents' editors type either
    text = _GREETING.sub("", _OBJET.sub("", text, count=1), count=1)
    closing = _CLOSING.search(text)
    return text[: closing.start()] if closing else text


def body_words(text: str) -> list[str]:
    """The words of the body as written (’ as '), what `tiles` indexes; a lone dash or « € » is no word."""
    return [word for word in body(text).split() if any(char.isalnum() for char in word)]


def _normalise(word: str) -> str:
    """Compared, « Lundi, » and « lundi » are one word: the agent fixing punctuation or case did not write it."""
    word = unicodedata.normalize("NFKC", word).casefold().replace("’", "'")
    return re.sub(r"^\W+|\W+$", "", word)


def _tile(sent: list[str], draft: list[str], min_words: int) -> list[tuple[int, int, int]]:
    """Greedy string tiling (Wise, 1993) without the Karp-Rabin hashing, which texts of a few hundred words do not
    need: mark the longest common runs of unmarked words on both sides, then the next longest, down to `min_words`.

    Marking is what makes it order-independent yet honest: swapped paragraphs are each found whole, while a draft
    sentence pasted twice counts once. All runs of the longest length are marked in one pass, earliest sent word
    first, then earliest draft word: the same tiles as one run per pass, without the cubic time that a degenerate
    text (a model repeating « de la » a thousand times) would otherwise cost.
    """
    positions = defaultdict(list)
    for j, word in enumerate(draft):
        positions[word].append(j)
    sent_free, draft_free = [True] * len(sent), [True] * len(draft)

    def run_length(i: int, j: int) -> int:
        length = 0
        while (
            i + length < len(sent)
            and j + length < len(draft)
            and sent_free[i + length]
            and draft_free[j + length]
            and sent[i + length] == draft[j + length]
        ):
            length += 1
        return length

    found = []
    while True:
        longest, starts = max(min_words, 1), []
        for i, word in enumerate(sent):
            if not sent_free[i]:
                continue
            for j in positions[word]:
                # A run that could start one word earlier is not maximal: its longer form is measured there.
                if i and j and sent_free[i - 1] and draft_free[j - 1] and sent[i - 1] == draft[j - 1]:
                    continue
                length = run_length(i, j)
                if length > longest:
                    longest, starts = length, []
                if length == longest:
                    starts.append((i, j))
        if not starts:
            return sorted(found)
        for i, j in starts:
            if run_length(i, j) == longest:  # not overlapped by a run marked earlier in this pass
                for k in range(longest):
                    sent_free[i + k] = draft_free[j + k] = False
                found.append((i, j, longest))


def _anchored(found: list[tuple[int, int, int]], long_words: int, window: int) -> list[tuple[int, int, int]]:
    """The tiles of `long_words` words or more, and the shorter ones that start or end within `window` sent words
    of one of them."""
    spans = [(i, i + length) for i, _, length in found if length >= long_words]
    return [
        (i, j, length)
        for i, j, length in found
        if length >= long_words or any(start - (i + length) <= window and i - end <= window for start, end in spans)
    ]


def tiles(
    draft: str,
    sent: str,
    *,
    min_words: int = MIN_TILE_WORDS,
    long_words: int = LONG_TILE_WORDS,
    window: int = ANCHOR_WINDOW,
) -> list[tuple[int, int, int]]:
    """The runs of the sent body counted as the draft's, as (sent start, draft start, length) in `body_words`
    indices, in sent order: what a view highlights as the AI's words. `long_words` ≤ `min_words` counts every
    tile: tiling-v1."""
    normalised = [[_normalise(word) for word in body_words(text)] for text in (sent, draft)]
    return _anchored(_tile(*normalised, min_words), long_words, window)


def ai_share(draft: str, sent: str) -> Share:
    """The share of the sent body's words that come from the draft, counted on the sent text (what the citizen
    reads); 0 % for an empty body rather than a division by zero."""
    counted = len(body_words(sent))
    covered = sum(length for _, _, length in tiles(draft, sent))
    percent = covered * 100 // counted // ROUND_TO * ROUND_TO if counted else 0
    return Share(percent=percent, covered_words=covered, counted_words=counted, version=ALGORITHM_VERSION)
