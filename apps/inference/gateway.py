"""The one way Registre generates text: chat completion through huggingface_hub's InferenceClient, routed
per task, under a concurrency limit shared by all workers, with retries, fallbacks and circuit breakers."""

import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2  # huggingface_hub's HTTP library: its transport and timeout errors reach us unwrapped
import redis
from django.conf import settings
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, ValidationError

from . import breaker, energy, limiter
from .errors import InferenceBusy, InferenceError, InferenceNotConfigured, InferenceUnavailable
from .routing import Route, configured_routes, routes_for

logger = logging.getLogger(__name__)
# Sent as the key of a route that has none: with an empty key the client sends the machine's Hugging Face
# token instead (HF_TOKEN or ~/.cache/huggingface/token: its hf-inference helper does `api_key or get_token()`).
NO_API_KEY = "none"
TRANSIENT_STATUSES = {408, 424, 429}  # and every 5xx; 424 is TGI's "request failed during generation"
CHARS_PER_TOKEN = 4  # rough estimate for French and English text, when the server gives no usage
MAX_BACKOFF_SECONDS = 10


@dataclass
class Completion:
    text: str
    model: str
    route: str
    prompt_tokens: int
    completion_tokens: int
    tokens_estimated: bool  # the server sent no usage: counts are estimated from the text's length
    latency_ms: int  # what the caller waited, retries and slot wait included
    finish_reason: str  # "stop", or "length" when max_tokens cut the answer
    energy_wh: float
    co2_g: float


@dataclass
class _Answer:
    text: str
    model: str
    finish_reason: str
    usage: object | None


class _Transient(Exception):
    """A failure worth another try: server down or saturated, timeout, broken stream."""

    def __init__(self, message: str, *, overloaded: bool = False):
        super().__init__(message)
        self.overloaded = overloaded  # a 429: the server is up, only full


class _Deltas:
    """Hands streamed pieces to the caller, and tells it to start over before a retry."""

    def __init__(self, on_delta, on_reset):
        self.on_delta, self.on_reset = on_delta, on_reset
        self.delivered = False

    def deliver(self, piece: str) -> None:
        self.delivered = True
        self.on_delta(piece)

    def restart(self) -> None:
        if not self.delivered:
            return
        if self.on_reset is None:  # the caller cannot take back what it showed: no retry
            raise InferenceUnavailable(detail="stream broke after text was delivered, and no on_reset was given")
        self.on_reset()
        self.delivered = False


def is_configured() -> bool:
    return bool(configured_routes())


def generate(
    messages: list[dict],
    *,
    task: str,
    max_tokens: int = 800,
    temperature: float = 0.2,
    on_delta: Callable[[str], None] | None = None,
    on_reset: Callable[[], None] | None = None,
    json_schema: dict | None = None,
    wait_seconds: float | None = None,
) -> Completion:
    """Generate the assistant's answer to `messages` (OpenAI chat format) with a route serving `task`.

    on_delta streams the answer piece by piece; if the stream breaks and the call is retried,
    on_reset is called first (the caller empties what it showed); without on_reset, no retry follows
    a delivered piece. json_schema constrains the output on routes that declare `"grammar": true`
    only: callers validate the JSON themselves. wait_seconds bounds the wait for a free slot
    (INFERENCE_SLOT_WAIT_SECONDS by default).
    Raises InferenceNotConfigured, InferenceError (refused, not retried), InferenceBusy (no slot in
    time) or InferenceUnavailable (every route failed).
    """
    routes = routes_for(task)
    if not routes:
        raise InferenceNotConfigured(detail=f"no inference route for task {task!r}")
    wait = settings.INFERENCE_SLOT_WAIT_SECONDS if wait_seconds is None else wait_seconds
    deltas = _Deltas(on_delta, on_reset) if on_delta else None
    try:
        return _generate(
            routes,
            messages,
            task=task,
            wait=wait,
            deltas=deltas,
            options={"max_tokens": max_tokens, "temperature": temperature, "json_schema": json_schema},
        )
    except redis.RedisError as exc:  # the limit and the breakers live in Redis: no call without them
        raise InferenceUnavailable(detail=f"Redis unavailable for the inference gateway: {exc!r}") from exc


