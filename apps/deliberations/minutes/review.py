"""The agent's review of extracted proposals: accept one (it becomes a Deliberation, with the agent's
corrections, checked) or reject it. Proposals are found by their stable id, never by position."""

import re

from django.db import IntegrityError, transaction

from .. import nomenclature
from ..models import Deliberation, Session
from ..scdl.fields import VOTE_FIELDS
from .extraction import MinutesError


class Status:
    PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


class ProposalNotFound(MinutesError):
    """No proposal of the session has that id (another session's, or dropped by a re-run)."""


def proposal_by_id(session: Session, proposal_id: str) -> dict:
    for proposal in session.proposals or []:
        if proposal.get("id") == proposal_id:
            return proposal
    raise ProposalNotFound(
        "Cette proposition n'existe plus (l'extraction a peut-être été relancée) : rechargez la page."
    )


def accept_proposal(*, session: Session, proposal_id: str, values: dict | None = None) -> Deliberation:
    """Create the Deliberation of a proposal, with the agent's corrections. Accepting twice returns the
    deliberation created the first time."""
    with transaction.atomic():
        session = Session.objects.select_for_update().select_related("authority").get(pk=session.pk)
        proposal = proposal_by_id(session, proposal_id)
        if proposal["status"] == Status.ACCEPTED and proposal.get("deliberation_id"):
            existing = Deliberation.objects.filter(pk=proposal["deliberation_id"]).first()
            if existing:
                return existing
        fields = _deliberation_fields(session, proposal, values or {})
        try:
            with transaction.atomic():
                deliberation = Deliberation.objects.create(authority=session.authority, **fields)
        except IntegrityError:
            taken = f"L'identifiant « {fields['delib_id']} » est déjà pris : choisissez-en un autre."
            raise MinutesError("Une délibération porte déjà cet identifiant.", {"delib_id": taken}) from None
        proposal.update(
            status=Status.ACCEPTED,
            deliberation_id=deliberation.pk,
            objet=fields["objet"],
            delib_id=fields["delib_id"],
            decision=fields["decision"],
            **{name: fields[name] for name in VOTE_FIELDS},
        )
        Session.objects.filter(pk=session.pk).update(proposals=session.proposals)
    return deliberation


def reject_proposal(*, session: Session, proposal_id: str) -> dict:
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        proposal = proposal_by_id(session, proposal_id)
        if proposal["status"] == Status.ACCEPTED:
            raise MinutesError("Cette proposition est déjà validée : la délibération créée reste au registre.")
        proposal["status"] = Status.REJECTED
        Session.objects.filter(pk=session.pk).update(proposals=session.proposals)
    return proposal


def _deliberation_fields(session: Session, proposal: dict, values: dict) -> dict:
    """The Deliberation's fields from the proposal and the agent's values, checked (MinutesError)."""
    data = {key: proposal.get(key) for key in ("objet", "delib_id", "decision", *VOTE_FIELDS)}
    data |= {
        key: value for key, value in values.items() if key in (*data, "delib_date", "matiere_code", "matiere_confirmed")
    }
    errors = {}
    objet, delib_id = squash_text(data.get("objet")), squash_text(data.get("delib_id"))
    if not objet:
        errors["objet"] = "Indiquez l'objet de la délibération."
    if not delib_id or len(delib_id) > 100:
        errors["delib_id"] = "Indiquez un identifiant (100 caractères au plus), par exemple 2024-12."
    elif Deliberation.objects.filter(delib_id=delib_id).exists():
        errors["delib_id"] = f"L'identifiant « {delib_id} » est déjà pris : choisissez-en un autre."
    code = squash_text(data.get("matiere_code"))
    if code and nomenclature.get(code) is None:
        errors["matiere_code"] = f"La matière « {code} » n'existe pas dans la nomenclature @ctes."
    votes = {name: data.get(name) for name in VOTE_FIELDS}
    errors |= _vote_errors(votes)
    if errors:
        raise MinutesError("La délibération n'a pas été créée : corrigez les champs signalés.", errors)
    suggestion = proposal.get("matiere_suggestion") or {}
    # The routing's suggestion, kept as is, stays a suggestion: the agent confirms it (here or later).
    confirmed = bool(code) and (code != suggestion.get("code") or bool(data.get("matiere_confirmed")))
    return {
        "objet": objet,
        "delib_id": delib_id,
        "delib_date": data.get("delib_date") or session.date,
        "decision": squash_text(data.get("decision"))[:200],
        "coll_nom": session.authority.name[:300],
        "coll_siret": authority_siret(session.authority),
        "session": session,
        "origin": Deliberation.Origin.MINUTES,
        "published": False,
        "matiere_code": code,
        "matiere_nom": nomenclature.label_path(code) if code else "",
        "matiere_confirmed": confirmed,
        "matiere_suggestions": [] if confirmed or not suggestion else [suggestion],
        "text": proposal.get("excerpt") or "",
        **votes,
    }


def _vote_errors(votes: dict) -> dict:
    given = {name: value for name, value in votes.items() if value is not None}
    if not given:
        return {}
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in given.values()):
        return {"vote_pour": "Les nombres de voix sont des entiers positifs."}
    parts = [votes.get(name) or 0 for name in ("vote_pour", "vote_contre", "vote_abstention")]
    if votes.get("vote_reel") is not None and sum(parts) != votes["vote_reel"]:
        return {"vote_reel": f"Pour, contre et abstentions font {sum(parts)}, pas {votes['vote_reel']} votants."}
    if votes.get("vote_effectif") is not None and votes["vote_effectif"] < (votes.get("vote_reel") or sum(parts)):
        return {"vote_effectif": "Les membres en exercice ne peuvent être moins nombreux que les votants."}
    return {}


def authority_siret(authority) -> str:
    """The authority's SIRET when its settings hold one (14 digits); else blank (SIREN alone is not enough)."""
    value = re.sub(r"\s", "", str((authority.settings or {}).get("siret", "")))
    return value if re.fullmatch(r"\d{14}", value) else ""


def squash_text(value) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()
