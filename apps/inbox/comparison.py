"""What the agent sees before sending: the reply against the draft, word by word (inserted and removed
words), so that « Valider et envoyer » is a decision taken knowing what the model wrote."""

import re
from difflib import SequenceMatcher

from apps.assistant.citations import SPACED_MARKER

TOKEN = re.compile(r"\S+|\s+")


def without_markers(text: str) -> str:
    """The reply as the citizen reads it: the [1] pointers to the agent's sources are removed."""
    return SPACED_MARKER.sub("", text or "").strip()


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """(kind, text) segments with kind "same", "removed" or "added"."""
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    segments = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(("removed", "".join(old[i1:i2])))
        if j2 > j1:
            segments.append(("added", "".join(new[j1:j2])))
    return segments
