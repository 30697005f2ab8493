"""Documents API: batch upload, state and progress, pages, chunks, re-index, delete, by role."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.documents.models import Chunk, Collection, Document
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .support import COUTHENANS, upload

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def clients(authority, member, api_client_for, key_client):
    return {
        "reader": api_client_for(member(authority, role=Role.READER)),
        "agent": api_client_for(member(authority, role=Role.AGENT)),
        "administrator": api_client_for(member(authority, role=Role.ADMINISTRATOR)),
        "key_write": key_client(authority, scope="write")[0],
        "key_read": key_client(authority, scope="read")[0],
    }


def test_batch_upload_through_the_api_with_a_write_key(authority, clients, run_on_commit):
    with run_on_commit():
        response = clients["key_write"].post(
            "/api/v1/documents/",
            {
                "files": [
                    upload(COUTHENANS / "CR_reunion_20211105.pdf"),
                    SimpleUploadedFile("note.md", "# Note\n\nLa fête du village aura lieu le 14 juillet.".encode()),
                    SimpleUploadedFile("image.png", b"\x89PNG\r\n"),
                ],
                "kind": "compte_rendu",
                "date": "2021-11-05",
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [d["original_filename"] for d in body["documents"]] == ["CR_reunion_20211105.pdf", "note.md"]
    assert body["errors"] == [{"file": "image.png", "detail": body["errors"][0]["detail"]}]
    assert "format non pris en charge" in body["errors"][0]["detail"]
    listed = clients["key_read"].get("/api/v1/documents/").json()["results"]
    assert {d["state"] for d in listed} == {"indexed"} and {d["progress"] for d in listed} == {100}
    assert {d["source"] for d in listed} == {"API"}


def test_upload_with_only_bad_files_is_400_with_reasons(clients):
    response = clients["agent"].post(
        "/api/v1/documents/", {"files": [SimpleUploadedFile("x.exe", b"MZ")]}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert "format non pris en charge" in body["detail"] and body["errors"] == {"files": [body["detail"]]}


@pytest.mark.parametrize(
    ("caller", "upload_status", "chunks_status", "delete_status"),
    [
        ("reader", 403, 403, 403),
        ("key_read", 403, 403, 403),
        ("agent", 201, 403, 204),
        ("key_write", 201, 403, 204),
        ("administrator", 201, 200, 204),
    ],
)
def test_document_endpoints_by_role(
    caller, upload_status, chunks_status, delete_status, authority, clients, run_on_commit
):
    client = clients[caller]
    with run_on_commit():
        created = client.post(
            "/api/v1/documents/", {"files": [SimpleUploadedFile("a.txt", b"Budget de la voirie.")]}, format="multipart"
        )
    assert created.status_code == upload_status
    if upload_status != 201:
        with run_on_commit():
            clients["agent"].post(
                "/api/v1/documents/", {"files": [SimpleUploadedFile("a.txt", b"Budget voirie.")]}, format="multipart"
            )
    with tenant_context(authority.pk):
        document = Document.objects.get()
    assert client.get(f"/api/v1/documents/{document.pk}/").status_code == 200
    pages = client.get(f"/api/v1/documents/{document.pk}/pages/")
    assert pages.status_code == 200 and "voirie" in pages.json()[0]["text"]
    assert client.get(f"/api/v1/documents/{document.pk}/chunks/").status_code == chunks_status
    assert client.delete(f"/api/v1/documents/{document.pk}/").status_code == delete_status


def test_reindex_through_the_api_keeps_one_set_of_chunks(authority, clients, run_on_commit):
    with run_on_commit():
        clients["agent"].post(
            "/api/v1/documents/", {"files": [upload(COUTHENANS / "CR_reunion_20211105.pdf")]}, format="multipart"
        )
    with tenant_context(authority.pk):
        document, count = Document.objects.get(), Chunk.objects.count()
    with run_on_commit():
        response = clients["agent"].post(f"/api/v1/documents/{document.pk}/reindex/")
    assert response.status_code == 202
    with tenant_context(authority.pk):
        assert Chunk.objects.count() == count


def test_collections_are_managed_by_administrators(authority, clients):
    assert clients["agent"].post("/api/v1/collections/", {"name": "RH"}).status_code == 403
    created = clients["administrator"].post("/api/v1/collections/", {"name": "Site public", "visibility": "public"})
    assert created.status_code == 201
    duplicate = clients["administrator"].post("/api/v1/collections/", {"name": "site PUBLIC"})
    assert duplicate.status_code == 400 and "déjà ce nom" in duplicate.json()["errors"]["name"][0]
    assert [c["name"] for c in clients["reader"].get("/api/v1/collections/").json()["results"]] == ["Site public"]


def test_search_api_validates_its_parameters(clients):
    assert clients["reader"].get("/api/v1/search/").status_code == 400
    assert clients["reader"].get("/api/v1/search/", {"q": "budget", "mode": "magique"}).status_code == 400
    assert clients["reader"].get("/api/v1/search/", {"q": "budget", "limit": "beaucoup"}).status_code == 200
    assert APIClient().get("/api/v1/search/", {"q": "budget"}).status_code == 401


def test_other_authority_gets_404_on_documents(authority, other_authority, member, api_client_for, run_on_commit):
    with run_on_commit(), tenant_context(authority.pk):
        from apps.documents.services import add_uploads

        add_uploads(authority=authority, files=[SimpleUploadedFile("a.txt", b"Budget de la voirie.")])
    with tenant_context(authority.pk):
        document = Document.objects.get()
        assert Collection.objects.count() == 1
    stranger = api_client_for(member(other_authority, role=Role.ADMINISTRATOR))
    for path in ("", "pages/", "chunks/"):
        assert stranger.get(f"/api/v1/documents/{document.pk}/{path}").status_code == 404
    assert stranger.delete(f"/api/v1/documents/{document.pk}/").status_code == 404
    assert stranger.get("/api/v1/documents/").json()["count"] == 0
