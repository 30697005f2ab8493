from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.tenants.models import Membership
from tests.paths import SHARED_DATA

COUTHENANS = SHARED_DATA / "pdf-couthenans"
AVRANCHES = SHARED_DATA / "proces-verbaux"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def excerpt(path: Path, chars: int = 4000, name: str | None = None) -> SimpleUploadedFile:
    """The beginning of a real text file, cut at a line end: the local CPU embedder needs about a
    second per passage, so tests index excerpts and keep whole documents for the benchmarks."""
    text = path.read_text(errors="replace")
    cut = text.rfind("\n", 0, chars)
    return SimpleUploadedFile(name or path.name, text[: cut if cut > 0 else chars].encode())


@pytest.fixture
def agent_client(authority, member, client_for):
    return client_for(member(authority, role=Membership.Role.AGENT))


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the jobs queued by a block when it commits (Celery is eager in these tests)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
