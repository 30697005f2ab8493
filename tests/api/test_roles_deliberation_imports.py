"""Role matrix of `/api/v1/deliberations/imports/`: every caller follows its authority's SCDL imports and
reads their reports; agents (and write keys) start one, which writes into their own register only."""

import json
from contextlib import contextmanager

import pytest

from apps.deliberations.imports.services import IMPORT_JOB, start_import
from apps.deliberations.models import Deliberation, ScdlImport
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from tests.paths import SCDL

from . import matrix
from .objects import exists, read

pytestmark = pytest.mark.django_db


def rennes_records(count: int) -> list[dict]:
    """The first rows of Rennes' real register, without their acts' addresses (nothing to fetch)."""
    rows = json.loads((SCDL / "deliberations-ville-de-rennes-extrait-152.json").read_text(encoding="utf-8"))
    return [row | {"delib_url": None} for row in rows[:count]]


def make_import(authority, count=1) -> ScdlImport:
    """An import as the API starts it: its records kept, its job queued (not run)."""
    with tenant_context(authority.pk):
        return start_import(authority=authority, source=ScdlImport.Source.API, records=rennes_records(count))


@pytest.fixture
def run_import_job(django_capture_on_commit_callbacks, settings):
    """Run the import job a block queues, not the jobs it queues in turn (classification embeds)."""
    settings.DELIB_FETCH_ATTACHMENTS = False

    @contextmanager
    def run():
        with django_capture_on_commit_callbacks() as callbacks:
            yield
        for callback in callbacks:
            callback()

    return run


@matrix.action(
    "api:deliberation-import-list",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=200,
)
def test_every_caller_lists_its_own_authority_imports(caller, authority, other_authority):
    ours, theirs = make_import(authority), make_import(other_authority)
    response = caller.call()
    if caller.allowed:
        rows = response.json()["results"]
        assert [row["id"] for row in rows] == [(theirs if caller.stranger else ours).pk]
        assert (rows[0]["source"], rows[0]["state"]) == ("api", "pending") and "report" not in rows[0]


@matrix.action(
    "api:deliberation-import-list",
    "POST",
    reader=403,
    agent=202,
    administrator=202,
    read_key=403,
    write_key=202,
    other_authority=202,
)
def test_agents_import_records_into_their_own_authority_register(caller, authority, run_import_job):
    records = rennes_records(2)
    with run_import_job():
        response = caller.call(data={"records": records})
    ids, ours = sorted(row["delib_id"] for row in records), caller.allowed and not caller.stranger
    assert exists(ScdlImport, authority) is ours
    assert sorted(d.delib_id for d in read(Deliberation, authority)) == (ids if ours else [])
    if caller.allowed:
        body = response.json()
        assert (body["source"], body["filename"], body["publish"]) == ("api", "enregistrements.json", True)
        scdl_import = read(ScdlImport, caller.authority, pk=body["id"])[0]
        assert read(Job, caller.authority, pk=body["job"], kind=IMPORT_JOB)[0].state == Job.State.SUCCEEDED
        assert scdl_import.report["created"] == 2
        imported = read(Deliberation, caller.authority, last_import=scdl_import)
        assert sorted(d.delib_id for d in imported) == ids and all(d.published for d in imported)


@matrix.action(
    "api:deliberation-import-detail",
    "GET",
    reader=200,
    agent=200,
    administrator=200,
    read_key=200,
    write_key=200,
    other_authority=404,
)
def test_every_member_reads_an_import_and_its_report(caller, authority):
    scdl_import = make_import(authority, count=2)
    response = caller.call(scdl_import.pk)
    if caller.allowed:
        body = response.json()
        assert (body["id"], body["source"], body["job"], body["state"]) == (
            scdl_import.pk,
            "api",
            scdl_import.job_id,
            "pending",
        )
        assert body["report"] == {"publish": True, "strict": False}
