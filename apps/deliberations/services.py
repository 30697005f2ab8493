"""Writes on the register: create, edit, publish and delete deliberations, council sessions; and the
SCDL rules a single deliberation must meet (the same ones the import applies to each row)."""

import functools
import logging
import re
from datetime import date
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.documents.models import Document
from apps.tenants.models import Authority

from . import nomenclature
from .models import Deliberation, Session
from .scdl.export import scdl_row
from .scdl.validation import MODEL_FIELDS, ScdlValidator

logger = logging.getLogger(__name__)

MATIERE_COLUMNS = ("DELIB_MATIERE_CODE", "DELIB_MATIERE_NOM")
COLUMN_NAME = re.compile(r"\b(" + "|".join(sorted(MODEL_FIELDS, key=len, reverse=True)) + r")\b")
VOTES = ["vote_effectif", "vote_reel", "vote_pour", "vote_contre", "vote_abstention"]
SCDL_FIELDS = ["coll_nom", "coll_siret", "delib_id", "delib_date", "matiere_code", "matiere_nom", "objet",
               "budget_annee", "budget_nom", "pref_id", "pref_date", *VOTES, "delib_url"]
EDITABLE_FIELDS = [*SCDL_FIELDS, "decision", "session", "document", "text"]


class PublicationRefused(ValidationError):
    """The deliberation does not meet the SCDL schema: publishing it would break the open-data export."""


@functools.cache
def _validator() -> ScdlValidator:
    return ScdlValidator()


def scdl_issues(values: dict, *, require_matiere: bool = True) -> list[tuple[str, str]]:
    """(SCDL column, French message) for each error the import's validator finds in `values` (model
    field names): one rule set for the form, the API, publishing and the import.

    `require_matiere=False` lets a deliberation wait for its matière (classification comes later);
    publishing requires it, as the schema does."""
    row = scdl_row(SimpleNamespace(**{name: values.get(name) for name in SCDL_FIELDS}))
    checked = _validator().check_row(None, row)
    issues = []
    for issue in checked.issues:
        if issue.severity != "error":
            continue
        if not require_matiere and not values.get("matiere_code") and issue.column in MATIERE_COLUMNS:
            continue
        issues.append((issue.column or "", _without_place(issue.message)))
    return issues


def _without_place(message: str) -> str:
    """The validator names the row and SCDL columns (« COLL_SIRET : … »); a form speaks of its fields."""
    head, separator, rest = message.partition(" : ")
    if separator and (head in MODEL_FIELDS or head == _validator().row_label):
        message = rest[:1].upper() + rest[1:]
    return COLUMN_NAME.sub(lambda match: f"« {_column_label(match.group(0))} »", message)


def _column_label(column: str) -> str:
    return str(Deliberation._meta.get_field(MODEL_FIELDS[column]).verbose_name)


def deliberation_issues(deliberation: Deliberation) -> list[str]:
    return [message for _, message in scdl_issues({name: getattr(deliberation, name) for name in SCDL_FIELDS})]


def default_values(authority: Authority) -> dict:
    """What a new deliberation starts with: the authority's name and the SIRET it used last."""
    last = Deliberation.objects.exclude(coll_siret="").order_by("-created_at").first()
    return {"coll_nom": last.coll_nom if last else authority.name, "coll_siret": last.coll_siret if last else "",
            "delib_date": date.today()}


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