def _generate(routes: list[Route], messages, *, task, wait, deltas, options) -> Completion:
    started = time.monotonic()
    deadline = started + wait
    failures, busy = [], 0
    for route in routes:
        for attempt in range(settings.INFERENCE_RETRIES + 1):
            if deltas:
                deltas.restart()
            if attempt:
                _backoff(attempt)
            try:
                with limiter.slot(route, max(0.0, deadline - time.monotonic())) as lease:
                    if not breaker.allow(route):
                        failures.append(f"{route.name}: circuit open")
                        break
                    answer = _call(route, messages, deltas=deltas, lease=lease, **options)
            except InferenceBusy:
                busy += 1
                failures.append(f"{route.name}: no free slot")
                break
            except _Transient as exc:
                if not exc.overloaded:  # a full server is not a broken one: it must not open the circuit
                    breaker.record_failure(route)
                failures.append(f"{route.name}: {exc}")
                logger.warning(
                    "Inference route %s failed for task %s (attempt %d/%d): %s",
                    route.name,
                    task,
                    attempt + 1,
                    settings.INFERENCE_RETRIES + 1,
                    exc,
                )
                continue
            except InferenceError:
                breaker.record_success(route)  # the server answered: it is up
                raise
            breaker.record_success(route)
            return _completion(answer, route, messages, started)
    detail = "; ".join(failures)
    logger.error("Inference unavailable for task %s: %s", task, detail)
    if busy == len(failures):
        raise InferenceBusy(detail=detail)
    raise InferenceUnavailable(detail=detail)


def _backoff(attempt: int) -> None:
    delay = settings.INFERENCE_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1)
    time.sleep(min(MAX_BACKOFF_SECONDS, delay) * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not crypto


def _call(route: Route, messages, *, deltas, lease, max_tokens, temperature, json_schema) -> _Answer:
    kwargs = {"model": route.model, "max_tokens": max_tokens, "temperature": temperature}
    if json_schema is not None and route.grammar:
        kwargs["response_format"] = {"type": "json", "value": json_schema}
    try:
        # A client per call: closing it closes the streamed response it holds.
        with InferenceClient(
            base_url=route.url, api_key=route.api_key or NO_API_KEY, timeout=settings.INFERENCE_TIMEOUT_SECONDS
        ) as client:
            if deltas:
                chunks = client.chat_completion(messages, stream=True, stream_options={"include_usage": True}, **kwargs)
                return _read_stream(chunks, deltas, lease)
            output = client.chat_completion(messages, **kwargs)
            choice = output.choices[0]
            return _Answer(choice.message.content or "", output.model, choice.finish_reason, output.usage)
    except OfflineModeIsEnabled as exc:
        raise InferenceNotConfigured(
            detail="HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set: huggingface_hub "
            "then refuses every request, even to our own servers"
        ) from exc
    except ValidationError as exc:  # TGI's validation error sent inside a stream
        raise InferenceError(detail=f"route {route.name}: {exc}") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code
        if status in TRANSIENT_STATUSES or status >= 500:
            raise _Transient(f"HTTP {status}", overloaded=status == 429) from exc
        raise InferenceError(detail=f"route {route.name}: HTTP {status}: {str(exc)[:300]}") from exc
    except (httpx2.HTTPError, json.JSONDecodeError) as exc:  # timeouts, connection errors, malformed stream
        raise _Transient(f"{type(exc).__name__}: {str(exc)[:200]}") from exc


def _read_stream(chunks, deltas: _Deltas, lease: limiter.Lease) -> _Answer:
    parts, model, finish_reason, usage = [], "", None, None
    for chunk in chunks:
        lease.keep_alive()
        model = chunk.model or model
        usage = chunk.usage or usage  # TGI: on the last token's chunk; OpenAI, vLLM: a last chunk of its own
        for choice in chunk.choices or []:
            piece = choice.delta.content if choice.delta else None
            if piece:
                parts.append(piece)
                deltas.deliver(piece)
            finish_reason = choice.finish_reason or finish_reason
    if finish_reason is None:
        # The client ends the iteration at the end of the body as at `data: [DONE]`: a stream cut
        # short by a proxy shows only as a missing finish reason.
        raise _Transient("stream ended without a finish reason")
    return _Answer("".join(parts), model, finish_reason, usage)


def _completion(answer: _Answer, route: Route, messages, started: float) -> Completion:
    usage = answer.usage
    if usage is not None and getattr(usage, "completion_tokens", None) is not None:
        prompt_tokens, completion_tokens, estimated = usage.prompt_tokens or 0, usage.completion_tokens, False
    else:
        prompt_chars = sum(len(_text_of(message)) for message in messages)
        prompt_tokens, completion_tokens = _estimate_tokens(prompt_chars), _estimate_tokens(len(answer.text))
        estimated = True
    energy_wh, co2_g = energy.estimate(prompt_tokens, completion_tokens)
    latency_ms = round((time.monotonic() - started) * 1000)
    logger.info(
        "Inference on route %s: %d prompt + %d completion tokens in %d ms (%s)",
        route.name,
        prompt_tokens,
        completion_tokens,
        latency_ms,
        answer.finish_reason,
    )
    return Completion(
        text=answer.text,
        model=answer.model or route.model,
        route=route.name,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        tokens_estimated=estimated,
        latency_ms=latency_ms,
        finish_reason=answer.finish_reason,
        energy_wh=energy_wh,
        co2_g=co2_g,
    )


def _text_of(message: dict) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _estimate_tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)
