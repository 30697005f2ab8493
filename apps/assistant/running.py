"""Running a generation in a worker: one job per generation, retried while the inference service is
down or saturated (the page says « en attente du service d'IA »), audited whatever the outcome."""

import logging

from django.utils import timezone

from apps.ai import streaming
from apps.ai.calls import Record
from apps.ai.errors import InferenceFailure, InferenceUnavailable, QuotaExceeded
from apps.ai.models import Generation
from apps.jobs.errors import JobError
from apps.jobs.runner import DEFAULT_MAX_RETRIES, JobRun
from apps.tenants.context import tenant_context

from .rag import answer_question
from .writing.tools import TOOLS

logger = logging.getLogger(__name__)
Outcome = Generation.Outcome
WAITING_MESSAGE = "En attente du service d'IA (indisponible ou saturé) ; nouvel essai automatique."


HANDLERS = {Generation.Task.ANSWER: answer_question} | {task: tool.run for task, tool in TOOLS.items()}


def register_handler(task: str, handler) -> None:
    """Another app's generation task, run by this job like the assistant's own (the inbox's drafts):
    `handler(generation, record) -> dict` of the generation's fields to save."""
    HANDLERS.setdefault(task, handler)


def run_generation(run: JobRun) -> dict:
    generation_id = run.params["generation_id"]
    with run.tenant():
        generation = Generation.objects.select_related("authority").get(pk=generation_id)
        if generation.is_finished:  # a redelivered message: the work is done
            return {"generation_id": generation_id}
        Generation.objects.filter(pk=generation_id).update(outcome=Outcome.RUNNING, output="", error="")
    if run.attempt > 1:
        streaming.publish(generation_id, "reset", {})
    streaming.publish(generation_id, "status", {"outcome": Outcome.RUNNING, "message": "Préparation…"})
    record = Record.of(generation)  # the calls add their tokens to the row (and the month's usage) as they go
    try:
        fields = HANDLERS[generation.task](generation, record)
    except InferenceUnavailable as exc:
        if run.attempt > DEFAULT_MAX_RETRIES:
            _finish(generation_id, record, {"outcome": Outcome.FAILED, "error": exc.user_message})
            raise JobError(exc.user_message) from exc
        with tenant_context(generation.authority_id):
            Generation.objects.filter(pk=generation_id).update(outcome=Outcome.WAITING, **record.audit_fields())
        streaming.publish(generation_id, "status", {"outcome": Outcome.WAITING, "message": WAITING_MESSAGE})
        raise
    except QuotaExceeded as exc:
        _finish(generation_id, record, {"outcome": Outcome.REFUSED, "error": exc.user_message})
        raise
    except (JobError, InferenceFailure) as exc:
        _finish(generation_id, record, {"outcome": Outcome.FAILED, "error": exc.user_message})
        raise
    except Exception:
        logger.exception("Generation %s failed", generation_id)
        _finish(
            generation_id,
            record,
            {"outcome": Outcome.FAILED, "error": "Erreur inattendue ; l'équipe technique peut la retrouver."},
        )
        raise
    fields.setdefault("outcome", Outcome.DONE)
    fields.setdefault("mode", Generation.Mode.GENERATIVE if record.calls else Generation.Mode.EXTRACTIVE)
    _finish(generation_id, record, fields)
    return {"generation_id": generation_id, "outcome": fields["outcome"]}


def _finish(generation_id: int, record: Record, fields: dict) -> None:
    fields = fields | record.audit_fields() | {"finished_at": timezone.now()}
    with tenant_context(record.authority.pk):
        Generation.objects.filter(pk=generation_id).update(**fields)
        generation = Generation.objects.get(pk=generation_id)
    event = "failed" if fields["outcome"] in (Outcome.FAILED, Outcome.REFUSED) else "done"
    streaming.publish(generation_id, event, snapshot(generation))


def snapshot(generation: Generation) -> dict:
    """The final state, as the stream's last event and the API's JSON."""
    return {
        "id": generation.pk,
        "task": generation.task,
        "outcome": generation.outcome,
        "mode": generation.mode,
        "output": generation.output,
        "error": generation.error,
        "flagged": generation.flagged,
        "invalid_citations": generation.invalid_citations,
        "query": generation.query,
        "sources": generation.public_sources,
        "result": generation.result,
        "model": generation.model,
        "tokens": {"prompt": generation.prompt_tokens, "completion": generation.completion_tokens},
        "energy_wh": round(generation.energy_wh, 4),
        "co2_g": round(generation.co2_g, 4),
    }
