"""Imports from a URL, fetched inside the job from a real loopback HTTP server: a CSV, a 404, a web page
instead of a file, a file beyond the limit (declared or not), a server too slow, a private address."""

import time

import pytest

from apps.deliberations.imports.job import import_scdl
from apps.deliberations.imports.services import start_import
from apps.deliberations.models import ScdlImport
from apps.jobs.errors import TransientJobError
from apps.jobs.models import Job
from apps.jobs.runner import JobRun
from apps.tenants.context import tenant_context

from .support import LoopbackServer, corrected_saint_etienne, job_of, latest_import, register

pytestmark = pytest.mark.django_db
CSV = {"Content-Type": "text/csv; charset=utf-8"}


def import_url(authority, url, run_import_job) -> ScdlImport:
    with run_import_job(), tenant_context(authority.pk):
        start_import(authority=authority, source=ScdlImport.Source.URL, url=url)
    return latest_import(authority)


def test_a_csv_at_a_url_is_downloaded_kept_and_imported(authority, run_import_job):
    data, fixed = corrected_saint_etienne(6)
    with LoopbackServer({"/open-data/deliberations-2022.csv": (200, CSV, data)}) as server:
        scdl_import = import_url(authority, f"{server.url}/open-data/deliberations-2022.csv", run_import_job)
    assert job_of(scdl_import).state == Job.State.SUCCEEDED
    assert scdl_import.report["created"] == 6 and sorted(register(authority)) == sorted(fixed)
    assert scdl_import.filename == "deliberations-2022.csv"
    with scdl_import.file.open("rb") as handle:
        assert handle.read() == data  # what was imported stays with the import


def test_a_url_without_extension_serving_json_is_read_as_json(authority, run_import_job):
    from .support import RENNES

    with LoopbackServer(
        {"/api/export?format=json": (200, {"Content-Type": "application/json"}, RENNES.read_bytes())}
    ) as server:
        scdl_import = import_url(authority, f"{server.url}/api/export?format=json", run_import_job)
    assert scdl_import.report["format"] == "json" and scdl_import.report["created"] == 152
    assert scdl_import.filename == "export.json"


@pytest.mark.parametrize(
    ("route", "fragment"),
    [
        ((404, {"Content-Type": "text/html"}, b"<html>introuvable</html>"), "Rien à cette adresse (erreur 404)"),
        ((403, {"Content-Type": "text/plain"}, b"non"), "refuse l'accès au fichier (erreur 403)"),
        (
            (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                b"<!DOCTYPE html><html><head><title>Deliberations</title></head><body>Telecharger</body></html>",
            ),
            "L'adresse renvoie une page web ou un document, pas un fichier CSV ou JSON",
        ),
        ((200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ..."), "pas un fichier CSV ou JSON"),
    ],
)
def test_a_url_that_gives_no_table_fails_with_a_french_reason(authority, run_import_job, route, fragment):
    with LoopbackServer({"/deliberations.csv": route}) as server:
        scdl_import = import_url(authority, f"{server.url}/deliberations.csv", run_import_job)
    job = job_of(scdl_import)
    assert job.state == Job.State.FAILED and fragment in job.error
    assert scdl_import.report["status"] == "failed" and fragment in scdl_import.report["message"]
    assert register(authority) == {}


@pytest.mark.parametrize("declared", [True, False])
def test_a_file_beyond_the_limit_is_refused_while_downloading(authority, run_import_job, settings, declared):
    settings.DELIB_IMPORT_MAX_BYTES = 10 * 1024
    data, _ = corrected_saint_etienne(6)
    headers = dict(CSV) if declared else {**CSV, "Content-Length": None}
    with LoopbackServer({"/big.csv": (200, headers, data)}) as server:
        scdl_import = import_url(authority, f"{server.url}/big.csv", run_import_job)
    job = job_of(scdl_import)
    assert job.state == Job.State.FAILED
    assert job.error == "Le fichier à cette adresse dépasse la limite de 10 Ko."
    assert not scdl_import.file and register(authority) == {}


def test_a_server_too_slow_is_a_transient_error_and_the_job_succeeds_once_it_answers(authority, settings):
    """The runner retries TransientJobError with backoff (tests/test_worker.py covers that path with a real
    worker); here the job function itself is called, as each attempt would be."""
    settings.DELIB_FETCH_TIMEOUT_SECONDS = 0.3
    data, fixed = corrected_saint_etienne(3)
    delay = {"seconds": 1.0}

    def slow():
        time.sleep(delay["seconds"])
        return data

    with LoopbackServer({"/slow.csv": (200, CSV, slow)}) as server, tenant_context(authority.pk):
        scdl_import = start_import(authority=authority, source=ScdlImport.Source.URL, url=f"{server.url}/slow.csv")
        run = JobRun(authority_id=authority.pk, job_id=scdl_import.job_id, params=scdl_import.job.params, attempt=1)
        with pytest.raises(TransientJobError) as raised:
            import_scdl(run)
        assert raised.value.user_message == (
            f"Le serveur 127.0.0.1:{server.httpd.server_address[1]} n'a pas "
            "répondu dans les 0,3 secondes ; nouvel essai plus tard."
        )
        delay["seconds"] = 0
        result = import_scdl(run)  # the next attempt
    assert result["created"] == 3 and sorted(register(authority)) == sorted(fixed)


def test_a_private_address_is_refused_unless_allowed(authority, run_import_job, settings):
    settings.DELIB_FETCH_ALLOW_PRIVATE_HOSTS = False
    data, _ = corrected_saint_etienne(2)
    with LoopbackServer({"/d.csv": (200, CSV, data)}) as server:
        scdl_import = import_url(authority, f"{server.url}/d.csv", run_import_job)
        assert server.hits == []  # refused before any request left
    job = job_of(scdl_import)
    assert job.state == Job.State.FAILED and "désigne un réseau interne" in job.error
