"""Fixtures for the assistant: a small real corpus of council minutes and a way to run a question end to
end (helpers: support.py; the fake inference server on loopback, `fake_llm`, is the suite's)."""

import pytest

from apps.ai.models import Generation
from apps.assistant import services
from apps.documents.models import Document
from apps.documents.services import add_uploads
from apps.tenants.context import tenant_context
from tests.documents.support import AVRANCHES, excerpt

from .support import CANTINE, PISCINE, index_texts


@pytest.fixture
def corpus(authority, run_on_commit):
    index_texts(authority, {"cantine-2023.txt": CANTINE, "piscine-2023.txt": PISCINE}, run_on_commit)
    return authority


@pytest.fixture
def minutes(authority, run_on_commit):
    """An excerpt of real Avranches minutes."""
    with run_on_commit(), tenant_context(authority.pk):
        add_uploads(
            authority=authority,
            files=[excerpt(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt", 3000)],
            kind=Document.Kind.PROCES_VERBAL,
        )
    return authority


@pytest.fixture
def ask(run_on_commit):
    """ask(authority, user, question, **kw) -> the finished Generation (Celery is eager in tests)."""

    def run(authority, user, question, **kwargs):
        with run_on_commit(), tenant_context(authority.pk):
            generation = services.ask_question(authority=authority, user=user, question=question, **kwargs)
        with tenant_context(authority.pk):
            return Generation.objects.get(pk=generation.pk)

    return run
