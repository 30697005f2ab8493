"""Imports API: start (multipart file, JSON url, JSON records), follow, read the report; role matrix with
sessions and API keys; other authorities see nothing; the OpenAPI schema describes it without warnings."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.deliberations.models import ScdlImport
from apps.tenants.models import Membership

from .support import RENNES, corrected_saint_etienne, in_tenant, register, upload

pytestmark = pytest.mark.django_db
Role = Membership.Role
URL = "/api/v1/deliberations/imports/"
CALLERS = ["anonymous", "reader", "agent", "administrator", "key_read", "key_write"]


class Clients(dict):
    """One API client per kind of caller, made on first use (users are slow to create)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, kind):
        self[kind] = self.make(kind)
        return self[kind]


@pytest.fixture
def clients(authority, member, api_client_for, key_client):
    def make(kind):
        if kind == "anonymous":
            return APIClient()
        if kind.startswith("key_"):
            return key_client(authority, scope=kind.removeprefix("key_"))[0]
        return api_client_for(member(authority, role=kind))

    return Clients(make)


def rennes(count=None):
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    return records[:count] if count else records


def test_rennes_records_through_the_api_store_7_10_as_text(authority, clients, run_import_job):
    with run_import_job():
        response = clients["key_write"].post(URL, {"records": rennes()}, format="json")
    assert response.status_code == 202, response.content
    created = response.json()
    assert (created["source"], created["state"], created["publish"], created["strict"]) == (
        "api",
        "pending",
        True,
        False,
    )
    assert created["job"] and created["filename"] == "enregistrements.json"
    detail = clients["key_read"].get(f"{URL}{created['id']}/").json()
    assert detail["state"] == "succeeded" and detail["progress"] == 100
    assert detail["report"]["created"] == 152 and detail["summary"]["created"] == 152
    stored = register(authority)
    divers = [r["delib_id"] for r in rennes() if r["delib_matiere_nom"] == "Finances locales/Divers"]
    assert divers and {stored[delib_id]["matiere_code"] for delib_id in divers} == {"7.10"}
    assert any(r["delib_matiere_code"] == 7.1 for r in rennes() if r["delib_id"] in divers)  # a JSON number


def test_a_multipart_file_import_publishes_by_default_and_reports(authority, clients, run_import_job):
    data, fixed = corrected_saint_etienne(4)
    with run_import_job():
        response = clients[Role.AGENT].post(URL, {"file": upload(data, "sem.csv")}, format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["publish"] is True and response.json()["source"] == "api"
    detail = clients[Role.READER].get(f"{URL}{response.json()['id']}/").json()
    report = detail["report"]
    assert (report["created"], report["invalid"], report["format"], report["delimiter"]) == (4, 76, "csv", ",")
    assert {i["row"] for i in report["issues"] if i["severity"] == "error"} and report["issue_totals"]
    assert sorted(register(authority)) == sorted(fixed)
    assert {r["published"] for r in register(authority).values()} == {True}
    listed = clients["key_read"].get(URL).json()["results"]
    assert [i["id"] for i in listed] == [detail["id"]] and "report" not in listed[0]


def test_strict_and_unpublished_flags_in_multipart(authority, clients, run_import_job):
    data, _ = corrected_saint_etienne(4)
    with run_import_job():
        response = clients["key_write"].post(
            URL, {"file": upload(data, "sem.csv"), "strict": "true", "publish": "false"}, format="multipart"
        )
    body = clients["key_write"].get(f"{URL}{response.json()['id']}/").json()
    assert (body["strict"], body["publish"], body["report"]["status"]) == (True, False, "rejected")
    assert register(authority) == {}


def test_a_url_import_is_accepted_and_fetched_by_the_job(authority, clients):
    response = clients["key_write"].post(URL, {"url": "https://data.exemple.fr/deliberations.csv"}, format="json")
    assert response.status_code == 202
    assert (response.json()["source"], response.json()["url"]) == ("url", "https://data.exemple.fr/deliberations.csv")
    stored = in_tenant(authority, lambda: ScdlImport.objects.select_related("job").get())
    assert not stored.file and stored.job.params["import_id"] == stored.pk


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "exactement l'un de"),
        ({"url": "https://exemple.fr/a.csv", "records": [{"delib_id": "1"}]}, "exactement l'un de"),
        ({"records": []}, "records"),
        ({"url": "ftp://exemple.fr/a.csv"}, "http:// ou https://"),
    ],
)
def test_bad_requests_are_400_with_reasons(clients, body, fragment):
    response = clients[Role.AGENT].post(URL, body, format="json")
    assert response.status_code == 400
    assert fragment in json.dumps(response.json(), ensure_ascii=False)


def test_records_beyond_the_size_limit_are_refused_in_french(authority, clients, settings):
    settings.DELIB_IMPORT_MAX_BYTES = 50 * 1024
    response = clients["key_write"].post(URL, {"records": rennes()}, format="json")
    assert response.status_code == 400
    assert "la limite est de 50 Ko par import" in response.json()["detail"]
    assert in_tenant(authority, lambda: ScdlImport.objects.count()) == 0


@pytest.mark.parametrize(
    ("caller", "create", "read"),
    [
        ("anonymous", 401, 401),
        (Role.READER, 403, 200),
        ("key_read", 403, 200),
        (Role.AGENT, 202, 200),
        ("key_write", 202, 200),
        (Role.ADMINISTRATOR, 202, 200),
    ],
)
def test_role_matrix(authority, clients, caller, create, read):
    existing = clients["key_write"].post(URL, {"records": rennes(2)}, format="json").json()
    client = clients[caller]
    assert client.post(URL, {"records": rennes(2)}, format="json").status_code == create
    assert client.get(URL).status_code == read
    assert client.get(f"{URL}{existing['id']}/").status_code == read


def test_another_authority_gets_404_on_the_detail_and_an_empty_list(
    authority, other_authority, member, api_client_for, key_client, clients
):
    mine = clients["key_write"].post(URL, {"records": rennes(2)}, format="json").json()
    for stranger in (
        api_client_for(member(other_authority, role=Role.ADMINISTRATOR)),
        key_client(other_authority, scope="write")[0],
    ):
        assert stranger.get(f"{URL}{mine['id']}/").status_code == 404
        assert stranger.get(URL).json()["results"] == []


def test_the_openapi_schema_describes_the_imports_without_warnings():
    output = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    schema = yaml.safe_load(output.getvalue())
    create = schema["paths"]["/api/v1/deliberations/imports/"]["post"]
    assert set(create["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert "202" in create["responses"]
    assert "/api/v1/deliberations/imports/{id}/" in schema["paths"]
