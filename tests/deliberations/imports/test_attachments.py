"""The acts' PDFs at DELIB_URL: downloaded from a real loopback server, stored as indexed Documents, linked,
their text copied onto the deliberation; web pages and dead links noted, not fatal; network down retried."""

import json
import socket

import pytest

from apps.deliberations.imports.attachments import FETCH_JOB, fetch_attachments
from apps.deliberations.imports.services import start_import
from apps.deliberations.models import Deliberation, ScdlImport
from apps.documents.models import Chunk, Collection, Document
from apps.jobs.errors import TransientJobError
from apps.jobs.models import Job
from apps.jobs.runner import JobRun
from apps.jobs.services import enqueue_job
from apps.tenants.context import tenant_context

from .support import COUTHENANS, RENNES, LoopbackServer, in_tenant, latest_import

pytestmark = pytest.mark.django_db
PDF = COUTHENANS / "CR_reunion_20211105.pdf"
PDF_HEADERS = {"Content-Type": "application/pdf"}
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8"}
PORTAL_PAGE = (
    b"<!DOCTYPE html><html lang='fr'><head><title>D\xc3\xa9lib\xc3\xa9rations</title></head>"
    b"<body><h1>Les d\xc3\xa9lib\xc3\xa9rations</h1></body></html>"
)


@pytest.fixture(autouse=True)
def fetching_on(import_settings):
    import_settings.DELIB_FETCH_ATTACHMENTS = True


def import_acts(authority, urls: list[str], run_import_job, publish=True) -> ScdlImport:
    """Real Rennes records pointing at the given URLs, imported (the follow-up jobs are left pending)."""
    records = json.loads(RENNES.read_text(encoding="utf-8"))[: len(urls)]
    for record, url in zip(records, urls, strict=True):
        record["delib_url"] = url
    with run_import_job(), tenant_context(authority.pk):
        start_import(authority=authority, source=ScdlImport.Source.API, records=records, publish=publish)
    return latest_import(authority)


def fetch(authority, scdl_import, run_on_commit) -> Job:
    with run_on_commit(), tenant_context(authority.pk):
        job = enqueue_job(authority=authority, kind=FETCH_JOB, params={"import_id": scdl_import.pk})
    return in_tenant(authority, lambda: Job.objects.get(pk=job.pk))


def deliberations(authority) -> list[Deliberation]:
    return in_tenant(
        authority, lambda: list(Deliberation.objects.select_related("document__collection").order_by("pk"))
    )


def test_a_pdf_is_stored_indexed_linked_and_its_text_copied(authority, run_import_job, run_on_commit):
    with LoopbackServer({"/actes/2023_0461.pdf": (200, PDF_HEADERS, PDF.read_bytes())}) as server:
        scdl_import = import_acts(authority, [f"{server.url}/actes/2023_0461.pdf"], run_import_job)
        job = fetch(authority, scdl_import, run_on_commit)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert (job.result["linked"], job.result["skipped"]) == (1, 0)
    [deliberation] = deliberations(authority)
    document = deliberation.document
    assert document is not None and document.state == Document.State.INDEXED, document and document.error
    assert (document.kind, document.date, document.matiere) == (
        "deliberation",
        deliberation.delib_date,
        deliberation.matiere_code,
    )
    assert document.title == deliberation.objet and document.metadata["delib_id"] == deliberation.delib_id
    assert document.collection.name == "Actes publiés"
    assert document.collection.visibility == Collection.Visibility.PUBLIC
    with document.file.open("rb") as handle:
        assert handle.read() == PDF.read_bytes()
    pages_text = "\n\n".join(page["text"] for page in document.pages if page["text"])
    assert len(pages_text) > 500 and deliberation.text == pages_text
    assert in_tenant(authority, lambda: Chunk.objects.filter(document=document).count()) > 0
    copy_job = in_tenant(authority, lambda: Job.objects.get(kind="deliberations.copy_attachment_texts"))
    assert copy_job.state == Job.State.SUCCEEDED and copy_job.result["copied"] == 1


def test_a_portal_page_instead_of_a_pdf_is_skipped_with_a_note_and_fetched_once(
    authority, run_import_job, run_on_commit
):
    with LoopbackServer(
        {
            "/vie-democratique/deliberations": (200, HTML_HEADERS, PORTAL_PAGE),
            "/acte.pdf": (200, PDF_HEADERS, PDF.read_bytes()),
        }
    ) as server:
        page = f"{server.url}/vie-democratique/deliberations"
        scdl_import = import_acts(authority, [page, page, page, f"{server.url}/absent.pdf"], run_import_job)
        job = fetch(authority, scdl_import, run_on_commit)
        assert server.hits.count("/vie-democratique/deliberations") == 1  # one request for the three rows
    assert job.state == Job.State.SUCCEEDED
    assert (job.result["examined"], job.result["linked"], job.result["skipped"]) == (4, 0, 4)
    notes = [note["note"] for note in job.result["notes"]]
    assert notes.count("L'adresse renvoie une page web, pas le PDF de l'acte.") == 3
    assert "Rien à cette adresse (erreur 404) : vérifiez le lien." in notes
    assert "0 acte(s) relié(s) à leur PDF sur 4 examiné(s) ; 4 non récupéré(s)" in job.result["message"]
    assert all(d.document is None for d in deliberations(authority))
    assert in_tenant(authority, lambda: Document.objects.count()) == 0


