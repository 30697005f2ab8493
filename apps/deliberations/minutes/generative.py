"""The generative model's reading of council minutes, when one is configured: the text, cut in parts, goes
through the governed model call (pseudonymised, audited, within the quota) with a JSON schema; what comes
back is checked against the text (a vote count must be written there, a quote must be found) and merged
with the rules' proposals."""

import logging
import re
from dataclasses import dataclass, field

from apps.ai.calls import Record, governed_call, is_generative
from apps.ai.errors import InferenceFailure, QuotaExceeded
from apps.ai.models import Generation

from .text import Proposal, Text, fold, squash

logger = logging.getLogger(__name__)
TASK = "extraction"
TEMPLATE = "extract_deliberations"
CHUNK_CHARS = 12_000  # text per model call: a long procès-verbal is read part by part
MAX_TOKENS = 2_500
AUDIT_OUTPUT_CHARS = 20_000  # the JSON answers kept in the audit log
MATCH_SIMILARITY = 0.5  # objets this close (word overlap) are the same deliberation
VOTE_FIELDS = ("vote_pour", "vote_contre", "vote_abstention", "vote_reel")
DECISIONS = (
    ("unanimi", "Adoptée à l'unanimité"),
    ("retir", "Retirée de l'ordre du jour"),
    ("rejet", "Rejetée"),
    ("refus", "Rejetée"),
    ("acte", "Prend acte"),
    ("ajourn", "Ajournée"),
    ("adopt", "Adoptée"),
    ("approuv", "Adoptée"),
)
_COUNT = {"type": ["integer", "null"], "minimum": 0}
SCHEMA = {
    "type": "object",
    "properties": {
        "deliberations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "objet": {"type": "string"},
                    "decision": {"type": "string"},
                    "citation": {"type": "string"},
                    **{name: _COUNT for name in VOTE_FIELDS},
                },
                "required": ["objet", "decision"],
            },
        }
    },
    "required": ["deliberations"],
}
MSG_UNAVAILABLE = "Le service d'IA n'a pas pu lire le document ; les propositions viennent des règles seules."
MSG_INVALID = (
    "La réponse du modèle n'était pas un JSON exploitable{part} ; les propositions viennent des règles seules{scope}."
)


@dataclass
class ModelReading:
    proposals: list[Proposal] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # the model's replies, for the audit log
    used: bool = False  # at least one part was read by the model (valid JSON)


def is_enabled() -> bool:
    """Same switch as the assistant: a route configured (INFERENCE_URL or INFERENCE_ROUTES)."""
    return is_generative()


def read_with_model(text: Text, *, authority, progress=None) -> ModelReading:
    reading, parts = ModelReading(), chunks(text)
    # One audit row for the whole document, and one placeholder per person across its parts.
    record = Record(authority=authority, task=TASK, inputs={"characters": len(text.raw), "parts": len(parts)})
    failure = ""
    try:
        failure = _read_parts(reading, text, parts, record, progress=progress)
    finally:
        # A part the model could not read is noted, but what it read stays a success.
        record.finish(
            output="\n\n".join(reading.answers)[:AUDIT_OUTPUT_CHARS],
            error=failure,
            outcome=Generation.Outcome.DONE if reading.answers else None,
        )
    return reading


def _read_parts(reading: ModelReading, text: Text, parts, record: Record, *, progress) -> str:
    """Reads part after part; returns why the model stopped reading ("" when it read them all)."""
    for number, (start, chunk) in enumerate(parts, 1):
        if progress:
            progress(number, len(parts))
        try:
            context = {"text": chunk, "part": number, "parts": len(parts)}
            reply = governed_call(
                record.authority,
                TASK,
                TEMPLATE,
                context,
                record=record,
                schema=SCHEMA,
                max_tokens=MAX_TOKENS,
                temperature=0.0,
            )
        except QuotaExceeded as exc:
            reading.notices.append(f"{exc.user_message} Les propositions viennent des règles seules.")
            return exc.user_message
        except InferenceFailure as exc:
            logger.warning("Minutes extraction: model unavailable (%s)", exc)
            reading.notices.append(MSG_UNAVAILABLE)
            return exc.user_message
        reading.answers.append(reply.text)
        items = deliberation_items(reply.data)
        if items is None:
            logger.warning("Minutes extraction: invalid JSON from the model (%d chars)", len(reply.raw))
            suffix = f" (partie {number} sur {len(parts)})" if len(parts) > 1 else ""
            reading.notices.append(MSG_INVALID.format(part=suffix, scope=" pour cette partie" if suffix else ""))
            continue
        reading.used = True
        reading.proposals += [p for item in items if (p := checked(item, text, start, chunk))]
    return ""


