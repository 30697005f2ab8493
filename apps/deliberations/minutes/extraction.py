"""Deliberations proposed from council minutes: rules first, the model when configured (its proposals
checked against the text and merged); starting an extraction on an indexed document."""

import logging
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from apps.documents.models import Document
from apps.jobs.models import Job
from apps.jobs.services import enqueue_job

from ..models import Session
from . import generative, rules
from .text import Proposal

logger = logging.getLogger(__name__)
JOB_KIND = "deliberations.extract_minutes"
NOT_INDEXED = "Le document n'est pas encore indexé : attendez la fin de son indexation, puis relancez l'extraction."
MINUTES_KINDS = (Document.Kind.PROCES_VERBAL, Document.Kind.COMPTE_RENDU)


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
    return rules.propose(pages)[0]


def extract(pages, *, authority=None, progress=None) -> Extraction:
    """Rules, then the model when one is configured (its proposals checked against the text, merged)."""
    proposals, found_date, _ = rules.propose(pages)
    extraction = Extraction(proposals=proposals, session_date=found_date)
    if authority is None or not generative.is_enabled():
        return extraction
    reading = generative.read_with_model(rules.assemble(pages), authority=authority, progress=progress)
    extraction.notices += reading.notices
    if reading.used:
        extraction.proposals = generative.merge(proposals, reading.proposals)
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
            day = rules.session_date(rules.assemble(document.pages or [])) or document.date
            session = Session.objects.create(
                authority=authority,
                minutes=document,
                date=day or timezone.localdate(),
                title=session_title(day) if day else document.title[:300],
            )
        job = enqueue_job(
            authority=authority,
            kind=JOB_KIND,
            created_by=created_by,
            params={"document_id": document.pk, "session_id": session.pk},
        )
    return session, job


def latest_job(session: Session) -> Job | None:
    return Job.objects.filter(kind=JOB_KIND, params__session_id=session.pk).order_by("-created_at", "-id").first()
