"""A worker killed in the middle of a document: the job resumes on another worker, no duplicates."""

import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.models import Chunk, Document
from apps.documents.services import add_uploads
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from config.celery import app as celery_app

from ..celery_worker import celery_worker, wait_for_job
from .support import AVRANCHES

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_killed_worker_mid_document_then_resumed_without_duplicates(authority, tmp_path, settings, media_root):
    big = (AVRANCHES / "avranches_CM04.07.2017_-_PV.txt").read_text(errors="replace")[:30000]
    log = tmp_path / "worker.log"
    log.touch()
    env = {"MEDIA_ROOT": str(media_root), "CELERY_VISIBILITY_TIMEOUT_SECONDS": "3"}
    celery_app.conf.task_always_eager = False
    try:
        with celery_worker(log, **env) as first:
            with tenant_context(authority.pk):
                add_uploads(authority=authority, files=[SimpleUploadedFile("recueil.txt", big.encode())])
            with tenant_context(authority.pk):
                job = Document.objects.get().job
            midway = wait_for_job(job, timeout=120, until=lambda j: j.state == "running" and 40 <= j.progress < 90)
            first.send_signal(signal.SIGKILL)  # no warm shutdown: the message stays unacknowledged
            first.wait(timeout=10)
        with tenant_context(authority.pk):
            assert Chunk.objects.count() == 0  # nothing half-written
            assert Job.objects.get(pk=job.pk).state == "running"
        time.sleep(3)  # past the visibility timeout, Redis gives the message to the next worker
        with celery_worker(log, **env):
            done = wait_for_job(job, timeout=180)
    finally:
        celery_app.conf.task_always_eager = True
    assert done.state == "succeeded", log.read_text()[-3000:]
    assert done.attempts == 2 and midway.attempts == 1
    with tenant_context(authority.pk):
        document = Document.objects.get()
        positions = list(Chunk.objects.values_list("position", flat=True))
    assert document.state == "indexed"
    assert len(positions) == len(set(positions)) == done.result["chunks"]
