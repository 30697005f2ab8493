"""Writes of the assistant: asking, requesting a writing tool, rating. Each request becomes a
Generation and a job; the worker does the rest (running.py)."""

from django.db import transaction

from apps import french
from apps.ai import usage
from apps.ai.errors import QuotaExceeded
from apps.ai.models import Conversation, Generation
from apps.jobs.services import enqueue_job

from .errors import AssistantError
from .tasks import GENERATE_JOB

MAX_QUESTION_CHARS = 2_000
MAX_TEXT_CHARS = 200_000


def _check_quota(authority) -> None:
    """Refuse at once rather than queue a request the worker would refuse."""
    try:
        usage.check_quota(authority)
    except QuotaExceeded as exc:
        raise AssistantError(exc.user_message) from exc


def _start(*, authority, user, task: str, inputs: dict, conversation=None) -> Generation:
    generation = Generation.objects.create(
        authority=authority, user=user, task=task, input=inputs, conversation=conversation
    )
    job = enqueue_job(authority=authority, kind=GENERATE_JOB, created_by=user, params={"generation_id": generation.pk})
    Generation.objects.filter(pk=generation.pk).update(job=job)
    generation.job = job
    return generation


@transaction.atomic
def ask_question(
    *, authority, user, question: str, conversation: Conversation | None = None, collections: list[int] | None = None
) -> Generation:
    question = " ".join((question or "").split())
    if not question:
        raise AssistantError("Posez une question.")
    if len(question) > MAX_QUESTION_CHARS:
        raise AssistantError(f"La question est trop longue (plus de {MAX_QUESTION_CHARS} caractères).")
    _check_quota(authority)
    if conversation is None:
        conversation = Conversation.objects.create(
            authority=authority, user=user, title=question[:200], collections=sorted(collections or [])
        )
    else:
        conversation.save(update_fields=["updated_at"])
    return _start(
        authority=authority,
        user=user,
        task=Generation.Task.ANSWER,
        conversation=conversation,
        inputs={"question": question, "collections": conversation.collections},
    )


@transaction.atomic
def request_tool(*, authority, user, task: str, inputs: dict, stream: bool = True) -> Generation:
    """`inputs` has been validated by the caller's form or serializer (writing.inputs describes them).
    stream=False for batch work nobody watches live: the worker then asks for whole replies."""
    if sum(len(str(value)) for value in inputs.values()) > MAX_TEXT_CHARS:
        raise AssistantError(f"Le texte est trop long (plus de {french.number(MAX_TEXT_CHARS)} caractères).")
    _check_quota(authority)
    return _start(authority=authority, user=user, task=task, inputs=inputs | ({} if stream else {"stream": False}))


def rate(*, generation: Generation, rating: int, reason: str = "") -> Generation:
    if rating not in (1, -1):
        raise AssistantError("L'avis doit être « utile » ou « pas utile ».")
    generation.rating, generation.rating_reason = rating, (reason or "").strip()[:500]
    generation.save(update_fields=["rating", "rating_reason"])
    return generation
