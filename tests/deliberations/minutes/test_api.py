"""API of extraction from minutes: start on a document, read a session's proposals, accept with
corrections (once), reject; each action against every role and another authority."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.deliberations.models import Deliberation, Session
from apps.documents.models import Document
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import COUTHENANS, add_minutes, stored_minutes

Role = Membership.Role
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "offline")]
START = reverse("api:deliberation-minutes")


def proposals_url(session_id):
    return reverse("api:deliberation-proposals", args=[session_id])


def proposal_id(session_id, position) -> str:
    """The stable id of the session's proposal shown at `position` (read as platform staff)."""
    with tenant_context(platform_staff=True):
        return Session.all_tenants.get(pk=session_id).proposals[position]["id"]


def accept_url(session_id, position):
    return reverse("api:deliberation-proposal-accept", args=[session_id, proposal_id(session_id, position)])


def reject_url(session_id, position):
    return reverse("api:deliberation-proposal-reject", args=[session_id, proposal_id(session_id, position)])


@pytest.fixture
def january(authority):
    return stored_minutes(authority, COUTHENANS / "CR_reunion_20210129.pdf", kind=Document.Kind.COMPTE_RENDU)


@pytest.fixture
def agent_api(authority, member, api_client_for):
    return api_client_for(member(authority, Role.AGENT))


@pytest.fixture
def session_id(january, agent_api, run_on_commit):
    with run_on_commit():
        response = agent_api.post(START, {"document": january.pk}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["job"]["kind"] == "deliberations.extract_minutes"
    return response.json()["session"]


def test_an_agent_extracts_then_reads_the_proposals(agent_api, session_id):
    body = agent_api.get(proposals_url(session_id)).json()
    assert body["session"]["date"] == "2021-01-29" and body["job"]["state"] == "succeeded"
    assert [p["id"] for p in body["proposals"]] == [proposal_id(session_id, n) for n in range(4)]
    assert len({p["id"] for p in body["proposals"]}) == 4
    accdm = body["proposals"][3]
    assert accdm["objet"].startswith("Adhésion aux associations — ACCDM")
    assert (accdm["vote_pour"], accdm["vote_abstention"], accdm["votes_derived"]) == (9, 5, False)
    assert body["proposals"][0]["vote_pour"] == 14 and body["proposals"][0]["votes_derived"] is True
    assert {p["status"] for p in body["proposals"]} == {"pending"}


def test_accept_with_corrections_is_idempotent_and_reject_is_kept(authority, agent_api, session_id):
    corrections = {"delib_id": "2021-007", "objet": "Adhésion à l'ACCDM", "matiere_code": "7.5"}
    first = agent_api.post(accept_url(session_id, 3), corrections, format="json")
    again = agent_api.post(accept_url(session_id, 3), corrections, format="json")
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (first.json()["delib_id"], first.json()["vote_pour"], first.json()["published"]) == ("2021-007", 9, False)
    assert first.json()["matiere_nom"] and first.json()["origin"] == "minutes"
    assert agent_api.post(reject_url(session_id, 0)).json()["status"] == "rejected"
    refused = agent_api.post(reject_url(session_id, 3))
    assert refused.status_code == 400 and "déjà validée" in refused.json()["detail"]
    with tenant_context(authority.pk):
        assert Deliberation.objects.count() == 1
        statuses = [p["status"] for p in Session.objects.get(pk=session_id).proposals]
    assert statuses == ["rejected", "pending", "pending", "accepted"]


def test_invalid_corrections_are_explained_per_field(agent_api, session_id):
    response = agent_api.post(accept_url(session_id, 3), {"matiere_code": "99.9", "vote_reel": 3}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "nomenclature" in errors["matiere_code"][0] and "votants" in errors["vote_reel"][0]
    url = reverse("api:deliberation-proposal-accept", args=[session_id, "0123456789ab"])
    missing = agent_api.post(url, {}, format="json")
    assert missing.status_code == 404 and "n'existe plus" in missing.json()["detail"]


def test_a_document_not_indexed_is_refused(authority, agent_api, run_on_commit):
    document = add_minutes(authority, run_on_commit, COUTHENANS / "CR_reunion_20210409.pdf", index=False)
    response = agent_api.post(START, {"document": document.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Le document n'est pas encore indexé")


def test_role_matrix(authority, other_authority, member, api_client_for, key_client, january, session_id):
    anonymous = APIClient()
    assert [
        anonymous.get(proposals_url(session_id)).status_code,
        anonymous.post(START, {"document": january.pk}, format="json").status_code,
    ] == [401, 401]
    reader = api_client_for(member(authority, Role.READER))
    assert reader.get(proposals_url(session_id)).status_code == 200
    assert [
        reader.post(START, {"document": january.pk}, format="json").status_code,
        reader.post(accept_url(session_id, 0), {}, format="json").status_code,
        reader.post(reject_url(session_id, 0)).status_code,
    ] == [403, 403, 403]
    read_key, _ = key_client(authority, "read")
    assert read_key.get(proposals_url(session_id)).status_code == 200
    assert read_key.post(reject_url(session_id, 0)).status_code == 403
    stranger = api_client_for(member(other_authority, Role.ADMINISTRATOR))
    assert [
        stranger.get(proposals_url(session_id)).status_code,
        stranger.post(START, {"document": january.pk}, format="json").status_code,
        stranger.post(accept_url(session_id, 0), {}, format="json").status_code,
        stranger.post(reject_url(session_id, 0)).status_code,
    ] == [404, 404, 404, 404]
    write_key, _ = key_client(authority, "write")
    assert write_key.post(accept_url(session_id, 1), {}, format="json").status_code == 201
    with tenant_context(authority.pk):
        assert [p["status"] for p in Session.objects.get(pk=session_id).proposals][:2] == ["pending", "accepted"]
