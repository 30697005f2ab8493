"""Does « facilitée par l'IA à NN % » (apps/inbox/ai_share.py) say how much of a sent reply the AI wrote? Scripted
edits of fictitious draft replies, whose true share is known by construction. Needs no database.

    .venv/bin/python bench/replies/ai_share.py            # both sets; exit 1 if the current algorithm is off by > 5
    .venv/bin/python bench/replies/ai_share.py --details  # also the runs counted in the pairs that are off
    .venv/bin/python bench/replies/ai_share.py --sweep    # tiling-v2's two parameters on the tuning set, only there

Two frozen sets (README.md): drafts.json, the tuning set (8 drafts × 10 edits), on which rules and parameters were
chosen, and heldout.json (7 drafts × 10 edits), written before any new rule was tried and run once per rule. The
held-out drafts also carry a hand-written paraphrase of every sentence, a stress case reported apart, outside the gate.

The expected share counts the sent body's words that were draft words, against all its words: greeting, closing
formula and signature are built apart, so the algorithm must find and drop them itself. A word the agent wrote
counts as the agent's even when the draft happened to hold the same three words: that is what the bench measures.
"""

import argparse
import dataclasses
import difflib
import hashlib
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from apps.inbox.ai_share import (
    ALGORITHM_VERSION,
    ANCHOR_WINDOW,
    LONG_TILE_WORDS,
    MIN_TILE_WORDS,
    ai_share,
    body_words,
    tiles,
)

HERE = Path(__file__).parent
# name: (file, SHA-256 when frozen). A changed file is reported: its figures are no longer those of README.md.
SETS = {
    "tuning": ("drafts.json", "02e80793d6bcea09d97600c2a89c137353888052c0250e1d09c37c12bf3d0751"),
    "held-out": ("heldout.json", "4571dca138738049c52a7ea65b586a8f21d13a341c8caea5afb9dc3dd73384e2"),
}
TOLERANCE = 5  # points of percentage: the figure shown is rounded down to 5 anyway

# What an agent's light rewording changes: a phrase for another, never a whole sentence.
RETOUCHES = [
    ("Nous vous remercions de", "Merci pour"),
    ("nous vous invitons à", "vous pouvez"),
    ("Nous avons le plaisir de vous confirmer", "Je vous confirme"),
    ("toutefois", "cependant"),
    ("également", "aussi"),
    ("afin de", "pour"),
    ("notamment", "entre autres"),
    ("en particulier", "surtout"),
    ("particulièrement", "très"),
    ("néanmoins", "quand même"),
    ("sollicité", "demandé"),
    ("uniquement", "seulement"),
    ("régulièrement", "souvent"),
]
OTHER_GREETINGS = [
    "Bonjour Madame Lemoine,",
    "Chère Madame,",
    "Monsieur le Président,",
    "Bonjour,",
    "Madame, Monsieur,",
    "Cher Monsieur Garnier,",
]
OTHER_SIGN_OFFS = [
    "Bien cordialement,\n\nNadia Benali\nAgent d'accueil — Mairie",
    "Veuillez agréer, Madame, Monsieur, l'expression de mes salutations les meilleures.\n\nLe Maire,\nBernard Lefèvre",
    "Bien à vous,\n\nThomas Guérin\nChargé de mission\nTél. 02 99 00 00 00",
    "Je vous prie de recevoir, Madame, Monsieur, mes sincères salutations.\n\nPour le Maire et par délégation,\n"
    "La directrice générale des services,\nIsabelle Caron",
    "Cordialement,\n\nLe service Relations avec les usagers",
    "Avec mes salutations distinguées,\n\nMarie Lambert\nSecrétaire de mairie",
]


@dataclasses.dataclass(frozen=True)
class Reply:
    """A reply as parts, each body segment marked with who wrote it, so that the true share is a count."""

    objet: str
    greeting: str
    paragraphs: tuple[tuple[tuple[str, bool], ...], ...]  # segments: (text, written by the AI)
    sign_off: str  # closing formula and signature
    inline_greeting: bool = False  # « Bonjour Madame, merci pour… » on the first line of the body

    def text(self) -> str:
        body = [" ".join(text for text, _ in paragraph) for paragraph in self.paragraphs if paragraph]
        head = [f"Objet : {self.objet}"] if self.objet else []
        if self.inline_greeting:
            body[0] = f"{self.greeting} {body[0]}"
        else:
            head.append(self.greeting)
        return "\n\n".join([*head, *body, self.sign_off])

    def expected(self) -> float:
        counts = {True: 0, False: 0}
        for paragraph in self.paragraphs:
            for text, by_ai in paragraph:
                counts[by_ai] += len(words(text))
        return 100 * counts[True] / (sum(counts.values()) or 1)


