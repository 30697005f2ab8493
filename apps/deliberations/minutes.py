"""Deliberations proposed from council minutes: rules first, the model when configured; the job that
stores the proposals on the council Session, and the agent's review (accept → a Deliberation, reject)."""

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from apps.documents.models import Document
from apps.jobs.errors import JobError
from apps.jobs.models import Job
from apps.jobs.runner import JobRun, job_task
from apps.jobs.services import enqueue_job

from . import minutes_model, minutes_rules, nomenclature
from .minutes_rules import Proposal
from .models import Deliberation, Session

logger = logging.getLogger(__name__)
JOB_KIND = "deliberations.extract_minutes"
NOT_INDEXED = "Le document n'est pas encore indexé : attendez la fin de son indexation, puis relancez l'extraction."
MINUTES_KINDS = (Document.Kind.PROCES_VERBAL, Document.Kind.COMPTE_RENDU)
VOTE_FIELDS = ("vote_effectif", "vote_reel", "vote_pour", "vote_contre", "vote_abstention")


class Status:
    PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


class MinutesError(Exception):
    """A request refused; `user_message` is French. `errors` maps form fields to messages."""

    def __init__(self, user_message: str, errors: dict | None = None):
        super().__init__(user_message)
        self.user_message, self.errors = user_message, errors or {}


@dataclass
class Extraction:
    proposals: list[Proposal]
    session_date: date | None
    notices: list[str] = field(default_factory=list)
    mode: str = "règles"


def propose_deliberations(pages) -> list[Proposal]:
    """The deliberations of minutes by rules alone. pages: a text or [{"number", "text"}]."""
    return minutes_rules.propose(pages)[0]


def extract(pages, *, authority=None, progress=None) -> Extraction:
    """Rules, then the model when one is configured (its proposals checked against the text, merged)."""
    proposals, found_date, _ = minutes_rules.propose(pages)
    extraction = Extraction(proposals=proposals, session_date=found_date)
    if authority is None or not minutes_model.is_enabled():
        return extraction
    reading = minutes_model.read_with_model(minutes_rules.assemble(pages), authority=authority, progress=progress)
    extraction.notices += reading.notices
    if reading.used:
        extraction.proposals = minutes_model.merge(proposals, reading.proposals)
        extraction.mode = "règles + modèle"
    return extraction


# --- starting an extraction -----------------------------------------------------------------------

def session_title(day: date) -> str:
    return f"Conseil municipal du {date_format(day, 'j F Y')}"


def start_extraction(*, authority, document: Document, created_by=None) -> tuple[Session, Job]:
    """The document's Session (created the first time) and a job that fills its proposals."""
    if document.state != Document.State.INDEXED:
        raise MinutesError(NOT_INDEXED)
    with transaction.atomic():
        # Locking the document makes a double click find the session the first click created.
        Document.objects.select_for_update().filter(pk=document.pk).values_list("pk").first()
        session = Session.objects.filter(minutes=document).order_by("pk").first()
        if session is None:
            day = minutes_rules.session_date(minutes_rules.assemble(document.pages or [])) or document.date
            session = Session.objects.create(authority=authority, minutes=document, date=day or timezone.localdate(),
                                             title=session_title(day) if day else document.title[:300])
        job = enqueue_job(authority=authority, kind=JOB_KIND, created_by=created_by,
                          params={"document_id": document.pk, "session_id": session.pk})
    return session, job


def latest_job(session: Session) -> Job | None:
    return Job.objects.filter(kind=JOB_KIND, params__session_id=session.pk).order_by("-created_at", "-id").first()


# --- the job ------------------------------------------------------------------------------------------

@job_task(JOB_KIND, "Extraction des délibérations d'un procès-verbal")
def extract_minutes(run: JobRun) -> dict:
    with run.tenant():
        document = Document.objects.filter(pk=run.params["document_id"]).select_related("authority").first()
        if document is None:
            raise JobError("Le document a été supprimé avant l'extraction.")
        if document.state != Document.State.INDEXED:
            raise JobError(NOT_INDEXED)
        authority, pages = document.authority, document.pages
    run.progress(10, "Lecture du procès-verbal…")
    extraction = extract(pages, authority=authority,
                         progress=lambda n, total: run.progress(15 + 50 * (n - 1) // total,
                                                                f"Lecture par le modèle : partie {n} sur {total}"))
    run.progress(70, "Suggestion des matières…")
    fresh = [proposal.as_dict() | {"status": Status.PENDING, "deliberation_id": None, "delib_id": "",
                                   "matiere_suggestion": suggestion}
             for proposal, suggestion in _with_matieres(extraction.proposals, authority.pk)]
    with run.tenant(), transaction.atomic():
        session = _session_for(run.params.get("session_id"), document, extraction.session_date)
        session.proposals = _replace_pending(session.proposals or [], fresh, session.date)
        session.save(update_fields=["proposals", "date", "title"])
    pending = sum(1 for p in session.proposals if p["status"] == Status.PENDING)
    message = f"{pending} délibération(s) proposée(s) ({extraction.mode})."
    return {"session_id": session.pk, "proposals": pending, "mode": extraction.mode, "notices": extraction.notices,
            "message": " ".join([message, *extraction.notices])[:480]}


