"""API of subject routing, with its role matrix: suggest (reader), confirm a matière (agent), classify in
the background (agent); another authority's deliberation is never found."""

import pytest
from django.urls import reverse

from apps.deliberations.models import Deliberation
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import add_deliberation, level2_codes, suggestion

Role = Membership.Role
pytestmark = pytest.mark.django_db
SUGGEST = reverse("api:deliberation-suggest-matiere")
CLASSIFY = reverse("api:deliberation-classify")


def confirm_url(deliberation) -> str:
    return reverse("api:deliberation-set-matiere", args=[deliberation.pk])


@pytest.fixture
def pending(authority):
    return add_deliberation(
        authority,
        "Attribution d'une subvention au club de basket",
        embed=False,
        suggestions=[suggestion("7.5", 0.82), suggestion("7", 0.95, level=1)],
    )


def stored(authority, deliberation) -> Deliberation:
    with tenant_context(authority.pk):
        return Deliberation.objects.get(pk=deliberation.pk)


# --- suggest ----------------------------------------------------------------------------------------


def test_a_reader_gets_level2_then_level1_suggestions_for_an_objet(authority, member, api_client_for):
    response = api_client_for(member(authority, Role.READER)).post(
        SUGGEST, {"objet": "Emprunts", "k": 2}, format="json"
    )
    assert response.status_code == 200, response.content
    suggestions = response.json()["suggestions"]
    assert [s["level"] for s in suggestions] == [2, 2, 1, 1]
    assert level2_codes(suggestions)[0] == "7.3" and suggestions[2]["code"] == "7"
    assert set(suggestions[0]) == {"code", "label", "level", "score", "source"}


def test_a_read_key_may_ask_for_suggestions_and_anonymous_callers_may_not(authority, key_client, client):
    key, _ = key_client(authority, "read")
    assert key.post(SUGGEST, {"objet": "Marchés publics"}, format="json").status_code == 200
    assert client.post(SUGGEST, {"objet": "Marchés publics"}, content_type="application/json").status_code in (401, 403)


@pytest.mark.parametrize("body", [{}, {"objet": "   "}, {"objet": "x" * 2001}, {"objet": "Budget", "k": 0}])
def test_a_missing_or_oversized_objet_is_refused_in_french(authority, member, api_client_for, body):
    response = api_client_for(member(authority, Role.AGENT)).post(SUGGEST, body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"k" if "k" in body else "objet"}


# --- confirm ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMINISTRATOR])
def test_an_agent_confirms_a_matiere(authority, member, api_client_for, pending, role):
    response = api_client_for(member(authority, role)).post(confirm_url(pending), {"code": "7.5"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["matiere_nom"] == "Finances locales/Subventions"
    row = stored(authority, pending)
    assert (row.matiere_code, row.matiere_confirmed, row.matiere_suggestions) == ("7.5", True, [])


def test_a_reader_may_not_confirm_a_matiere(authority, member, api_client_for, pending):
    response = api_client_for(member(authority, Role.READER)).post(confirm_url(pending), {"code": "7.5"}, format="json")
    assert response.status_code == 403
    assert stored(authority, pending).matiere_code == ""


def test_anonymous_callers_may_not_confirm(authority, client, pending):
    assert client.post(confirm_url(pending), {"code": "7.5"}, content_type="application/json").status_code in (401, 403)
    assert stored(authority, pending).matiere_code == ""


@pytest.mark.parametrize("published", [False, True])
def test_an_agent_of_another_authority_gets_404_even_on_a_published_deliberation(
    authority, other_authority, member, api_client_for, pending, published
):
    with tenant_context(authority.pk):
        Deliberation.objects.filter(pk=pending.pk).update(published=published)
    response = api_client_for(member(other_authority, Role.AGENT)).post(
        confirm_url(pending), {"code": "3.1"}, format="json"
    )
    assert response.status_code == 404
    assert stored(authority, pending).matiere_code == ""


def test_an_unknown_code_is_refused_in_french_and_nothing_changes(authority, member, api_client_for, pending):
    response = api_client_for(member(authority, Role.AGENT)).post(confirm_url(pending), {"code": "7"}, format="json")
    assert response.status_code == 400
    assert "nomenclature" in response.json()["errors"]["code"][0]
    assert stored(authority, pending).matiere_suggestions  # kept for the agent


def test_a_write_key_confirms_and_a_read_key_may_not(authority, key_client, pending):
    read, _ = key_client(authority, "read")
    assert read.post(confirm_url(pending), {"code": "7.5"}, format="json").status_code == 403
    write, _ = key_client(authority, "write")
    assert write.post(confirm_url(pending), {"code": "7.5"}, format="json").status_code == 200


# --- classify ---------------------------------------------------------------------------------------


def test_an_agent_starts_a_classification_job_that_suggests(
    authority, member, api_client_for, django_capture_on_commit_callbacks
):
    target = add_deliberation(authority, "Garantie d'emprunt accordée à un bailleur social", embed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(member(authority, Role.AGENT)).post(CLASSIFY, {"ids": [target.pk]}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "deliberations.classify"
    with tenant_context(authority.pk):
        job = Job.objects.get(pk=body["id"])
    assert job.state == Job.State.SUCCEEDED and job.result["classified"] == 1
    assert level2_codes(stored(authority, target).matiere_suggestions)


def test_a_reader_may_not_start_a_classification(authority, member, api_client_for, pending):
    response = api_client_for(member(authority, Role.READER)).post(CLASSIFY, {"ids": [pending.pk]}, format="json")
    assert response.status_code == 403


def test_classifying_another_authoritys_deliberation_is_refused(authority, other_authority, member, api_client_for):
    theirs = add_deliberation(other_authority, "Subvention", embed=False, published=True)
    response = api_client_for(member(authority, Role.AGENT)).post(CLASSIFY, {"ids": [theirs.pk]}, format="json")
    assert response.status_code == 400
    assert "introuvable" in response.json()["errors"]["ids"][0]
    with tenant_context(authority.pk):
        assert not Job.objects.exists()
