"""Role matrix of `/api/v1/jobs/`: every caller follows its authority's jobs; agents (and write keys)
start a diagnostic or retry a failed job; another authority's jobs are never reached."""

import pytest

from apps.jobs.models import Job

from . import matrix
from .objects import exists, make_job, read

pytestmark = pytest.mark.django_db


@matrix.action(
    "api:job-list", "GET", reader=200, agent=200, administrator=200, read_key=200, write_key=200, other_authority=200
)
def test_every_caller_lists_its_own_authority_jobs(caller, authority, other_authority):
    ours, theirs = make_job(authority), make_job(other_authority)
    response = caller.call()
    if caller.allowed:
        assert [row["id"] for row in response.json()["results"]] == [(theirs if caller.stranger else ours).pk]


@matrix.action(
    "api:job-detail", "GET", reader=200, agent=200, administrator=200, read_key=200, write_key=200, other_authority=404
)
def test_every_member_follows_a_job(caller, authority):
    job = make_job(authority, progress=40)
    response = caller.call(job.pk)
    if caller.allowed:
        assert response.json()["id"] == job.pk and response.json()["progress"] == 40


@matrix.action(
    "api:job-diagnostic",
    "POST",
    reader=403,
    agent=201,
    administrator=201,
    read_key=403,
    write_key=201,
    other_authority=201,
)
def test_agents_start_a_diagnostic_for_their_own_authority(caller, authority):
    response = caller.call()
    assert exists(Job, authority, kind="platform.diagnostic") is (caller.allowed and not caller.stranger)
    if caller.allowed:
        job = read(Job, caller.authority, pk=response.json()["id"])[0]
        assert job.kind == "platform.diagnostic" and job.state == Job.State.PENDING


@matrix.action(
    "api:job-retry", "POST", reader=403, agent=200, administrator=200, read_key=403, write_key=200, other_authority=404
)
def test_agents_retry_a_failed_job(caller, authority):
    job = make_job(authority, state=Job.State.FAILED, error="Le serveur ne répond pas.")
    response = caller.call(job.pk)
    state = read(Job, authority, pk=job.pk)[0].state
    assert state == (Job.State.PENDING if caller.allowed else Job.State.FAILED)
    if caller.allowed:
        assert response.json()["state"] == "pending" and response.json()["error"] == ""
