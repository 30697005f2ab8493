"""API of the register: the role matrix per action (anonymous, reader, agent, API keys, another
authority), filters, SCDL validation in French, publishing, sessions, the CSV export and the schema."""

import datetime
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from apps.deliberations.models import Deliberation, Session
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import RENNES_SIRET, add, add_rennes

Role = Membership.Role
pytestmark = pytest.mark.django_db

PAYLOAD = {
    "coll_nom": "Commune A",
    "coll_siret": RENNES_SIRET,
    "delib_id": "2024-020",
    "delib_date": "2024-04-02",
    "matiere_code": "7.5",
    "objet": "Subvention à l'association des parents",
    "vote_effectif": 19,
    "vote_reel": 18,
    "vote_pour": 18,
    "vote_contre": 0,
    "vote_abstention": 0,
}


def list_url():
    return reverse("api:deliberation-list")


def detail_url(pk, action=None):
    return reverse(f"api:deliberation-{action}" if action else "api:deliberation-detail", args=[pk])


@pytest.fixture
def ours(authority):
    return add(authority, delib_id="2023-001", objet="Subvention au club de football", published=False)


def test_anonymous_calls_are_refused(client, ours):
    assert client.get(list_url()).status_code in (401, 403)
    assert client.get(detail_url(ours.pk)).status_code in (401, 403)
    assert client.post(list_url(), PAYLOAD, content_type="application/json").status_code in (401, 403)
    assert client.get(reverse("api:deliberation-export")).status_code in (401, 403)


def test_reader_lists_and_retrieves_but_cannot_write(authority, member, api_client_for, ours):
    client = api_client_for(member(authority, Role.READER))
    listing = client.get(list_url()).json()
    assert [d["delib_id"] for d in listing["results"]] == ["2023-001"]
    assert client.get(detail_url(ours.pk)).json()["objet"] == "Subvention au club de football"
    assert client.post(list_url(), PAYLOAD, format="json").status_code == 403
    assert client.patch(detail_url(ours.pk), {"objet": "x"}, format="json").status_code == 403
    assert client.post(detail_url(ours.pk, "publish")).status_code == 403
    assert client.delete(detail_url(ours.pk)).status_code == 403


