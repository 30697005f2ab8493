"""`job_task`: turns a plain function into an idempotent, retrying Celery task that keeps its Job
up to date. Tasks receive ids only (authority id, job id); parameters live on the Job row."""

import logging
import random
from dataclasses import dataclass

import httpx
import redis
from celery import shared_task
from django.conf import settings
from django.db import OperationalError, close_old_connections

from apps.tenants.context import tenant_context

from . import services
from .errors import TransientJobError
from .models import Job
from .registry import register

logger = logging.getLogger(__name__)

# Infrastructure errors worth another try; an exception may also say so itself with `retryable = True`.
TRANSIENT_ERRORS = (TransientJobError, OperationalError, redis.ConnectionError, httpx.TransportError)
DEFAULT_MAX_RETRIES = 5
MAX_BACKOFF_SECONDS = 600


@dataclass
class JobRun:
    """What a job function gets: its ids, its parameters, and a way to report progress."""

    authority_id: int
    job_id: int
    params: dict
    attempt: int

    def progress(self, percent: int, message: str = "") -> None:
        services.report_progress(self.authority_id, self.job_id, percent, message)

    def tenant(self):
        """A transaction scoped to this job's authority. Keep them short: progress written
        inside one is only visible once it commits."""
        return tenant_context(self.authority_id)


def backoff_seconds(retries: int) -> float:
    base = settings.JOB_RETRY_BASE_SECONDS
    return min(MAX_BACKOFF_SECONDS, base * 2**retries) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy


def is_transient(exc: Exception) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS) or getattr(exc, "retryable", False) is True


def user_message(exc: Exception) -> str:
    message = getattr(exc, "user_message", None)
    if isinstance(message, str) and message:
        return message
    return f"Erreur inattendue ({type(exc).__name__}). L'équipe technique peut la retrouver dans les journaux."


def job_task(kind: str, label: str, *, max_retries: int = DEFAULT_MAX_RETRIES):
    """Register `fn(run: JobRun) -> dict | None` as the task for jobs of `kind`."""

    def decorator(fn):
        @shared_task(bind=True, name=kind, max_retries=max_retries, acks_late=True)
        def task(self, authority_id: int, job_id: int):
            run_job(self, fn, authority_id, job_id)

        register(kind, label, task)
        return task

    return decorator


def _retry(task, exc, job_id: int):
    close_old_connections()
    countdown = backoff_seconds(task.request.retries)
    logger.warning("Job %s (%s) hit a transient error, retrying in %.1fs: %r", job_id, task.name, countdown, exc)
    return countdown


def run_job(task, fn, authority_id: int, job_id: int) -> None:
    try:
        job = services.begin_job(authority_id, job_id)
    except TRANSIENT_ERRORS as exc:  # database restarting: the job is still pending, try again later
        raise task.retry(exc=exc, countdown=_retry(task, exc, job_id)) from exc
    if job is None:
        return
    run = JobRun(authority_id=authority_id, job_id=job_id, params=job.params, attempt=job.attempts)
    try:
        result = fn(run)
    except Exception as exc:  # recorded on the job; the traceback goes to the logs
        if not is_transient(exc):
            logger.exception("Job %s (%s) failed", job_id, task.name)
        elif task.request.retries < task.max_retries:
            countdown = _retry(task, exc, job_id)
            services.note_retry(authority_id, job_id, countdown)
            raise task.retry(exc=exc, countdown=countdown) from exc
        else:
            logger.exception("Job %s (%s) failed after %s retries", job_id, task.name, task.max_retries)
        services.finish_job(authority_id, job_id, state=Job.State.FAILED, error=user_message(exc))
    else:
        services.finish_job(
            authority_id,
            job_id,
            state=Job.State.SUCCEEDED,
            result=result or {},
            message=(result or {}).get("message", ""),
        )
