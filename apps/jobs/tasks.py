from celery import shared_task

from . import services


@shared_task(name="jobs.fail_stale_jobs")
def fail_stale_jobs() -> int:
    return services.fail_stale_jobs()