def _session_for(session_id, document: Document, found_date: date | None) -> Session:
    session = Session.objects.select_for_update().filter(pk=session_id).first() if session_id else None
    session = session or Session.objects.select_for_update().filter(minutes=document).order_by("pk").first()
    if session is None:
        session = Session(authority_id=document.authority_id, minutes=document, date=found_date or document.date
                          or timezone.localdate())
    if found_date and not any(p.get("status") == Status.ACCEPTED for p in session.proposals or []):
        session.date = found_date  # once a deliberation is dated from it, the session's date stays
    session.title = session_title(session.date) if found_date else session.title or document.title[:300]
    session.minutes = document
    if session.pk is None:
        session.save()
    return session


def _with_matieres(proposals: list[Proposal], authority_id: int) -> list[tuple[Proposal, dict | None]]:
    """Each proposal with the routing's best matière, while the time budget lasts (classifier only: one
    model call per proposal would cost more than the extraction)."""
    from . import routing  # loads numpy and the classifier: only when a job needs it

    budget = settings.MINUTES_MATIERE_SECONDS
    available, deadline = budget > 0, time.monotonic() + budget
    result = []
    for proposal in proposals:
        suggestion = None
        if available and time.monotonic() < deadline:
            try:
                suggestion = _first_suggestion(routing.suggest_matieres(
                    authority_id=authority_id, objet=proposal.objet, text=proposal.excerpt, use_model=False))
            except routing.RoutingError:  # a suggestion is a convenience: never lose the extraction for it
                logger.warning("Matière suggestion unavailable for minutes proposals", exc_info=True)
                available = False
        result.append((proposal, suggestion))
    return result


def _first_suggestion(suggestions) -> dict | None:
    for item in suggestions or []:
        code = item.get("code") if isinstance(item, dict) else getattr(item, "code", None)
        if code and nomenclature.get(str(code)):
            score = item.get("score") if isinstance(item, dict) else getattr(item, "score", None)
            return {"code": str(code), "label": nomenclature.label_path(str(code)),
                    "score": round(float(score), 3) if score is not None else None}
    return None


def _replace_pending(existing: list[dict], fresh: list[dict], day: date) -> list[dict]:
    """A re-run replaces what is pending and keeps what an agent decided (accepted or rejected)."""
    kept = [p for p in existing if p.get("status") in (Status.ACCEPTED, Status.REJECTED)]
    new = [p for p in fresh if not any(_same(p, k) for k in kept)]
    taken = set(Deliberation.objects.filter(delib_id__startswith=f"{day.year}-").values_list("delib_id", flat=True))
    taken |= {p.get("delib_id") for p in kept}
    numbers = [int(m.group(1)) for i in taken if i and (m := re.fullmatch(rf"{day.year}-(\d+)", i))]
    following = max(numbers, default=0) + 1
    for proposal in new:
        proposal["delib_id"] = f"{day.year}-{following:02d}"
        following += 1
    return sorted(kept + new, key=lambda p: p.get("offset", 0))


def _same(first: dict, second: dict) -> bool:
    return first.get("offset") == second.get("offset") or (
        minutes_model.similarity(first.get("objet", ""), second.get("objet", "")) >= 0.9
        and first.get("excerpt") == second.get("excerpt"))


# --- review ---------------------------------------------------------------------------------------------

def proposal_at(session: Session, index: int) -> dict:
    if not 0 <= index < len(session.proposals or []):
        raise MinutesError("Cette proposition n'existe pas (la liste a peut-être été recalculée) : rechargez la page.")
    return session.proposals[index]


def accept_proposal(*, session: Session, index: int, values: dict | None = None) -> Deliberation:
    """Create the Deliberation of a proposal, with the agent's corrections. Accepting twice returns the
    deliberation created the first time."""
    with transaction.atomic():
        session = Session.objects.select_for_update().select_related("authority").get(pk=session.pk)
        proposal = proposal_at(session, index)
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
        proposal.update(status=Status.ACCEPTED, deliberation_id=deliberation.pk, objet=fields["objet"],
                        delib_id=fields["delib_id"], decision=fields["decision"],
                        **{name: fields[name] for name in VOTE_FIELDS})
        Session.objects.filter(pk=session.pk).update(proposals=session.proposals)
    return deliberation


def reject_proposal(*, session: Session, index: int) -> dict:
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        proposal = proposal_at(session, index)
        if proposal["status"] == Status.ACCEPTED:
            raise MinutesError("Cette proposition est déjà validée : la délibération créée reste au registre.")
        proposal["status"] = Status.REJECTED
        Session.objects.filter(pk=session.pk).update(proposals=session.proposals)
    return proposal


def _deliberation_fields(session: Session, proposal: dict, values: dict) -> dict:
    """The Deliberation's fields from the proposal and the agent's values, checked (MinutesError)."""
    data = {key: proposal.get(key) for key in ("objet", "delib_id", "decision", *VOTE_FIELDS)}
    data |= {key: value for key, value in values.items()
             if key in (*data, "delib_date", "matiere_code", "matiere_confirmed")}
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
    return {"objet": objet, "delib_id": delib_id, "delib_date": data.get("delib_date") or session.date,
            "decision": squash_text(data.get("decision"))[:200], "coll_nom": session.authority.name[:300],
            "coll_siret": authority_siret(session.authority), "session": session, "origin": Deliberation.Origin.MINUTES,
            "published": False, "matiere_code": code, "matiere_nom": nomenclature.label_path(code) if code else "",
            "matiere_confirmed": confirmed, "matiere_suggestions": [] if confirmed or not suggestion else [suggestion],
            "text": proposal.get("excerpt") or "", **votes}


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
