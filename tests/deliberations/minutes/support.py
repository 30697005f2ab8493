"""Shared fixtures of the extraction-from-minutes tests: real minutes (Avranches text, Couthenans PDFs),
documents indexed through the real pipeline, and the fake inference server on loopback."""

import hashlib
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.extraction import extract
from apps.documents.models import Document
from apps.documents.services import add_uploads, default_collection
from apps.tenants.context import tenant_context
from tests.paths import SHARED_DATA

AVRANCHES = SHARED_DATA / "proces-verbaux"
COUTHENANS = SHARED_DATA / "pdf-couthenans"


def pages_of(path: Path) -> list[dict]:
    """Pages as the documents pipeline stores them (same extraction and cleaning)."""
    return [{"number": page.number, "text": page.text} for page in extract(path, filename=path.name, ocr=False).pages]


def add_minutes(authority, run_on_commit, path: Path, *, kind=Document.Kind.COMPTE_RENDU, index=True) -> Document:
    """Upload a real file as the agents do; with index=True its indexing job runs on commit."""
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    if index:
        with run_on_commit(), tenant_context(authority.pk):
            outcomes = add_uploads(authority=authority, files=[upload], kind=kind)
    else:
        with tenant_context(authority.pk):
            outcomes = add_uploads(authority=authority, files=[upload], kind=kind)
    assert outcomes[0].document is not None, outcomes
    with tenant_context(authority.pk):
        return Document.objects.get(pk=outcomes[0].document.pk)


def stored_minutes(authority, path: Path, *, kind=Document.Kind.PROCES_VERBAL) -> Document:
    """A real file stored as an indexed document, its pages extracted as the pipeline does, without
    the embeddings (minutes of 40 pages take minutes to embed on CPU, and extraction reads only pages)."""
    data = path.read_bytes()
    with tenant_context(authority.pk):
        document = Document(
            authority=authority,
            collection=default_collection(authority),
            title=path.stem[:300],
            kind=kind,
            original_filename=path.name,
            size=len(data),
            content_hash=hashlib.sha256(data).hexdigest(),
            state=Document.State.INDEXED,
            pages=pages_of(path),
        )
        document.file.save(path.name, ContentFile(data), save=False)
        document.save()
    return document