def test_agent_creates_edits_publishes_unpublishes_and_deletes(authority, member, api_client_for):
    client = api_client_for(member(authority, Role.AGENT))
    created = client.post(list_url(), PAYLOAD, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["matiere_nom"] == "Finances locales/Subventions" and body["origin"] == "api"
    assert body["published"] is False
    pk = body["id"]
    edited = client.patch(detail_url(pk), {"decision": "Adoptée à l'unanimité"}, format="json")
    assert edited.status_code == 200 and edited.json()["decision"] == "Adoptée à l'unanimité"
    assert client.post(detail_url(pk, "publish")).json()["published"] is True
    assert client.get(reverse("public-deliberation", args=[authority.slug, pk])).status_code == 200
    assert client.post(detail_url(pk, "unpublish")).json()["published"] is False
    assert client.delete(detail_url(pk)).status_code == 204
    with tenant_context(authority.pk):
        assert not Deliberation.objects.exists()


def test_scdl_rules_answer_400_in_french_per_field(authority, member, api_client_for):
    client = api_client_for(member(authority, Role.AGENT))
    response = client.post(list_url(), PAYLOAD | {"coll_siret": "12345678901234", "vote_pour": 30}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "SIRET valide" in " ".join(errors["coll_siret"])
    assert any("diffère" in message for message in errors["vote_reel"])
    unknown = client.post(list_url(), PAYLOAD | {"matiere_code": "7.99"}, format="json")
    assert unknown.status_code == 400 and "nomenclature" in " ".join(unknown.json()["errors"]["matiere_code"])
    add(authority, delib_id="2024-020")
    duplicate = client.post(list_url(), PAYLOAD, format="json")
    assert duplicate.status_code == 400 and "porte déjà ce numéro" in duplicate.json()["errors"]["delib_id"][0]


def test_publishing_without_a_matiere_answers_400_with_the_reasons(authority, member, api_client_for):
    pending = add(authority, delib_id="2024-030", matiere_code="")
    client = api_client_for(member(authority, Role.AGENT))
    response = client.post(detail_url(pending.pk, "publish"))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Publication impossible."
    assert "obligatoire" in " ".join(body["errors"]["non_field_errors"])


def test_another_authoritys_deliberations_are_not_found_even_published(
    authority, other_authority, member, api_client_for
):
    theirs = add(other_authority, delib_id="B-1", published=True)
    client = api_client_for(member(authority, Role.ADMINISTRATOR))
    assert client.get(detail_url(theirs.pk)).status_code == 404
    assert client.patch(detail_url(theirs.pk), {"objet": "x"}, format="json").status_code == 404
    assert client.post(detail_url(theirs.pk, "unpublish")).status_code == 404
    assert client.delete(detail_url(theirs.pk)).status_code == 404
    assert client.get(list_url()).json()["count"] == 0


def test_api_keys_read_with_read_scope_and_write_with_write_scope(authority, key_client, ours):
    reader, _ = key_client(authority, "read")
    assert reader.get(list_url()).json()["count"] == 1
    assert reader.post(list_url(), PAYLOAD, format="json").status_code == 403
    writer, _ = key_client(authority, "write")
    assert writer.post(list_url(), PAYLOAD, format="json").status_code == 201


def test_filters_year_matiere_published_and_query(authority, member, api_client_for):
    budget = add_rennes(authority, "7.1", published=False)
    divers = add_rennes(authority, "7.10")
    old = add_rennes(authority, "7.5", delib_date=datetime.date(2020, 1, 15), pref_date=None)
    client = api_client_for(member(authority, Role.READER))

    def ids(**params):
        return {d["delib_id"] for d in client.get(list_url(), params).json()["results"]}

    assert ids(matiere="7.1") == {budget.delib_id}
    assert ids(matiere="7.10") == {divers.delib_id}
    assert ids(matiere="7") == {budget.delib_id, divers.delib_id, old.delib_id}
    assert ids(year=2020) == {old.delib_id}
    assert ids(published="0") == {budget.delib_id}
    assert ids(q="clôture gymnase lycee") == {divers.delib_id}  # « Clôture entre le gymnase et le lycée »
    assert ids(q="subvention radios") == {old.delib_id}
    assert client.get(list_url(), {"matiere": "7.99"}).status_code == 400


def test_sessions_crud_and_roles(authority, member, api_client_for):
    agent = api_client_for(member(authority, Role.AGENT))
    reader = api_client_for(member(authority, Role.READER))
    created = agent.post(
        reverse("api:deliberation-session-list"),
        {"date": "2024-03-12", "title": "Conseil du 12 mars", "agenda": "1. Budget"},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    with tenant_context(authority.pk):
        session = Session.objects.get(pk=pk)
    add(authority, delib_id="2024-001", session=session)
    listed = reader.get(reverse("api:deliberation-session-list")).json()["results"]
    assert listed[0]["deliberation_count"] == 1 and listed[0]["title"] == "Conseil du 12 mars"
    assert (
        reader.post(reverse("api:deliberation-session-list"), {"date": "2024-01-01"}, format="json").status_code == 403
    )
    assert (
        agent.patch(
            reverse("api:deliberation-session-detail", args=[pk]), {"title": "Séance ordinaire"}, format="json"
        ).json()["title"]
        == "Séance ordinaire"
    )
    assert agent.delete(reverse("api:deliberation-session-detail", args=[pk])).status_code == 204
    with tenant_context(authority.pk):
        assert Deliberation.objects.get(delib_id="2024-001").session_id is None


def test_export_csv_is_published_only_by_default(authority, member, api_client_for, ours):
    add_rennes(authority, "7.5")
    client = api_client_for(member(authority, Role.READER))
    response = client.get(reverse("api:deliberation-export"), HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("COLL_NOM,COLL_SIRET,DELIB_ID") and "2023-001" not in text
    everything = client.get(reverse("api:deliberation-export"), {"published": "0"}).content.decode()
    assert "2023-001" in everything


def test_detail_routes_only_take_numbers():
    assert reverse("api:deliberation-detail", args=[12]) == "/api/v1/deliberations/12/"
    from django.urls import Resolver404, resolve

    for path in ("/api/v1/deliberations/imports/", "/api/v1/deliberations/classify/"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert match.url_name != "deliberation-detail", path


def test_openapi_schema_lists_the_register_without_warnings():
    output = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    paths = yaml.safe_load(output.getvalue())["paths"]
    for path in (
        "/api/v1/deliberations/",
        "/api/v1/deliberations/{id}/",
        "/api/v1/deliberations/{id}/publish/",
        "/api/v1/deliberations/{id}/unpublish/",
        "/api/v1/deliberations/export.csv",
        "/api/v1/deliberation-sessions/",
        "/api/v1/deliberation-sessions/{id}/",
    ):
        assert path in paths, path
