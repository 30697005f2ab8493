"""Writes on the register: create, edit, publish and delete deliberations, and council sessions."""

import logging
from datetime import date

from django.db import transaction

from apps.documents.models import Document
from apps.tenants.models import Authority

from .. import nomenclature
from ..models import Deliberation, Session
from ..scdl.fields import FIELDS
from .rules import PublicationRefused, deliberation_issues

logger = logging.getLogger(__name__)
EDITABLE_FIELDS = [*FIELDS, "decision", "session", "document", "text"]


def default_values(authority: Authority) -> dict:
    """What a new deliberation starts with: the authority's name and the SIRET it used last."""
    last = Deliberation.objects.exclude(coll_siret="").order_by("-created_at").first()
    return {
        "coll_nom": last.coll_nom if last else authority.name,
        "coll_siret": last.coll_siret if last else "",
        "delib_date": date.today(),
    }


def _apply(deliberation: Deliberation, fields: dict) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable on a deliberation: {sorted(unknown)}")
    previous_code, previous_document = deliberation.matiere_code, deliberation.document_id
    previous_text = (deliberation.objet, deliberation.text)
    for name, value in fields.items():
        setattr(deliberation, name, value)
    if deliberation.matiere_code and deliberation.matiere_code != previous_code:
        # An agent who picks the matière has confirmed it: suggestions no longer apply.
        deliberation.matiere_nom = nomenclature.label_path(deliberation.matiere_code) or deliberation.matiere_nom
        deliberation.matiere_confirmed, deliberation.matiere_suggestions = True, []
    elif not deliberation.matiere_code:
        deliberation.matiere_nom, deliberation.matiere_confirmed = "", False
    if deliberation.document_id != previous_document and "text" not in fields:
        deliberation.text = document_text(deliberation.document)
    if (deliberation.objet, deliberation.text) != previous_text:
        deliberation.embedding, deliberation.embedding_model = None, ""  # recomputed on demand (similar, routing)


def document_text(document: Document | None) -> str:
    if document is None or document.state != Document.State.INDEXED:
        return ""
    pages = Document.objects.filter(pk=document.pk).values_list("pages", flat=True).first() or []
    return "\n\n".join(page.get("text", "") for page in pages)


@transaction.atomic
def create_deliberation(*, authority: Authority, origin: str = Deliberation.Origin.MANUAL, **fields) -> Deliberation:
    deliberation = Deliberation(authority=authority, origin=origin)
    _apply(deliberation, fields)
    deliberation.full_clean(exclude=["embedding", "authority"], validate_unique=False)
    deliberation.save()
    logger.info("Deliberation %s created (authority %s)", deliberation.pk, authority.pk)
    return deliberation


@transaction.atomic
def update_deliberation(*, deliberation: Deliberation, **fields) -> Deliberation:
    _apply(deliberation, fields)
    if deliberation.published:
        issues = deliberation_issues(deliberation)
        if issues:
            raise PublicationRefused(issues)
    deliberation.full_clean(exclude=["embedding", "authority"], validate_unique=False)
    deliberation.save()
    return deliberation


@transaction.atomic
def publish_deliberation(*, deliberation: Deliberation) -> Deliberation:
    """Put the deliberation in the public register and the SCDL export, if it meets the schema."""
    issues = deliberation_issues(deliberation)
    if issues:
        raise PublicationRefused(issues)
    if not deliberation.published:
        deliberation.published = True
        deliberation.save(update_fields=["published", "updated_at"])
        logger.info("Deliberation %s published", deliberation.pk)
    return deliberation


@transaction.atomic
def unpublish_deliberation(*, deliberation: Deliberation) -> Deliberation:
    if deliberation.published:
        deliberation.published = False
        deliberation.save(update_fields=["published", "updated_at"])
        logger.info("Deliberation %s withdrawn from the public register", deliberation.pk)
    return deliberation


@transaction.atomic
def delete_deliberation(*, deliberation: Deliberation) -> None:
    """Deletes the register's entry; its document (the act's PDF) stays among the documents."""
    logger.info("Deliberation %s deleted", deliberation.pk)
    deliberation.delete()


SESSION_FIELDS = ["date", "title", "agenda", "minutes"]


@transaction.atomic
def create_session(*, authority: Authority, **fields) -> Session:
    session = Session(authority=authority, **{k: v for k, v in fields.items() if k in SESSION_FIELDS})
    session.full_clean(exclude=["authority"])
    session.save()
    return session


@transaction.atomic
def update_session(*, session: Session, **fields) -> Session:
    for name, value in fields.items():
        if name in SESSION_FIELDS:
            setattr(session, name, value)
    session.full_clean(exclude=["authority"])
    session.save()
    return session


@transaction.atomic
def delete_session(*, session: Session) -> None:
    """The session's deliberations stay in the register, without a session."""
    session.delete()