def words(text: str) -> list[str]:
    """Counted the way a reader would: « — » or « : » alone is no word."""
    return [word for word in text.split() if any(char.isalnum() for char in word)]


def as_draft(draft: dict) -> Reply:
    paragraphs = tuple(tuple((sentence, True) for sentence in paragraph) for paragraph in draft["paragraphs"])
    return Reply(draft["objet"], draft["greeting"], paragraphs, "\n\n".join([draft["closing"], *draft["signature"]]))


def sentences(reply: Reply) -> list[tuple[int, int]]:
    return [(p, s) for p, paragraph in enumerate(reply.paragraphs) for s in range(len(paragraph))]


def replace_sentences(reply: Reply, new: dict[tuple[int, int], tuple[tuple[str, bool], ...]]) -> Reply:
    """`new` maps (paragraph, sentence) to what stands there instead: nothing, or other segments."""
    paragraphs = tuple(
        tuple(part for s, segment in enumerate(paragraph) for part in new.get((p, s), (segment,)))
        for p, paragraph in enumerate(reply.paragraphs)
    )
    return dataclasses.replace(reply, paragraphs=tuple(paragraph for paragraph in paragraphs if paragraph))


# --- the edits: each takes the draft data, its Reply and the draft's rank (to vary greetings and sign-offs) ---------


def identical(data, reply, rank):
    return reply


def paragraphs_swapped(data, reply, rank):
    return dataclasses.replace(reply, paragraphs=reply.paragraphs[::-1])


def sentences_deleted(data, reply, rank):
    """30 % of the sentences, spread over the text (every third or so), never the first."""
    positions = sentences(reply)
    count = round(0.3 * len(positions))
    step = len(positions) / count
    return replace_sentences(reply, {positions[int(1 + k * step)]: () for k in range(count)})


def sentences_reworded(data, reply, rank):
    return replace_sentences(reply, {(p, s): ((text, False),) for p, s, text in data["rewrites"]})


def words_retouched(data, reply, rank):
    """The agent's light touch: a phrase swapped for another here and there, the rest of each sentence kept."""
    new = {}
    for position in sentences(reply):
        segments = [reply.paragraphs[position[0]][position[1]]]
        for old, replacement in RETOUCHES:
            for i, (text, by_ai) in enumerate(segments):
                match = re.search(rf"(?<!\w){re.escape(old)}(?!\w)", text) if by_ai else None
                if match:
                    parts = [
                        (text[: match.start()].strip(), True),
                        (replacement, False),
                        (text[match.end() :].strip(), True),
                    ]
                    segments[i : i + 1] = [part for part in parts if part[0]]
                    break
        new[position] = tuple(segments)
    return replace_sentences(reply, new)


def agent_paragraphs_added(data, reply, rank):
    first, last = (((text, False),) for text in data["agent_paragraphs"])
    return dataclasses.replace(reply, paragraphs=(reply.paragraphs[0], first, *reply.paragraphs[1:], last))


def sign_off_changed(data, reply, rank):
    return dataclasses.replace(reply, sign_off=OTHER_SIGN_OFFS[rank % len(OTHER_SIGN_OFFS)])


def greeting_changed(data, reply, rank):
    """Every other draft puts the new greeting on the first line of the body, and the « Objet » line goes."""
    greeting = OTHER_GREETINGS[rank % len(OTHER_GREETINGS)]
    return dataclasses.replace(reply, objet="", greeting=greeting, inline_greeting=rank % 2 == 1)


def written_from_scratch(data, reply, rank):
    paragraphs = tuple(tuple((sentence, False) for sentence in paragraph) for paragraph in data["scratch"])
    return greeting_changed(data, sign_off_changed(data, dataclasses.replace(reply, paragraphs=paragraphs), rank), rank)


