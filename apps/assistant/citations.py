"""Checking the model's citations: every `[n]` must name a passage it was given. Markers that do
not are removed and the answer is flagged, so nothing unverifiable looks sourced."""

import re
import unicodedata
from dataclasses import dataclass, field

# [3], [1, 2], [1;2], [1-2] are markers; [PERSONNE_1] placeholders are not (letters inside).
MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;–-]\s*\d+)*)\s*\]")
SPACED_MARKER = re.compile(r"([ \t]*)" + MARKER.pattern)  # a marker with the spaces before it
ABSTENTION = "Je ne trouve pas cette information dans vos documents."
_ABSTENTION_KEY = "je ne trouve pas cette information"


@dataclass
class CheckedAnswer:
    text: str
    cited: list[int] = field(default_factory=list)  # valid source numbers, in order of first use
    invalid: list[int] = field(default_factory=list)  # removed markers

    @property
    def flagged(self) -> bool:
        return bool(self.invalid) or not self.cited


def _numbers(group: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", group)]


def check(text: str, given: int) -> CheckedAnswer:
    """Keep markers naming sources 1..given, drop the others with the space before them (only those: the
    space French puts before « : ; ! ? » stays)."""
    checked = CheckedAnswer(text="")

    def replace(match: re.Match) -> str:
        numbers = _numbers(match.group(2))
        valid = [n for n in numbers if 1 <= n <= given]
        for n in numbers:
            if n in valid and n not in checked.cited:
                checked.cited.append(n)
            elif n not in valid and n not in checked.invalid:
                checked.invalid.append(n)
        return match.group(1) + "".join(f"[{n}]" for n in valid) if valid else ""

    checked.text = SPACED_MARKER.sub(replace, text).strip()
    return checked


def is_abstention(text: str) -> bool:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("’", "'")
    return _ABSTENTION_KEY in plain


def quote_for(source_text: str, answer: str, *, max_chars: int = 300) -> str:
    """The sentence(s) of a cited passage sharing most words with the answer: what the page highlights."""
    sentences = [s.strip() for s in re.split(r"(?<=[.;:!?])\s+|\n+", source_text) if len(s.strip()) > 20]
    if not sentences:
        return source_text[:max_chars]
    answer_words = _words(answer)
    best = max(sentences, key=lambda s: len(_words(s) & answer_words))
    return best[:max_chars]


def _words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    return set(re.findall(r"\w{4,}", "".join(c for c in plain if not unicodedata.combining(c))))
