from celery import shared_task

from apps.jobs.models import Job
from apps.jobs.runner import job_task
from apps.jobs.services import enqueue_job
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority

from . import indexing
from .embeddings import get_embedder
from .models import Chunk

REEMBED_JOB = "documents.reembed"

index_document = job_task("documents.index", "Indexation d'un document")(indexing.index_document)
reembed_outdated = job_task(REEMBED_JOB, "Recalcul des plongements")(indexing.reembed_outdated)


@shared_task(name="documents.schedule_reembedding")
def schedule_reembedding() -> int:
    """Beat: when the embedding model changed, queue one re-embedding job per affected authority."""
    model_id, queued = get_embedder().model_id, 0
    for authority in Authority.objects.all():
        with tenant_context(authority.pk):
            busy = Job.objects.filter(kind=REEMBED_JOB, state__in=[Job.State.PENDING, Job.State.RUNNING]).exists()
            if not busy and Chunk.objects.exclude(embedding_model=model_id).exists():
                enqueue_job(authority=authority, kind=REEMBED_JOB)
                queued += 1
    return queued
