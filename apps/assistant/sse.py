"""Server-sent events for a generation, shared by the page and the API. The stream carries
`status`, `sources`, `delta`, `reset` and finally `done` or `failed` (the generation as JSON)."""

import json

from django.http import StreamingHttpResponse

from apps.ai import streaming
from apps.ai.models import Generation
from apps.jobs.models import Job

from .running import snapshot


def _event(name: str, data: dict, event_id: str = "") -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def generation_events(generation: Generation, last_event_id: str = "") -> StreamingHttpResponse:
    """Call inside the request's tenant context: what is read from the database is read here;
    the body then only reads Redis (it runs after the request's transaction has ended)."""
    job_failed = generation.job_id and generation.job.state == Job.State.FAILED
    final = snapshot(generation) if generation.is_finished or job_failed else None
    if final and job_failed and not generation.is_finished:
        final |= {"outcome": Generation.Outcome.FAILED, "error": generation.job.error}

    def body():
        yield "retry: 3000\n\n"
        if final:
            yield _event("failed" if final["outcome"] in ("failed", "refused") else "done", final)
            return
        for event_id, name, data in streaming.read(generation.pk, after=last_event_id or "0"):
            yield ": ping\n\n" if name == "ping" else _event(name, data, event_id)

    response = StreamingHttpResponse(body(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the tokens back
    return response
