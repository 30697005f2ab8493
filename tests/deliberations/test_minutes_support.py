"""Shared fixtures of the extraction-from-minutes tests: real minutes (Avranches text, Couthenans PDFs),
documents indexed through the real pipeline, and the fake inference server on loopback."""

import hashlib
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.extraction import extract
from apps.documents.models import Document
from apps.documents.services import add_uploads, default_collection
from apps.inference import limiter
from apps.tenants.context import tenant_context
from tests.fake_inference import FakeInference

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
AVRANCHES = SHARED_DATA / "proces-verbaux"
COUTHENANS = SHARED_DATA / "pdf-couthenans"


def pages_of(path: Path) -> list[dict]:
    """Pages as the documents pipeline stores them (same extraction and cleaning)."""
    return [{"number": page.number, "text": page.text} for page in extract(path, filename=path.name, ocr=False).pages]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the jobs queued by a block when it commits (Celery is eager in tests)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture(autouse=True)
def no_matiere_suggestions(settings):
    """The routing's suggestions embed every objet (about a second each on CPU): off, except where a
    test is about them."""
    settings.MINUTES_MATIERE_SECONDS = 0


@pytest.fixture
def offline(settings):
    settings.INFERENCE_URL = ""
    settings.INFERENCE_ROUTES = []


@pytest.fixture
def fake_llm(settings, monkeypatch):
    """The fake TGI as the platform's inference server, with slots and breakers of its own in Redis."""
    monkeypatch.setattr(limiter, "KEY_PREFIX", f"test-minutes-{uuid.uuid4().hex}")
    with FakeInference(answer='{"deliberations": []}') as fake:
        settings.INFERENCE_URL = fake.url
        settings.INFERENCE_ROUTES = []
        settings.INFERENCE_RETRIES = 0
        settings.INFERENCE_RETRY_BACKOFF_SECONDS = 0.01
        settings.INFERENCE_TIMEOUT_SECONDS = 5
        yield fake
    client = limiter.redis_client()
    keys = list(client.scan_iter(f"{limiter.KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


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
        document = Document(authority=authority, collection=default_collection(authority), title=path.stem[:300],
                            kind=kind, original_filename=path.name, size=len(data),
                            content_hash=hashlib.sha256(data).hexdigest(), state=Document.State.INDEXED,
                            pages=pages_of(path))
        document.file.save(path.name, ContentFile(data), save=False)
        document.save()
    return document
