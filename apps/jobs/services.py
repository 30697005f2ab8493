"""Job lifecycle: enqueue, start, report progress, finish. Each write is its own short transaction
so progress is visible to the pages while the work goes on."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.tenants.context import tenant_context
from apps.tenants.models import Authority

from .models import Job
from .registry import task_for

logger = logging.getLogger(__name__)
State = Job.State
BROKER_DOWN_MESSAGE = "Le service de traitement en arrière-plan est indisponible ; réessayez dans quelques minutes."


def enqueue_job(*, authority, kind: str, created_by=None, params: dict | None = None) -> Job:
    """Create a pending job and hand it to a worker once the surrounding transaction commits."""
    task = task_for(kind)
    job = Job.objects.create(
        authority=authority,
        kind=kind,
        created_by=created_by,
        params=params or {},
        message="En attente d'un processus de traitement…",
    )
    transaction.on_commit(lambda: _send(task, authority.pk, job.pk))
    return job


def _send(task, authority_id: int, job_id: int) -> None:
    try:
        task.apply_async(args=(authority_id, job_id), retry=True, retry_policy={"max_retries": 2})
    except Exception:  # the broker is unreachable: say so on the job rather than leave it pending forever
        logger.exception("Could not send job %s to the broker", job_id)
        finish_job(authority_id, job_id, state=State.FAILED, error=BROKER_DOWN_MESSAGE)


def retry_job(*, job: Job) -> Job:
    """Send a failed job again (its task is idempotent)."""
    if job.state != State.FAILED:
        return job
    Job.objects.filter(pk=job.pk).update(
        state=State.PENDING, progress=0, error="", finished_at=None, message="Relancé, en attente…"
    )
    transaction.on_commit(lambda: _send(task_for(job.kind), job.authority_id, job.pk))
    job.refresh_from_db()
    return job


def begin_job(authority_id: int, job_id: int) -> Job | None:
    """Mark the job running. None when it is gone or already finished (a redelivered message)."""
    with tenant_context(authority_id):
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("Job %s of authority %s not found; skipping", job_id, authority_id)
            return None
        if job.state in (State.SUCCEEDED, State.FAILED):
            logger.info("Job %s already %s; skipping redelivery", job_id, job.state)
            return None
        now = timezone.now()
        job.state, job.error, job.heartbeat_at = State.RUNNING, "", now
        job.started_at = job.started_at or now
        job.attempts += 1
        job.message = "En cours…"
        job.save(update_fields=["state", "error", "heartbeat_at", "started_at", "attempts", "message"])
        return job


def report_progress(authority_id: int, job_id: int, percent: int, message: str = "") -> None:
    with tenant_context(authority_id):
        fields = {"progress": max(0, min(100, int(percent))), "heartbeat_at": timezone.now()}
        if message:
            fields["message"] = message[:500]
        Job.objects.filter(pk=job_id, state=State.RUNNING).update(**fields)


def note_retry(authority_id: int, job_id: int, countdown: float) -> None:
    with tenant_context(authority_id):
        Job.objects.filter(pk=job_id).update(
            message=f"Erreur temporaire ; nouvel essai dans {round(countdown)} s.", heartbeat_at=timezone.now()
        )


def finish_job(
    authority_id: int, job_id: int, *, state: str, result: dict | None = None, error: str = "", message: str = ""
) -> None:
    with tenant_context(authority_id):
        fields = {"state": state, "finished_at": timezone.now(), "error": error[:5000]}
        if state == State.SUCCEEDED:
            fields.update(progress=100, result=result or {}, message=message or "Terminé.")
        else:
            fields["message"] = message or "Échec."
        Job.objects.filter(pk=job_id).update(**fields)


def fail_stale_jobs() -> int:
    """Fail running jobs whose worker stopped giving signs of life (killed, machine restarted)."""
    limit = timezone.now() - timedelta(minutes=settings.JOB_STALE_AFTER_MINUTES)
    failed = 0
    for authority_id in Authority.objects.values_list("pk", flat=True):
        with tenant_context(authority_id):
            failed += Job.objects.filter(state=State.RUNNING, heartbeat_at__lt=limit).update(
                state=State.FAILED,
                finished_at=timezone.now(),
                message="Échec.",
                error="Le traitement s'est interrompu sans donner de nouvelles (processus arrêté) ; relancez-le.",
            )
    return failed
