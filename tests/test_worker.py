"""A real Celery worker, on the real Redis broker and the real database, runs jobs end to end."""

import pytest

from apps.jobs.models import Job
from apps.jobs.services import enqueue_job
from apps.tenants.context import tenant_context
from config.celery import app as celery_app

from . import job_tasks  # noqa: F401 - registers the tests.count kind in this process too
from .celery_worker import celery_worker, wait_for_job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    log.touch()
    with django_db_blocker.unblock(), celery_worker(log):
        celery_app.conf.task_always_eager = False
        yield log
    celery_app.conf.task_always_eager = True


def start(authority, kind, **params):
    with tenant_context(authority.pk):
        return enqueue_job(authority=authority, kind=kind, params=params)  # sent when this commits


def test_worker_runs_a_job_to_succeeded_with_visible_progress(worker, authority):
    job = start(authority, "tests.count", steps=5, pause=0.4)
    midway = wait_for_job(job, until=lambda j: j.state == Job.State.RUNNING and 0 < j.progress < 100)
    assert midway.message.startswith("Étape")

    done = wait_for_job(job)
    assert done.state == Job.State.SUCCEEDED, worker.read_text()[-3000:]
    assert done.progress == 100
    assert done.result["counted"] == 5
    assert done.message == "5 étapes comptées."
    assert done.started_at and done.finished_at and done.attempts == 1


def test_worker_records_a_failing_job_as_failed_with_its_error(worker, authority):
    done = wait_for_job(start(authority, "tests.count", steps=1, fail=True))
    assert done.state == Job.State.FAILED
    assert done.error == "Échec voulu par le test."
    assert done.finished_at is not None


def test_worker_retries_transient_errors_with_backoff_then_succeeds(worker, authority):
    done = wait_for_job(start(authority, "tests.count", steps=1, transient_failures=2))
    assert done.state == Job.State.SUCCEEDED, worker.read_text()[-3000:]
    assert done.attempts == 3
    assert done.result["attempt"] == 3


def test_worker_runs_the_platform_diagnostic(worker, authority):
    done = wait_for_job(start(authority, "platform.diagnostic"))
    assert done.state == Job.State.SUCCEEDED, done.error
    assert done.result["checks"]["database"]["status"] == "ok"
    assert done.result["checks"]["broker"]["status"] == "ok"
    assert done.result["checks"]["inference"]["status"] == "disabled"
