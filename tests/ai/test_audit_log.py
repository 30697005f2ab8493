"""Model calls made by other apps (extraction from minutes, matière choice) are audited like the
assistant's: they appear in the journal, its CSV export and their own generation page."""

import pytest

from apps import french
from apps.ai.calls import Record, governed_call
from apps.ai.models import Generation
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_an_extraction_read_in_two_parts_shows_in_the_journal_the_csv_and_its_page(
    authority, member, client_for, fake_llm
):
    fake_llm.answer = '{"deliberations": []}'
    record = Record(authority=authority, task="extraction", inputs={"characters": 9000, "parts": 2})
    for part in (1, 2):
        governed_call(
            authority,
            "extraction",
            "extract_deliberations",
            {"text": "M. Jean Dupont présente le budget.", "part": part, "parts": 2},
            record=record,
            schema={"type": "object"},
        )
    record.finish(output="{}")
    with tenant_context(authority.pk):
        generation = Generation.objects.get(pk=record.generation.pk)
    assert generation.prompt_tokens + generation.completion_tokens == fake_llm.tokens_served() > 0
    assert generation.outcome == Generation.Outcome.DONE and generation.model == "fake/tgi-model"
    assert generation.template == "extract_deliberations.v1" and generation.pseudonymised == 1
    client = client_for(member(authority, Membership.Role.ADMINISTRATOR))
    journal = client.get("/assistant/journal/")
    assert journal.status_code == 200 and "Extraction de délibérations" in journal.content.decode()
    tokens = french.number(fake_llm.tokens_served())
    assert f"{tokens} jetons sur un quota de 2\u202f000\u202f000" in journal.content.decode()
    export = client.get("/api/v1/assistant/audit.csv")
    assert export.status_code == 200
    assert "Extraction de délibérations" in b"".join(export.streaming_content).decode()
    assert client.get(f"/assistant/generations/{generation.pk}/").status_code == 200
