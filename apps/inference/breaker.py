"""A circuit breaker per inference route, kept in Redis so every worker shares it: after N consecutive
failures the route is skipped for a cooldown, then a single trial call decides whether it closes."""

import logging

from django.conf import settings

from . import limiter
from .limiter import LEASE_MARGIN_SECONDS, redis_client
from .routing import Route

logger = logging.getLogger(__name__)
FAILURE_MEMORY_SECONDS = 3600  # a failure count left alone this long is forgotten (failures must be consecutive)
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


def _keys(route: Route) -> tuple[str, str, str]:
    base = f"{limiter.KEY_PREFIX}:breaker:{route.name}"
    return f"{base}:failures", f"{base}:open", f"{base}:trial"


def state(route: Route) -> str:
    failures_key, open_key, _ = _keys(route)
    failures, is_open = redis_client().mget(failures_key, open_key)
    if is_open:
        return OPEN
    return HALF_OPEN if int(failures or 0) >= settings.INFERENCE_BREAKER_FAILURES else CLOSED


def allow(route: Route) -> bool:
    """Whether to call the route now. Half-open, only the caller that wins the trial is allowed."""
    current = state(route)
    if current != HALF_OPEN:
        return current == CLOSED
    # The trial's marker expires like a slot lease, so a trial caller that dies does not block the route.
    trial_ms = int((settings.INFERENCE_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS) * 1000)
    won = bool(redis_client().set(_keys(route)[2], "1", nx=True, px=trial_ms))
    if won:
        logger.info("Inference route %s: circuit half-open, making one trial call", route.name)
    return won


def record_success(route: Route) -> None:
    failures_key, _, trial_key = _keys(route)
    trial_deleted, _ = redis_client().pipeline().delete(trial_key).delete(failures_key).execute()
    if trial_deleted:
        logger.warning("Inference route %s: trial call succeeded, circuit closed", route.name)


def record_failure(route: Route) -> None:
    failures_key, open_key, trial_key = _keys(route)
    memory = max(FAILURE_MEMORY_SECONDS, int(settings.INFERENCE_BREAKER_COOLDOWN_SECONDS * 2))
    failures, _ = redis_client().pipeline().incr(failures_key).expire(failures_key, memory).execute()
    if failures >= settings.INFERENCE_BREAKER_FAILURES:
        cooldown_ms = max(1, int(settings.INFERENCE_BREAKER_COOLDOWN_SECONDS * 1000))
        redis_client().pipeline().set(open_key, "1", px=cooldown_ms).delete(trial_key).execute()
        logger.warning(
            "Inference route %s: circuit open for %gs after %d consecutive failures",
            route.name,
            settings.INFERENCE_BREAKER_COOLDOWN_SECONDS,
            failures,
        )


def reset(route: Route) -> None:
    redis_client().delete(*_keys(route))
