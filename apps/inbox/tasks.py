from celery import shared_task

from apps.jobs.runner import job_task
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority

from . import mail, services

send_reply = job_task(mail.SEND_JOB, "Envoi d'une réponse à un habitant")(mail.send_reply_email)


@shared_task(name="inbox.purge_expired_messages")
def purge_expired_messages() -> int:
    """Beat, nightly: closed messages past each authority's retention period are deleted."""
    purged = 0
    for authority in Authority.objects.all():
        with tenant_context(authority.pk):
            purged += services.purge_expired(authority)
    return purged
