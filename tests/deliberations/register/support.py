"""Shared helpers of the register's tests (no tests here): real rows of the Rennes SCDL extract,
deliberations created through the services, acts indexed in a public or internal collection."""

import datetime
import json

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.deliberations import nomenclature
from apps.deliberations.models import Deliberation
from apps.deliberations.register import services
from apps.documents.models import Collection, Document
from apps.documents.services import add_uploads
from apps.tenants.context import tenant_context
from tests.paths import SHARED_DATA

SCDL = SHARED_DATA / "scdl"
RENNES_SIRET = "21350238800019"


def rennes_rows() -> list[dict]:
    """The Rennes extract with its matière codes as text: its JSON numbers write 7.10 as 7.1, and its
    labels say which one was meant (« Finances locales/Divers » is 7.10)."""
    rows = json.loads((SCDL / "deliberations-ville-de-rennes-extrait-152.json").read_text(encoding="utf-8"))
    for row in rows:
        named = nomenclature.match_label(row["delib_matiere_nom"])
        row["code"] = named.code if named else str(row["delib_matiere_code"])
    return rows


def rennes_row(code: str, index: int = 0) -> dict:
    return [row for row in rennes_rows() if row["code"] == code][index]


def values_from(row: dict, **overrides) -> dict:
    """Service arguments for a Rennes row (SCDL-valid: path label from the nomenclature)."""
    values = {
        "coll_nom": row["coll_nom"],
        "coll_siret": row["coll_siret"],
        "delib_id": row["delib_id"],
        "delib_date": datetime.date.fromisoformat(row["delib_date"][:10]),
        "objet": row["delib_objet"],
        "matiere_code": row["code"],
        "delib_url": row["delib_url"] or "",
    }
    if row.get("pref_date"):
        values["pref_date"] = datetime.date.fromisoformat(row["pref_date"][:10])
    return values | overrides


def add(authority, *, published: bool = False, **values) -> Deliberation:
    """A deliberation of `authority`, created and (optionally) published the way the pages do it."""
    defaults = {
        "coll_nom": authority.name,
        "coll_siret": RENNES_SIRET,
        "delib_date": datetime.date(2023, 5, 10),
        "objet": "Objet de test",
        "matiere_code": "7.5",
    }
    with tenant_context(authority.pk):
        deliberation = services.create_deliberation(authority=authority, **(defaults | values))
        if published:
            services.publish_deliberation(deliberation=deliberation)
        return Deliberation.objects.get(pk=deliberation.pk)


def add_rennes(authority, code: str, index: int = 0, *, published: bool = True, **overrides) -> Deliberation:
    return add(authority, published=published, **values_from(rennes_row(code, index), **overrides))


def index_act(authority, name: str, text: str, *, visibility: str, run_on_commit) -> Document:
    """A deliberation's act, indexed (Celery is eager) in a collection of that visibility."""
    with tenant_context(authority.pk):
        collection, _ = Collection.objects.get_or_create(
            authority=authority, name=f"Actes {visibility}", defaults={"visibility": visibility}
        )
    with run_on_commit(), tenant_context(authority.pk):
        outcome = add_uploads(
            authority=authority,
            files=[SimpleUploadedFile(name, text.encode())],
            collection=collection,
            kind=Document.Kind.DELIBERATION,
        )[0]
    assert outcome.document is not None, outcome.error
    with tenant_context(authority.pk):
        document = Document.objects.get(pk=outcome.document.pk)
    assert document.state == Document.State.INDEXED, document.error
    return document
