"""The extraction job: reads the indexed minutes, proposes deliberations (with the routing's matière while
its time budget lasts) and stores them on the council Session. A re-run replaces what is pending and keeps
what an agent decided; every proposal has a stable id, so a page loaded before a re-run never acts on
another proposal than the one it shows."""

import logging
import re
import secrets
import time
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.documents.models import Document
from apps.jobs.errors import JobError
from apps.jobs.runner import JobRun, job_task

from .. import nomenclature
from ..models import Deliberation, Session
from . import generative
from .extraction import JOB_KIND, NOT_INDEXED, extract, session_title
from .review import Status
from .text import Proposal

logger = logging.getLogger(__name__)


def new_proposal_id() -> str:
    """Unique within a session (48 random bits), short enough for a URL."""
    return secrets.token_hex(6)


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
    extraction = extract(
        pages,
        authority=authority,
        progress=lambda n, total: run.progress(
            15 + 50 * (n - 1) // total, f"Lecture par le modèle : partie {n} sur {total}"
        ),
    )
    run.progress(70, "Suggestion des matières…")
    fresh = [
        {"id": new_proposal_id()}
        | proposal.as_dict()
        | {"status": Status.PENDING, "deliberation_id": None, "delib_id": "", "matiere_suggestion": suggestion}
        for proposal, suggestion in _with_matieres(extraction.proposals, authority.pk)
    ]
    with run.tenant(), transaction.atomic():
        session = _session_for(run.params.get("session_id"), document, extraction.session_date)
        session.proposals = _replace_pending(session.proposals or [], fresh, session.date)
        session.save(update_fields=["proposals", "date", "title"])
    pending = sum(1 for p in session.proposals if p["status"] == Status.PENDING)
    message = f"{pending} délibération(s) proposée(s) ({extraction.mode})."
    return {
        "session_id": session.pk,
        "proposals": pending,
        "mode": extraction.mode,
        "notices": extraction.notices,
        "message": " ".join([message, *extraction.notices])[:480],
    }


def _session_for(session_id, document: Document, found_date: date | None) -> Session:
    session = Session.objects.select_for_update().filter(pk=session_id).first() if session_id else None
    session = session or Session.objects.select_for_update().filter(minutes=document).order_by("pk").first()
    if session is None:
        session = Session(
            authority_id=document.authority_id,
            minutes=document,
            date=found_date or document.date or timezone.localdate(),
        )
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
    from ..routing.suggestions import RoutingError, suggest_matieres  # loads numpy: only when a job needs it

    budget = settings.MINUTES_MATIERE_SECONDS
    available, deadline = budget > 0, time.monotonic() + budget
    result = []
    for proposal in proposals:
        suggestion = None
        if available and time.monotonic() < deadline:
            try:
                suggestion = _first_suggestion(
                    suggest_matieres(
                        authority_id=authority_id, objet=proposal.objet, text=proposal.excerpt, use_model=False
                    )
                )
            except RoutingError:  # a suggestion is a convenience: never lose the extraction for it
                logger.warning("Matière suggestion unavailable for minutes proposals", exc_info=True)
                available = False
        result.append((proposal, suggestion))
    return result


def _first_suggestion(suggestions: list[dict]) -> dict | None:
    """The best suggestion the nomenclature knows, as a proposal shows it."""
    for item in suggestions:
        code = str(item.get("code") or "")
        if code and nomenclature.get(code):
            score = item.get("score")
            return {
                "code": code,
                "label": nomenclature.label_path(code),
                "score": round(float(score), 3) if score is not None else None,
            }
    return None


def _replace_pending(existing: list[dict], fresh: list[dict], day: date) -> list[dict]:
    """A re-run replaces what is pending and keeps what an agent decided (accepted or rejected)."""
    kept = [p for p in existing if p.get("status") in (Status.ACCEPTED, Status.REJECTED)]
    new = [p for p in fresh if not any(_same(p, k) for k in kept)]
    taken = set(Deliberation.objects.filter(delib_id__startswith=f"{day.year}-").values_list("delib_id", flat=True))
    taken |= {p.get("delib_id") for p in kept}
    numbers = [int(m.group(1)) for i in taken if i and (m := re.fullmatch(rf"{day.year}-(\d+)", i))]
    following = max(numbers, default=0) + 1
    used_ids = {p.get("id") for p in kept}
    for proposal in new:
        proposal["delib_id"] = f"{day.year}-{following:02d}"
        following += 1
        while proposal.get("id") in used_ids:  # 48 random bits: this practically never loops
            proposal["id"] = new_proposal_id()
        used_ids.add(proposal["id"])
    return sorted(kept + new, key=lambda p: p.get("offset", 0))


def _same(first: dict, second: dict) -> bool:
    return first.get("offset") == second.get("offset") or (
        generative.similarity(first.get("objet", ""), second.get("objet", "")) >= 0.9
        and first.get("excerpt") == second.get("excerpt")
    )
