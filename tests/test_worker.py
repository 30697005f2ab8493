"""A real Celery worker, on the real Redis broker and the real database, runs jobs end to end."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connections

from apps.jobs.models import Job
from apps.jobs.services import enqueue_job
from apps.tenants.context import tenant_context
from config.celery import app as celery_app

from . import job_tasks  # noqa: F401 - registers the tests.count kind in this process too

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def database_url(alias="default"):
    s = connections[alias].settings_dict
    credentials = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    socket_dir = s["OPTIONS"].get("host") or (s["HOST"] if s["HOST"].startswith("/") else "")
    if socket_dir:
        return f"postgresql://{credentials}@/{s['NAME']}?host={socket_dir}"
    return f"postgresql://{credentials}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        url = database_url()
    env = {**os.environ, "DATABASE_URL": url, "CELERY_TASK_ALWAYS_EAGER": "false",
           "CELERY_IMPORTS": "tests.job_tasks", "JOB_RETRY_BASE_SECONDS": "0.2"}
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--hostname=test-worker@%h"],
            env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log.read_text()}")
        time.sleep(0.2)
    celery_app.conf.task_always_eager = False
    yield log
    celery_app.conf.task_always_eager = True
    process.terminate()
    process.wait(timeout=30)


def start(authority, kind, **params):
    with tenant_context(authority.pk):
        return enqueue_job(authority=authority, kind=kind, params=params)  # sent when this commits


def job_state(job, timeout=30, until=lambda job: not job.is_active):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(job.authority_id):
            current = Job.objects.get(pk=job.pk)
        if until(current):
            return current
        time.sleep(0.1)
    pytest.fail(f"job {job.pk} stuck in {current.state} ({current.message})")


def test_worker_runs_a_job_to_succeeded_with_visible_progress(worker, authority):
    job = start(authority, "tests.count", steps=5, pause=0.4)
    midway = job_state(job, until=lambda j: j.state == Job.State.RUNNING and 0 < j.progress < 100)
    assert midway.message.startswith("Étape")

    done = job_state(job)
    assert done.state == Job.State.SUCCEEDED, worker.read_text()[-3000:]
    assert done.progress == 100
    assert done.result["counted"] == 5
    assert done.message == "5 étapes comptées."
    assert done.started_at and done.finished_at and done.attempts == 1


def test_worker_records_a_failing_job_as_failed_with_its_error(worker, authority):
    done = job_state(start(authority, "tests.count", steps=1, fail=True))
    assert done.state == Job.State.FAILED
    assert done.error == "Échec voulu par le test."
    assert done.finished_at is not None


def test_worker_retries_transient_errors_with_backoff_then_succeeds(worker, authority):
    done = job_state(start(authority, "tests.count", steps=1, transient_failures=2))
    assert done.state == Job.State.SUCCEEDED, worker.read_text()[-3000:]
    assert done.attempts == 3
    assert done.result["attempt"] == 3


def test_worker_runs_the_platform_diagnostic(worker, authority):
    done = job_state(start(authority, "platform.diagnostic"))
    assert done.state == Job.State.SUCCEEDED, done.error
    assert done.result["checks"]["database"]["status"] == "ok"
    assert done.result["checks"]["broker"]["status"] == "ok"
    assert done.result["checks"]["inference"]["status"] == "disabled"
