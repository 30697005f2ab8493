"""Role matrix of `/api/v1/documents/`: every caller reads its authority's documents and their pages;
agents (and write keys) upload, change, delete and reindex them; only administrators read the indexed
passages; another authority's documents are never reached."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.models import Document
from apps.documents.services import INDEX_JOB
from apps.jobs.models import Job

from . import matrix
from .objects import CANTINE, exists, make_document, read

pytestmark = pytest.mark.django_db


@matrix.action(
    "api:document-list",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_lists_its_own_authority_documents(caller, authority, other_authority):
    ours, theirs = make_document(authority, "Cantine"), make_document(other_authority, "Piscine")
    response = caller.call()
    if caller.allowed:
        assert [row["id"] for row in response.json()["results"]] == [(theirs if caller.stranger else ours).pk]


@matrix.action(
    "api:document-list",
    "POST",
    reader=403,
    agent=201,
    administrator=201,
    read_key=403,
    write_key=201,
    other_authority=201,
)
def test_agents_upload_documents_to_their_own_authority(caller, authority):
    upload = SimpleUploadedFile("cantine-2023.txt", CANTINE.encode(), content_type="text/plain")
    response = caller.call(data={"files": [upload], "kind": "deliberation"}, format="multipart")
    assert exists(Document, authority, original_filename="cantine-2023.txt") is (caller.allowed and not caller.stranger)
    if caller.allowed:
        body = response.json()
        assert body["errors"] == [] and [d["original_filename"] for d in body["documents"]] == ["cantine-2023.txt"]
        document = read(Document, caller.authority, pk=body["documents"][0]["id"])[0]
        assert document.state == Document.State.PENDING and document.source == "API"


@matrix.action(
    "api:document-detail",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_a_document(caller, authority):
    document = make_document(authority)
    response = caller.call(document.pk)
    if caller.allowed:
        body = response.json()
        assert (body["id"], body["title"], body["progress"]) == (document.pk, document.title, 100)


@matrix.action(
    "api:document-detail",
    "PATCH",
    reader=403,
    agent=200,
    administrator=200,
    read_key=403,
    write_key=200,
    other_authority=404,
)
def test_agents_change_a_document(caller, authority):
    document = make_document(authority)
    response = caller.call(document.pk, data={"title": "Tarifs 2024"})
    stored = read(Document, authority, pk=document.pk)[0]
    assert stored.title == ("Tarifs 2024" if caller.allowed else document.title)
    if caller.allowed:
        assert response.json()["title"] == "Tarifs 2024"


@matrix.action(
    "api:document-detail",
    "DELETE",
    reader=403,
    agent=204,
    administrator=204,
    read_key=403,
    write_key=204,
    other_authority=404,
)
def test_agents_delete_a_document(caller, authority):
    document = make_document(authority)
    caller.call(document.pk)
    assert exists(Document, authority, pk=document.pk) is not caller.allowed


@matrix.action(
    "api:document-pages",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_a_document_page_by_page(caller, authority):
    document = make_document(authority)
    response = caller.call(document.pk)
    if caller.allowed:
        assert response.json() == [{"number": 1, "text": CANTINE}]


@matrix.action(
    "api:document-chunks",
    "GET",
    reader=403,
    agent=403,
    administrator=200,
    read_key=403,
    write_key=403,
    other_authority=404,
)
def test_administrators_read_the_indexed_passages(caller, authority):
    document = make_document(authority)
    response = caller.call(document.pk)
    if caller.allowed:
        assert [(c["position"], c["text"]) for c in response.json()] == [(0, CANTINE)]


@matrix.action(
    "api:document-reindex",
    "POST",
    reader=403,
    agent=202,
    administrator=202,
    read_key=403,
    write_key=202,
    other_authority=404,
)
def test_agents_reindex_a_document(caller, authority):
    document = make_document(authority)
    response = caller.call(document.pk)
    stored = read(Document, authority, pk=document.pk)[0]
    assert stored.state == (Document.State.PENDING if caller.allowed else Document.State.INDEXED)
    assert exists(Job, authority, kind=INDEX_JOB) is caller.allowed
    if caller.allowed:
        assert response.json()["id"] == document.pk and response.json()["state"] == "pending"