def mix(data, reply, rank):
    """What an agent does in one go: one sentence reworded, one deleted, first two paragraphs swapped, a paragraph of
    their own at the end, their own greeting and signature."""
    p, s, text = data["rewrites"][0]
    last = len(reply.paragraphs) - 1
    reply = replace_sentences(reply, {(p, s): ((text, False),), (last, len(reply.paragraphs[last]) - 1): ()})
    first, second, *rest = reply.paragraphs
    reply = dataclasses.replace(reply, paragraphs=(second, first, *rest, ((data["agent_paragraphs"][0], False),)))
    return greeting_changed(data, sign_off_changed(data, reply, rank + 1), rank + 1)


def every_sentence_paraphrased(data, reply, rank):
    """The agent rewords every sentence of the draft in turn, keeping some of its phrases: heldout.json writes each
    paragraph with the kept words in [[…]], marked by one rule (README.md), not by hand."""
    paragraphs = tuple(
        tuple((part.strip(), k % 2 == 1) for k, part in enumerate(re.split(r"\[\[|\]\]", text)) if part.strip())
        for text in data["paraphrase"]
    )
    return dataclasses.replace(reply, paragraphs=paragraphs)


EDITS = {
    "identique": identical,
    "paragraphes permutés": paragraphs_swapped,
    "30 % des phrases supprimées": sentences_deleted,
    "phrases reformulées": sentences_reworded,
    "mots retouchés": words_retouched,
    "paragraphes de l'agent ajoutés": agent_paragraphs_added,
    "signature changée": sign_off_changed,
    "formule d'appel changée": greeting_changed,
    "rédigée par l'agent": written_from_scratch,
    "mélange": mix,
}
# Outside the gate and the counts: only the held-out drafts have it, and its truth is a convention (README.md).
STRESS_EDITS = {"toutes phrases paraphrasées": every_sentence_paraphrased}


# --- measures -------------------------------------------------------------------------------------------------------


def normalised_body(text: str) -> list[str]:
    return [re.sub(r"^\W+|\W+$", "", word.casefold()) for word in body_words(text)]


def tiled_percent(draft: str, sent: str, **options) -> float:
    counted = len(body_words(sent))
    return 100 * sum(length for _, _, length in tiles(draft, sent, **options)) / counted if counted else 0