def chunks(text: Text) -> list[tuple[int, str]]:
    """Parts of at most CHUNK_CHARS, cut at a blank line (else a line end) so a vote stays whole."""
    parts, start, raw = [], 0, text.raw
    while start < len(raw):
        end = min(len(raw), start + CHUNK_CHARS)
        if end < len(raw):
            cut = max(raw.rfind("\n\n", start, end), raw.rfind("\n", start + CHUNK_CHARS // 2, end))
            end = cut if cut > start else end
        if raw[start:end].strip():
            parts.append((start, raw[start:end]))
        start = end
    return parts


def deliberation_items(data) -> list[dict] | None:
    """The deliberations of the model's JSON (an object with "deliberations", or the list itself);
    None when it is not that."""
    items = data.get("deliberations") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None
    return items


def checked(item: dict, text: Text, start: int, chunk: str) -> Proposal | None:
    """A proposal from one model item (personal data already restored), or None. Counts not written in
    the text are dropped: a model must not invent votes."""
    objet = squash(str(item.get("objet") or ""))[:300]
    if len(objet) < 3:
        return None
    notes, counts = [], {}
    for name in VOTE_FIELDS:
        value = item.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1000:
            notes.append("Nombre de voix invalide dans la réponse du modèle : écarté.")
        elif not re.search(rf"(?<!\d){value}(?!\d)", chunk):
            notes.append(f"Le modèle donne {value} ({name.removeprefix('vote_')}), nombre absent du texte : écarté.")
        else:
            counts[name] = value
    if "vote_pour" in counts:
        counts.setdefault("vote_contre", 0)
        counts.setdefault("vote_abstention", 0)
        counts["vote_reel"] = counts["vote_pour"] + counts["vote_contre"] + counts["vote_abstention"]
    else:
        counts = {}
    citation = squash(str(item.get("citation") or ""))[:300]
    offset = _find(text, citation, start, start + len(chunk))
    if offset is None:
        offset = _find(text, objet, start, start + len(chunk))
        notes.append("Citation du modèle introuvable dans le texte : vérifiez cette proposition.")
    return Proposal(
        objet=objet,
        decision=_decision(str(item.get("decision") or ""), counts),
        excerpt=citation,
        confidence=0.5 if offset is not None and citation else 0.3,
        page=text.page_at(offset if offset is not None else start),
        notes=notes,
        source="modèle",
        offset=offset if offset is not None else start,
        **counts,
    )


def _find(text: Text, quote: str, start: int, end: int) -> int | None:
    """Where a quote is in the text, whatever its spacing, case and accents."""
    words = re.findall(r"\w+", fold(quote))[:12]
    if len(words) < 2:
        return None
    match = re.compile(r"\W+".join(map(re.escape, words))).search(text.folded, start, end)
    return match.start() if match else None


def _decision(answer: str, counts: dict) -> str:
    folded = fold(answer)
    for stem, label in DECISIONS:
        if stem in folded:
            return label
    if counts.get("vote_pour") is not None and counts["vote_pour"] <= counts.get("vote_contre", 0):
        return "Rejetée"
    return "Adoptée"


def similarity(first: str, second: str) -> float:
    """Share of the shorter objet's words found in the other (accents, case and small words aside)."""

    def words(text):
        return {w[:8] for w in re.findall(r"[a-z0-9]{3,}", fold(text))}

    a, b = words(first), words(second)
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def merge(rules: list[Proposal], model: list[Proposal]) -> list[Proposal]:
    """Rules' proposals enriched by the model's; what only the model saw is added, flagged as such."""
    merged, taken = list(rules), set()
    for found in model:
        candidates = [
            (similarity(found.objet, p.objet) - abs(found.offset - p.offset) / 1e6, i)
            for i, p in enumerate(rules)
            if i not in taken
        ]
        score, index = max(candidates, default=(0.0, -1))
        if score < MATCH_SIMILARITY:
            merged.append(found)
            continue
        taken.add(index)
        _enrich(rules[index], found)
    return sorted(merged, key=lambda p: p.offset)


def _enrich(proposal: Proposal, found: Proposal) -> None:
    proposal.source = "règles + modèle"
    proposal.confidence = round(min(0.99, proposal.confidence + 0.05), 2)
    counts = {name: getattr(found, name) for name in VOTE_FIELDS if getattr(found, name) is not None}
    if counts and (proposal.vote_pour is None or proposal.votes_derived):
        for name, value in counts.items():
            setattr(proposal, name, value)
        proposal.votes_derived = False
        proposal.notes.append("Votes lus par le modèle (nombres présents dans le texte).")
    elif counts and counts.get("vote_pour") != proposal.vote_pour:
        proposal.notes.append(f"Le modèle lit {counts.get('vote_pour')} voix pour ; les règles {proposal.vote_pour}.")
    if proposal.objet == "Objet à compléter":
        proposal.objet = found.objet
