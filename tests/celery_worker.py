"""Start a real Celery worker (separate process) on the test database and the test Redis."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parent.parent


def database_url(alias="default"):
    s = connections[alias].settings_dict
    credentials = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    socket_dir = s["OPTIONS"].get("host") or (s["HOST"] if s["HOST"].startswith("/") else "")
    if socket_dir:
        return f"postgresql://{credentials}@/{s['NAME']}?host={socket_dir}"
    return f"postgresql://{credentials}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def celery_worker(log_path: Path, **env_overrides):
    """Yields the worker process once it is ready; stops it (warm shutdown) afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_IMPORTS": "tests.job_tasks",
        "JOB_RETRY_BASE_SECONDS": "0.2",
        **env_overrides,
    }
    with log_path.open("a") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-Q",
                "celery,generation",
                "--without-gossip",
                "--without-mingle",
                "--hostname=test-worker@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    start, deadline = log_path.read_text().count("ready."), time.monotonic() + 60
    while log_path.read_text().count("ready.") <= start:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_job(job, timeout=30, until=lambda job: not job.is_active):
    """Poll the job (as the application would) until `until(job)`; fail with its state otherwise."""
    from apps.jobs.models import Job
    from apps.tenants.context import tenant_context

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(job.authority_id):
            current = Job.objects.get(pk=job.pk)
        if until(current):
            return current
        time.sleep(0.1)
    pytest.fail(f"job {job.pk} stuck in {current.state} ({current.message})")
