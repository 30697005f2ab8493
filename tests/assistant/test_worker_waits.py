"""With a real Celery worker: while the inference service is down, a question waits (the page says
so) and is retried; when the service is back, the answer arrives and nothing was lost."""

import time

import pytest
from django.test import Client

from apps.ai.models import Generation
from apps.assistant import services
from apps.documents.models import Document
from apps.documents.services import add_uploads
from apps.tenants.context import tenant_context
from config.celery import app as celery_app
from tests.celery_worker import celery_worker, wait_for_job
from tests.fake_inference import FakeInference

from .support import CANTINE

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def shared_media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def media_root(settings, shared_media):  # the worker reads the files this process stores
    settings.MEDIA_ROOT = shared_media


@pytest.fixture(scope="module")
def fake_server():
    with FakeInference(answer="Le repas coûte 3,20 euros [1].") as fake:
        yield fake


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory, fake_server, shared_media):
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    log.touch()
    env = {
        "INFERENCE_URL": fake_server.url,
        "INFERENCE_RETRIES": "0",
        "INFERENCE_BREAKER_COOLDOWN_SECONDS": "0.5",
        "JOB_RETRY_BASE_SECONDS": "0.3",
        "MEDIA_ROOT": str(shared_media),
    }
    with django_db_blocker.unblock(), celery_worker(log, **env):
        celery_app.conf.task_always_eager = False
        yield log
    celery_app.conf.task_always_eager = True


def wait_for(generation, until, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(generation.authority_id):
            current = Generation.objects.get(pk=generation.pk)
        if until(current):
            return current
        time.sleep(0.1)
    pytest.fail(f"generation {generation.pk} stuck in {current.outcome}")


def test_a_question_waits_while_the_ai_service_is_down_then_gets_its_answer(
    worker, authority, member, fake_server, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with tenant_context(authority.pk):
        (outcome,) = add_uploads(authority=authority, files=[SimpleUploadedFile("cantine.txt", CANTINE.encode())])
    assert wait_for_job(outcome.document.job, timeout=120).state == "succeeded", worker.read_text()[-3000:]
    with tenant_context(authority.pk):
        assert Document.objects.get().state == Document.State.INDEXED

    settings.INFERENCE_URL = fake_server.url  # this process renders the pages: generative mode
    fake_server.fail_next(1000, "503")
    user = member(authority)
    with tenant_context(authority.pk):
        generation = services.ask_question(
            authority=authority, user=user, question="Quel est le prix du repas à la cantine ?"
        )
    waiting = wait_for(generation, lambda g: g.outcome == Generation.Outcome.WAITING)
    client = Client()
    client.force_login(user)
    page = client.get(f"/assistant/generations/{waiting.pk}/").content.decode()
    assert "En attente du service d'IA" in page

    time.sleep(1)
    fake_server.reset()  # the service is back
    done = wait_for(generation, lambda g: g.is_finished)
    assert done.outcome == Generation.Outcome.DONE, (done.error, worker.read_text()[-3000:])
    assert done.output == "Le repas coûte 3,20 euros [1]."
    with tenant_context(authority.pk):
        job = wait_for_job(done.job)
    assert job.state == "succeeded" and job.attempts >= 2
