"""Rows the role matrices act on, created directly (no indexing, no model call), and reads of them
inside their authority's tenant context."""

import hashlib

from apps.ai.models import Generation
from apps.documents.models import Chunk, Collection, Document
from apps.tenants.context import tenant_context
from tests.factories import JobFactory

CANTINE = (
    "Tarifs de la restauration scolaire. Le conseil municipal fixe le prix du repas à la cantine "
    "à 3,20 euros pour les enfants domiciliés dans la commune."
)


def make_collection(authority, name="Actes", **fields) -> Collection:
    with tenant_context(authority.pk):
        return Collection.objects.get_or_create(authority=authority, name=name, defaults=fields)[0]


def make_document(authority, title="Tarifs de la cantine", text=CANTINE, *, collection=None, **fields) -> Document:
    """An indexed document with one page and one passage, as if the worker had been through it."""
    collection = collection or make_collection(authority)
    with tenant_context(authority.pk):
        document = Document.objects.create(
            authority=authority,
            collection=collection,
            title=title,
            original_filename=f"{title}.txt",
            content_hash=hashlib.sha256(f"{authority.pk}{title}{text}".encode()).hexdigest(),
            state=Document.State.INDEXED,
            pages=[{"number": 1, "text": text}],
            page_count=1,
            **fields,
        )
        Chunk.objects.create(
            authority=authority,
            document=document,
            collection=collection,
            position=0,
            pages=[1],
            heading=title,
            text=text,
            token_count=len(text.split()),
        )
    return document


def make_job(authority, **fields):
    return JobFactory(authority=authority, **fields)


def make_generation(authority, user=None, **fields) -> Generation:
    """A finished answer (a stream of it replays its last event at once)."""
    fields = {
        "task": Generation.Task.ANSWER,
        "outcome": Generation.Outcome.DONE,
        "output": "Réponse.",
        "input": {"question": "Quel est le prix du repas ?"},
    } | fields
    with tenant_context(authority.pk):
        return Generation.objects.create(authority=authority, user=user, **fields)


def read(model, authority, **lookup):
    """The authority's rows of `model` matching `lookup`, as a list."""
    with tenant_context(authority.pk):
        return list(model.objects.filter(**lookup))


def exists(model, authority, **lookup) -> bool:
    return bool(read(model, authority, **lookup))
