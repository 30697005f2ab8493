"""What the assistant does without a generative model (offline mode, or INFERENCE_URL unset):
quote the best retrieved passages, and summarise by picking a text's most central sentences."""

import math
import re
import unicodedata
from collections import Counter

from spacy.lang.fr.stop_words import STOP_WORDS

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-Ý«\"(\d-])|\n{2,}|\n(?=[-•*]\s)")
_STOP = {unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in STOP_WORDS}


def sentences(text: str) -> list[str]:
    parts = (re.sub(r"\s+", " ", s).strip(" -•*") for s in _SENTENCE_END.split(text or ""))
    return [s for s in parts if len(s) >= 25]


def content_words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return [w[:7] for w in re.findall(r"[a-z0-9]{3,}", plain) if w not in _STOP]  # crude French stemming


def best_sentences(text: str, query: str, *, count: int = 2, max_chars: int = 600) -> str:
    """The `count` sentences sharing most words with the query, in their original order."""
    candidates = sentences(text)
    if not candidates:
        return text[:max_chars]
    wanted = set(content_words(query))
    scored = sorted(range(len(candidates)), key=lambda i: (-len(wanted & set(content_words(candidates[i]))), i))[:count]
    return " … ".join(candidates[i] for i in sorted(scored))[:max_chars]


def central_sentences(text: str, count: int) -> list[str]:
    """Sentences whose words are the text's most frequent ones (a frequency-based summary, Luhn's
    method): robust, fast, and never says anything the text does not."""
    candidates = sentences(text)
    if len(candidates) <= count:
        return candidates
    frequency = Counter(w for s in candidates for w in set(content_words(s)))

    def score(sentence: str) -> float:
        words = content_words(sentence)
        return sum(frequency[w] for w in set(words)) / math.sqrt(len(words) + 1)

    chosen = sorted(range(len(candidates)), key=lambda i: (-score(candidates[i]), i))[:count]
    return [candidates[i] for i in sorted(chosen)]


def extractive_answer(sources: list[dict], question: str, *, count: int = 3) -> str:
    quotes = [f"« {best_sentences(source['text'], question)} » [{source['n']}]" for source in sources[:count]]
    return "\n\n".join(quotes)


def extractive_summary(text: str, *, sentences_count: int = 5) -> str:
    return " ".join(central_sentences(text, sentences_count))


def extractive_key_points(text: str, *, points: int = 6) -> str:
    return "\n".join(f"- {s}" for s in central_sentences(text, points))
