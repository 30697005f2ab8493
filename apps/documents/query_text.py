"""Normalising what people type before searching: French question words, amounts, spacing."""

import re

# Interrogative and filler words that carry no topic: removing them keeps full-text ranking on
# the words that matter ("Combien coûte la cantine ?" → "coûte cantine").
QUESTION_WORDS = {
    "combien",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "quand",
    "qui",
    "quoi",
    "comment",
    "pourquoi",
    "où",
    "ou",
    "est-ce",
    "est",
    "ce",
    "que",
    "qu",
    "a-t-il",
    "a-t-elle",
    "t",
    "il",
    "elle",
    "ils",
    "elles",
    "on",
    "y",
    "a",
    "lequel",
    "laquelle",
    "lesquels",
    "lesquelles",
    "dont",
    "svp",
    "merci",
    "bonjour",
}
_WORD = re.compile(r"[\w'’-]+|[^\w\s]", re.UNICODE)
# "3.20 €" and "3,20 €" must meet: French texts write decimal commas.
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d{1,2}\b)")
_THOUSANDS = re.compile(r"(?<=\d)[  .](?=\d{3}\b)")


def normalise_query(query: str) -> str:
    text = _DECIMAL_POINT.sub(",", query.strip())
    text = _THOUSANDS.sub("", text)
    words = [w for w in _WORD.findall(text) if w.isalnum() or "-" in w or "'" in w or "’" in w]
    kept = [w for w in words if w.lower().replace("’", "'") not in QUESTION_WORDS]
    return " ".join(kept or words)[:500]