def difflib_percents(draft: str, sent: str) -> tuple[float, float]:
    """What a diff would say: SequenceMatcher's ratio, and the sent words in its matching blocks. Both follow one
    order, so a moved paragraph is lost for one of the two texts."""
    matcher = difflib.SequenceMatcher(None, normalised_body(draft), normalised_body(sent), autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return 100 * matcher.ratio(), 100 * matched / (len(normalised_body(sent)) or 1)


# Every measure of a pair: (draft text, sent text) -> percent. The current algorithm's is ALGORITHM_VERSION's.
MEASURES: dict[str, Callable[[str, str], float]] = {
    "tiling-v1": lambda draft, sent: tiled_percent(draft, sent, long_words=MIN_TILE_WORDS),
    "tiling-v2": lambda draft, sent: tiled_percent(draft, sent, long_words=LONG_TILE_WORDS, window=ANCHOR_WINDOW),
    "difflib ratio": lambda draft, sent: difflib_percents(draft, sent)[0],
    "difflib blocks": lambda draft, sent: difflib_percents(draft, sent)[1],
}
COLUMNS = {"tiling-v1": "v1", "tiling-v2": "v2", "difflib ratio": "ratio", "difflib blocks": "blocks"}


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion: unlike p ± 1.96·σ, it stays inside [0, 1] and does not collapse
    to a point when every pair passes."""
    if not trials:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclasses.dataclass
class Row:
    draft: str
    edit: str
    expected: float
    computed: dict[str, float]
    shown: int  # what ai_share() shows, with the current algorithm
    stress: bool
    runs: list[str]  # the current algorithm's runs, for --details


def evaluate(drafts: list[dict]) -> list[Row]:
    rows = []
    for rank, data in enumerate(drafts):
        draft = as_draft(data)
        edits = [(name, edit, False) for name, edit in EDITS.items()]
        edits += [(name, edit, True) for name, edit in STRESS_EDITS.items() if "paraphrase" in data]
        for name, edit, stress in edits:
            sent = edit(data, draft, rank)
            draft_text, sent_text = draft.text(), sent.text()
            computed = {label: measure(draft_text, sent_text) for label, measure in MEASURES.items()}
            sent_words = body_words(sent_text)
            runs = [" ".join(sent_words[i : i + n]) for i, _, n in tiles(draft_text, sent_text)]
            shown = ai_share(draft_text, sent_text).percent
            rows.append(Row(data["id"], name, sent.expected(), computed, shown, stress, runs))
    return rows


def summary(label: str, rows: list[Row], measure: str) -> bool:
    diffs = [abs(row.computed[measure] - row.expected) for row in rows]
    within = sum(diff <= TOLERANCE for diff in diffs)
    low, high = wilson(within, len(rows))
    current = " (current)" if measure == ALGORITHM_VERSION else ""
    print(
        f"  {label:<12}{measure + current:<26} max |diff| {max(diffs):5.1f}   within {TOLERANCE} points: "
        f"{within:>2}/{len(rows)}   95 % Wilson [{100 * low:5.1f} %, {100 * high:5.1f} %]"
    )
    return within == len(rows)


def report(name: str, path: Path, frozen_sha: str, details: bool) -> bool:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    drafts = json.loads(path.read_text())
    state = "frozen" if digest == frozen_sha else f"CHANGED since frozen ({frozen_sha[:12]}…)"
    print(f"== {name} set: {path.name}, {len(drafts)} drafts, sha256 {digest[:12]}… {state}")
    rows = evaluate(drafts)
    columns = "".join(f"{COLUMNS[label]:>8}" for label in MEASURES)
    print(f"{'draft':<24}{'edit':<32}{'expected':>9}{columns}{'shown':>6}")
    for row in rows:
        values = "".join(f"{row.computed[label]:>8.1f}" for label in MEASURES)
        off = abs(row.computed[ALGORITHM_VERSION] - row.expected) > TOLERANCE
        flag = (" (stress)" if row.stress else "") + (" <" if off else "")
        print(f"{row.draft:<24}{row.edit:<32}{row.expected:>9.1f}{values}{row.shown:>6}{flag}")
        if details and off:
            for run in row.runs:
                print(f"{'':<8}run: {run}")
    gated = [row for row in rows if not row.stress]
    stress = [row for row in rows if row.stress]
    print()
    passed = {measure: summary(name, gated, measure) for measure in MEASURES}[ALGORITHM_VERSION]
    for measure in MEASURES if stress else ():
        summary("stress", stress, measure)
    print()
    return passed


def sweep() -> None:
    """How LONG_TILE_WORDS and ANCHOR_WINDOW were chosen: on the tuning set only, never on the held-out one."""
    file, _ = SETS["tuning"]
    pairs = []
    for rank, data in enumerate(json.loads((HERE / file).read_text())):
        draft = as_draft(data)
        for edit in EDITS.values():
            sent = edit(data, draft, rank)
            pairs.append((draft.text(), sent.text(), sent.expected()))
    print(f"tuning set, {len(pairs)} pairs: within {TOLERANCE} points / max |diff|, by long tile (rows) and window")
    windows = (0, 5, 10, 15, 20, 30, 50, 1000)
    print(f"{'long':>5}" + "".join(f"{window:>12}" for window in windows))
    for long_words in (5, 6, 7, 8, 9, 10, 12, 15):
        cells = []
        for window in windows:
            diffs = [abs(tiled_percent(d, s, long_words=long_words, window=window) - e) for d, s, e in pairs]
            cells.append(f"{sum(diff <= TOLERANCE for diff in diffs):>5}/{max(diffs):5.1f} ")
        print(f"{long_words:>5}" + "".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--details", action="store_true", help="list the runs counted in the pairs that are off")
    parser.add_argument("--sweep", action="store_true", help="tiling-v2's parameters on the tuning set, and stop")
    args = parser.parse_args()
    if args.sweep:
        sweep()
        return 0
    print(
        f"Current algorithm {ALGORITHM_VERSION}. tiling-v1: every run of {MIN_TILE_WORDS} words or more; tiling-v2: "
        f"runs under {LONG_TILE_WORDS} words only within {ANCHOR_WINDOW} words of a longer one. Columns: percent.\n"
    )
    passed = [report(name, HERE / file, sha, args.details) for name, (file, sha) in SETS.items()]
    verdict = "every pair within" if all(passed) else "some pair off by more than"
    print(f"{ALGORITHM_VERSION}: {verdict} {TOLERANCE} points")
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
