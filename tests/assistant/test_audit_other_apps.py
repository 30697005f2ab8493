"""Model calls made by other apps' jobs (extraction from minutes, matière choice) are audited like
the assistant's: they appear in the journal, its CSV export and their own generation page."""

import pytest

from apps.assistant import audit
from apps.assistant.models import Generation
from apps.inference.gateway import Completion
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

pytestmark = pytest.mark.django_db


def completion(text: str) -> Completion:
    return Completion(text=text, model="mistral-small", route="default", prompt_tokens=700, completion_tokens=40,
                      tokens_estimated=False, latency_ms=120, finish_reason="stop", energy_wh=0.04, co2_g=0.002)


def test_an_extraction_call_shows_in_the_journal_the_csv_and_its_page(authority, member, client_for):
    generation = audit.record_model_call(
        authority_id=authority.pk, task=Generation.Task.EXTRACTION, inputs={"characters": 9000, "parts": 1},
        completions=[completion('{"deliberations": []}'), completion('{"deliberations": []}')],
        template="extract_deliberations.v1", pseudonymised=3)
    with tenant_context(authority.pk):
        generation.refresh_from_db()
    assert generation.prompt_tokens == 1400 and generation.outcome == Generation.Outcome.DONE
    assert generation.model == "mistral-small" and generation.pseudonymised == 3
    client = client_for(member(authority, Membership.Role.ADMINISTRATOR))
    journal = client.get("/assistant/journal/")
    assert journal.status_code == 200 and "Extraction de délibérations" in journal.content.decode()
    export = client.get("/api/v1/assistant/audit.csv")
    assert export.status_code == 200
    assert "Extraction de délibérations" in b"".join(export.streaming_content).decode()
    assert client.get(f"/assistant/generations/{generation.pk}/").status_code == 200
