"""The one way product code reaches a model. `governed_call` checks the authority's monthly quota,
pseudonymises the context, renders the task's latest prompt version, calls the inference gateway
(streamed or not), restores personal data in the reply, and records the call on its audit row (a
Generation) and in the month's usage, whichever app asks.

A piece of work that makes several calls (a summary read part by part, a question and its rewrite,
minutes read in parts) shares one `Record`: one audit row, and one pseudonymisation mapping so that a
person keeps one placeholder across every call.
"""

import json
import re
import time
from dataclasses import dataclass, field

from django.utils import timezone

from apps import inference
from apps.tenants.context import tenant_context

from . import prompts, registry, streaming, usage
from .models import Generation
from .pseudonymise import pseudonymise, restore

Outcome = Generation.Outcome
_OPEN_PLACEHOLDER = re.compile(r"\[[A-Z_]*\d*$")
_FENCE = re.compile(r"^\s*```(?:json)?|```\s*$")
_JSON_START = re.compile(r"[\[{]")


def is_generative() -> bool:
    """A model is configured (INFERENCE_URL or INFERENCE_ROUTES); else the product's offline modes apply."""
    return inference.is_configured()


@dataclass
class Record:
    """The audit row shared by the model calls of one piece of work. Created on the first call (after
    the quota check) unless the work already has one (the assistant creates its Generation when asked)."""

    authority: object  # tenants.Authority
    task: str
    user: object = None
    inputs: dict = field(default_factory=dict)
    generation: Generation | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original, for every call
    templates: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False
    latency_ms: int = 0
    energy_wh: float = 0.0
    co2_g: float = 0.0
    model: str = ""
    route: str = ""

    @classmethod
    def of(cls, generation: Generation) -> "Record":
        """The record of an existing row: what earlier attempts spent stays counted."""
        return cls(
            authority=generation.authority,
            task=generation.task,
            user=generation.user,
            generation=generation,
            templates=[t for t in generation.template.split(", ") if t],
            prompt_tokens=generation.prompt_tokens,
            completion_tokens=generation.completion_tokens,
            tokens_estimated=generation.tokens_estimated,
            latency_ms=generation.latency_ms,
            energy_wh=generation.energy_wh,
            co2_g=generation.co2_g,
            model=generation.model,
            route=generation.route,
        )

    @property
    def calls(self) -> int:
        return len(self.templates)

    def mask(self, value):
        """Personal data → placeholders, and our prompt delimiters neutralised, in every string of a
        context (dicts and lists included). Numbers, dates and booleans pass as they are."""
        if isinstance(value, str):
            return pseudonymise(prompts.as_data(value), known=self.mapping).text
        if isinstance(value, dict):
            return {key: self.mask(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask(item) for item in value]
        return value

    def restore(self, value):
        if isinstance(value, str):
            return restore(value, self.mapping)
        if isinstance(value, dict):
            return {key: self.restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.restore(item) for item in value]
        return value

    def audit_fields(self) -> dict:
        return {
            "template": ", ".join(dict.fromkeys(self.templates))[:60],
            "model": self.model,
            "route": self.route,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_estimated": self.tokens_estimated,
            "latency_ms": self.latency_ms,
            "energy_wh": self.energy_wh,
            "co2_g": self.co2_g,
            "pseudonymised": len(self.mapping),
        }

    def open(self) -> Generation:
        """The audit row, created now if the work has none yet."""
        if self.generation is None:
            with tenant_context(self.authority.pk):
                self.generation = Generation.objects.create(
                    authority=self.authority, user=self.user, task=self.task, input=self.inputs, outcome=Outcome.RUNNING
                )
        return self.generation

    def add(self, version: str, completion: inference.Completion, **closing) -> None:
        """Count one call: on the audit row at once (a worker killed later loses nothing), with the
        `closing` fields of a row this call also finishes, then in the month's usage."""
        self.templates.append(version)
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.tokens_estimated |= completion.tokens_estimated
        self.latency_ms += completion.latency_ms
        self.energy_wh += completion.energy_wh
        self.co2_g += completion.co2_g
        self.model, self.route = completion.model, completion.route
        self._save(**closing)
        usage.add(self.authority.pk, completion.prompt_tokens + completion.completion_tokens)

    def finish(self, *, output: str = "", error: str = "", outcome: str | None = None) -> None:
        """Close a row this record opened (the assistant closes its own generations)."""
        if self.generation is not None:
            self._save(**closing_fields(output=output, error=error, outcome=outcome))

    def _save(self, **fields) -> None:
        with tenant_context(self.authority.pk):
            Generation.objects.filter(pk=self.open().pk).update(**self.audit_fields(), **fields)


def closing_fields(*, output: str = "", error: str = "", outcome: str | None = None) -> dict:
    """What a finished audit row records besides its usage."""
    return {
        "output": output,
        "error": error,
        "outcome": outcome or (Outcome.FAILED if error else Outcome.DONE),
        "finished_at": timezone.now(),
    }


@dataclass(frozen=True)
class Reply:
    text: str  # personal data restored
    data: object  # with a schema: the JSON value found in the reply (strings restored), None if there is none
    raw: str  # as the model wrote it, placeholders included
    finish_reason: str
    generation_id: int


def governed_call(
    authority,
    task: str,
    template: str,
    context: dict,
    *,
    record: Record | None = None,
    schema: dict | None = None,
    stream: bool = False,
    max_tokens: int = 800,
    temperature: float = 0.2,
    wait_seconds: float | None = None,
    inputs: dict | None = None,
) -> Reply:
    """Ask the model for `task` with the latest version of `template`, rendered with `context`.

    Every string of `context` is treated as data: personal data masked, our delimiters neutralised
    (the authority's name is added as `authority`). Without `record`, the call is audited on a row of
    its own, closed here, showing `inputs` as the request. `schema` is sent to routes that apply JSON
    grammars and the reply's JSON is parsed into `Reply.data` (callers check its content). `stream`
    sends the restored text to the audit row's live stream as it comes. Raises QuotaExceeded before
    any call when the month's quota is used, and the gateway's InferenceFailure subclasses.
    """
    model_task = registry.get(task)
    if template not in model_task.templates:
        raise LookupError(f"template {template!r} is not registered for model task {task!r}")
    usage.check_quota(authority)
    one_shot = record is None
    record = record or Record(authority=authority, task=task, inputs=inputs or {})
    generation = record.open()
    version = prompts.latest(template)
    messages = prompts.render(version, **record.mask(context), authority=authority.name)
    out = _RestoringStream(generation.pk, record.restore) if stream else None
    try:
        completion = inference.generate(
            messages,
            task=model_task.route,
            max_tokens=max_tokens,
            temperature=temperature,
            json_schema=schema,
            wait_seconds=wait_seconds,
            on_delta=out,
            on_reset=out.reset if out else None,
        )
    except inference.InferenceFailure as exc:
        if one_shot:
            record.finish(error=exc.user_message)
        raise
    if out:
        out.flush(final=True)
    reply = Reply(
        text=record.restore(completion.text),
        raw=completion.text,
        finish_reason=completion.finish_reason,
        data=record.restore(parse_json(completion.text)) if schema is not None else None,
        generation_id=generation.pk,
    )
    # A call with a row of its own closes it in the same write that records its usage.
    record.add(version, completion, **(closing_fields(output=reply.text) if one_shot else {}))
    return reply


def parse_json(text: str):
    """The JSON value of a model's reply: the whole reply (a code fence around it allowed), else the
    first object or array written in it; None when there is none."""
    body = _FENCE.sub("", text or "").strip()
    try:
        return json.loads(body)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for start in _JSON_START.finditer(body):
        try:
            return decoder.raw_decode(body, start.start())[0]
        except ValueError:
            continue
    return None


class _RestoringStream(streaming.TextStream):
    """Streams the model's text with personal data already restored; a placeholder cut between
    two tokens waits for its end."""

    def __init__(self, generation_id: int, restore_text):
        super().__init__(generation_id)
        self.restore_text = restore_text

    def flush(self, final: bool = False) -> None:
        pending = "".join(self._pending)
        held = "" if final else (match.group(0) if (match := _OPEN_PLACEHOLDER.search(pending)) else "")
        ready = pending[: len(pending) - len(held)]
        if ready:
            streaming.publish(self.generation_id, "delta", {"text": self.restore_text(ready)})
        self._pending = [held] if held else []
        self._flushed_at = time.monotonic()
