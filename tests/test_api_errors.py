"""Every 400 of the API has one envelope: {"detail": "<one French sentence>", "errors": {"<field or
non_field_errors>": ["…"]}} (apps/core/api.py), whichever route refuses and however it refuses."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.api import INVALID_REQUEST, error_envelope
from apps.documents.models import Document
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership
from tests.api.objects import make_collection, make_document
from tests.deliberations.register.support import add as add_deliberation

pytestmark = pytest.mark.django_db
Role = Membership.Role
APPS = Path(__file__).resolve().parents[1] / "apps"


def assert_envelope(response) -> dict:
    """The 400 has exactly `detail` (a French sentence) and `errors` (field → list of messages)."""
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"].strip() and body["detail"][-1] in ".?!»)", body
    assert isinstance(body["errors"], dict), body
    for field, messages in body["errors"].items():
        assert isinstance(field, str) and messages and all(isinstance(m, str) and m for m in messages), body
    return body


@pytest.fixture
def agent(authority, member, api_client_for):
    return api_client_for(member(authority, role=Role.AGENT))


def test_a_serializer_validation_error_names_its_fields(agent, authority):
    body = assert_envelope(agent.post("/api/v1/deliberations/", {"coll_siret": "123", "objet": ""}, format="json"))
    assert body["detail"] == INVALID_REQUEST
    assert body["errors"]["objet"] == ["Ce champ ne peut être vide."]
    assert body["errors"]["delib_date"] == ["Ce champ est obligatoire."]


def test_a_publication_refusal_gives_its_reasons(agent, authority):
    draft = add_deliberation(authority, delib_id="2024-030", matiere_code="")
    body = assert_envelope(agent.post(f"/api/v1/deliberations/{draft.pk}/publish/"))
    assert body["detail"] == "Publication impossible."
    assert list(body["errors"]) == ["non_field_errors"]
    assert "obligatoire" in " ".join(body["errors"]["non_field_errors"])


def test_a_minutes_refusal_is_its_sentence(agent, authority):
    collection = make_collection(authority)
    with tenant_context(authority.pk):
        pending = Document.objects.create(
            authority=authority,
            collection=collection,
            title="PV du 4 mars",
            original_filename="pv.pdf",
            content_hash=hashlib.sha256(b"pv").hexdigest(),
            kind=Document.Kind.PROCES_VERBAL,
            state=Document.State.PENDING,
        )
    body = assert_envelope(agent.post("/api/v1/deliberations/minutes/", {"document": pending.pk}, format="json"))
    assert body["detail"].startswith("Le document n'est pas encore indexé") and body["errors"] == {}


def test_an_import_refusal_is_its_sentence(agent):
    body = assert_envelope(
        agent.post("/api/v1/deliberations/imports/", {"url": "ftp://exemple.fr/a.csv"}, format="json")
    )
    assert "http:// ou https://" in body["detail"] and body["errors"] == {}


def test_an_import_request_without_a_source_is_a_non_field_error(agent):
    body = assert_envelope(agent.post("/api/v1/deliberations/imports/", {}, format="json"))
    assert "exactement l'un de" in body["detail"] and body["errors"] == {"non_field_errors": [body["detail"]]}


def test_an_assistant_refusal_is_its_sentence(agent):
    body = assert_envelope(agent.post("/api/v1/assistant/tools/summary/", {"text": ""}, format="json"))
    assert body["detail"] == "Collez un texte ou choisissez un document." and body["errors"] == {}


def test_a_view_refusal_names_its_field(agent, authority):
    body = assert_envelope(agent.post("/api/v1/deliberations/classify/", {"ids": [999_999]}, format="json"))
    assert body["detail"] == INVALID_REQUEST and "introuvable" in body["errors"]["ids"][0]


def test_a_search_without_words_and_an_upload_of_bad_files(agent):
    body = assert_envelope(agent.get("/api/v1/search/"))
    assert body["errors"] == {"q": ["Indiquez ce que vous cherchez."]}
    body = assert_envelope(
        agent.post("/api/v1/documents/", {"files": [SimpleUploadedFile("x.exe", b"MZ")]}, format="multipart")
    )
    assert "format non pris en charge" in body["detail"] and body["errors"] == {"files": [body["detail"]]}


def test_a_collection_with_documents_and_the_last_administrator(authority, member, api_client_for):
    admin = member(authority, role=Role.ADMINISTRATOR)
    client = api_client_for(admin)
    document = make_document(authority)
    body = assert_envelope(client.delete(f"/api/v1/collections/{document.collection_id}/"))
    assert "contient des documents" in body["detail"] and body["errors"] == {}
    with tenant_context(authority.pk):
        own = Membership.objects.get(user=admin)
    body = assert_envelope(client.patch(f"/api/v1/members/{own.pk}/", {"role": "reader"}, format="json"))
    assert list(body["errors"]) == ["role"] and body["detail"] == INVALID_REQUEST


def test_malformed_json_is_refused_in_the_envelope(agent):
    body = assert_envelope(
        agent.generic("POST", "/api/v1/deliberations/classify/", "{pas du json", content_type="application/json")
    )
    assert body["errors"] == {}


# --- how the envelope is built ---------------------------------------------------------------------------------


def test_the_envelope_flattens_nested_and_listed_errors():
    assert error_envelope({"ids": {0: ["Un nombre entier valide est requis."]}, "__all__": ["Deux sources."]}) == {
        "detail": INVALID_REQUEST,
        "errors": {"ids": ["Un nombre entier valide est requis."], "non_field_errors": ["Deux sources."]},
    }
    assert error_envelope(["Une seule phrase."]) == {
        "detail": "Une seule phrase.",
        "errors": {"non_field_errors": ["Une seule phrase."]},
    }
    assert error_envelope({"detail": "Publication impossible.", "role": "Dernier administrateur."}) == {
        "detail": "Publication impossible.",
        "errors": {"role": ["Dernier administrateur."]},
    }


def test_no_api_module_builds_a_400_by_hand():
    """A 400 goes through the exception handler (raise ValidationError), which gives it the envelope."""
    offenders = [
        str(path.relative_to(APPS))
        for path in APPS.rglob("api.py")
        if "HTTP_400_BAD_REQUEST" in path.read_text() or "status=400" in path.read_text()
    ]
    assert offenders == []
