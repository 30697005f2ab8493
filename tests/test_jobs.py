"""Job services and runner, in process (the real-worker path is in test_worker.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.jobs import services
from apps.jobs.models import Job
from apps.jobs.services import enqueue_job, fail_stale_jobs
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from . import job_tasks  # noqa: F401 - registers tests.count
from .factories import JobFactory

pytestmark = pytest.mark.django_db


def reload(job):
    with tenant_context(job.authority_id):
        return Job.objects.get(pk=job.pk)


def test_enqueued_job_runs_after_commit(authority, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(authority.pk):
        job = enqueue_job(authority=authority, kind="tests.count", params={"steps": 2})
        assert job.state == Job.State.PENDING
    done = reload(job)
    assert (done.state, done.progress, done.result["counted"]) == (Job.State.SUCCEEDED, 100, 2)


def test_failing_job_keeps_a_french_error(authority, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(authority.pk):
        job = enqueue_job(authority=authority, kind="tests.count", params={"fail": True})
    assert reload(job).state == Job.State.FAILED
    assert reload(job).error == "Échec voulu par le test."


def test_redelivered_message_of_a_finished_job_does_nothing(authority):
    job = JobFactory(authority=authority, kind="tests.count", state=Job.State.SUCCEEDED, progress=100)
    assert services.begin_job(authority.pk, job.pk) is None
    assert reload(job).attempts == 0


def test_job_of_another_authority_is_not_found_by_the_runner(authority, other_authority):
    job = JobFactory(authority=other_authority, kind="tests.count")
    assert services.begin_job(authority.pk, job.pk) is None  # ids must match: RLS hides it


def test_unreachable_broker_fails_the_job_with_a_clear_message(authority, settings, django_capture_on_commit_callbacks):
    from config.celery import app

    def use_broker(url):
        app.conf.broker_url = url
        app._pool, app.amqp._producer_pool = None, None  # drop connections cached for the old URL

    app.conf.task_always_eager = False
    original = app.conf.broker_url
    use_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with django_capture_on_commit_callbacks(execute=True), tenant_context(authority.pk):
            job = enqueue_job(authority=authority, kind="tests.count")
    finally:
        use_broker(original)
        app.conf.task_always_eager = True
    assert reload(job).state == Job.State.FAILED
    assert "indisponible" in reload(job).error


def test_stale_running_jobs_are_failed_by_the_scheduled_task(authority):
    old = JobFactory(authority=authority, state=Job.State.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=3))
    alive = JobFactory(authority=authority, state=Job.State.RUNNING, heartbeat_at=timezone.now())
    assert fail_stale_jobs() == 1
    assert reload(old).state == Job.State.FAILED and "interrompu" in reload(old).error
    assert reload(alive).state == Job.State.RUNNING


def test_failed_job_can_be_retried_from_the_page(authority, member, client_for, django_capture_on_commit_callbacks):
    job = JobFactory(authority=authority, kind="tests.count", state=Job.State.FAILED, error="boom")
    client = client_for(member(authority, role=Membership.Role.AGENT))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/travaux/{job.pk}/relancer/").status_code == 302
    assert reload(job).state == Job.State.SUCCEEDED


def test_jobs_page_polls_only_while_a_job_is_active(authority, member, client_for):
    client = client_for(member(authority, role=Membership.Role.READER))
    JobFactory(authority=authority, state=Job.State.SUCCEEDED, progress=100)
    assert 'hx-trigger="every 2s"' not in client.get("/travaux/").content.decode()
    JobFactory(authority=authority, state=Job.State.RUNNING, progress=40, message="Étape 2 sur 5")
    page = client.get("/travaux/").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'value="40"' in page and "Étape 2 sur 5" in page
    partial = client.get("/travaux/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="jobs-table"') and "<html" not in partial


def test_reader_cannot_start_a_diagnostic_but_an_agent_can(authority, member, client_for):
    reader = client_for(member(authority, role=Membership.Role.READER))
    assert reader.post("/travaux/diagnostic/").status_code == 403
    agent = client_for(member(authority, role=Membership.Role.AGENT))
    assert agent.post("/travaux/diagnostic/").status_code == 302
    with tenant_context(authority.pk):
        assert Job.objects.filter(kind="platform.diagnostic").count() == 1