def test_a_pdf_served_as_octet_stream_is_accepted_but_a_fake_pdf_is_not(authority, run_import_job, run_on_commit):
    with LoopbackServer(
        {
            "/a": (200, {"Content-Type": "application/octet-stream"}, PDF.read_bytes()),
            "/b.pdf": (200, PDF_HEADERS, b"Ceci n'est pas un PDF, malgre son nom." * 10),
        }
    ) as server:
        scdl_import = import_acts(authority, [f"{server.url}/a", f"{server.url}/b.pdf"], run_import_job)
        job = fetch(authority, scdl_import, run_on_commit)
    assert (job.result["linked"], job.result["skipped"]) == (1, 1)
    assert [n["note"] for n in job.result["notes"]] == ["Le fichier à cette adresse n'est pas un PDF."]


def test_fetching_again_reuses_what_is_there(authority, run_import_job, run_on_commit):
    """Two URLs serving the same bytes give one document; a second run finds nothing left to fetch."""
    with LoopbackServer(
        {"/1.pdf": (200, PDF_HEADERS, PDF.read_bytes()), "/2.pdf": (200, PDF_HEADERS, PDF.read_bytes())}
    ) as server:
        scdl_import = import_acts(authority, [f"{server.url}/1.pdf", f"{server.url}/2.pdf"], run_import_job)
        fetch(authority, scdl_import, run_on_commit)
        again = fetch(authority, scdl_import, run_on_commit)
        assert sorted(server.hits) == ["/1.pdf", "/2.pdf"]
    linked = deliberations(authority)
    assert linked[0].document_id == linked[1].document_id is not None
    assert in_tenant(authority, lambda: Document.objects.count()) == 1
    assert again.state == Job.State.SUCCEEDED and again.result["examined"] == 0


def test_an_unpublished_act_goes_to_the_default_collection(authority, run_import_job, run_on_commit):
    with LoopbackServer({"/acte.pdf": (200, PDF_HEADERS, PDF.read_bytes())}) as server:
        scdl_import = import_acts(authority, [f"{server.url}/acte.pdf"], run_import_job, publish=False)
        fetch(authority, scdl_import, run_on_commit)
    [deliberation] = deliberations(authority)
    assert deliberation.document.collection.name == "Documents"
    assert deliberation.document.collection.visibility == Collection.Visibility.INTERNAL


def test_a_pdf_beyond_the_limit_is_noted(authority, run_import_job, run_on_commit, settings):
    settings.DELIB_ATTACHMENT_MAX_BYTES = 10 * 1024
    with LoopbackServer({"/gros.pdf": (200, PDF_HEADERS, PDF.read_bytes())}) as server:
        scdl_import = import_acts(authority, [f"{server.url}/gros.pdf"], run_import_job)
        job = fetch(authority, scdl_import, run_on_commit)
    assert job.result["notes"][0]["note"] == "Le PDF de l'acte dépasse la limite de 10 Ko."


def test_network_down_is_a_transient_error_for_the_runner_to_retry(authority, run_import_job):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    urls = [f"http://127.0.0.1:{port}/{n}.pdf" for n in range(5)]
    scdl_import = import_acts(authority, urls, run_import_job)
    run = JobRun(authority_id=authority.pk, job_id=scdl_import.job_id, params={"import_id": scdl_import.pk}, attempt=1)
    with pytest.raises(TransientJobError) as raised:
        fetch_attachments(run)
    assert "le réseau semble indisponible" in raised.value.user_message
    assert all(d.document is None for d in deliberations(authority))


def test_nothing_is_fetched_when_the_server_does_not_allow_it(authority, run_import_job, run_on_commit, settings):
    with LoopbackServer({"/acte.pdf": (200, PDF_HEADERS, PDF.read_bytes())}) as server:
        scdl_import = import_acts(authority, [f"{server.url}/acte.pdf"], run_import_job)
        settings.DELIB_FETCH_ATTACHMENTS = False
        job = fetch(authority, scdl_import, run_on_commit)
        assert server.hits == []
    assert "désactivée" in job.result["message"]
