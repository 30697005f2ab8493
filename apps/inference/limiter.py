"""A concurrency limit per inference route shared by every web and Celery worker: a semaphore in Redis
whose slots are leases that expire, so a killed worker never keeps a slot."""

import functools
import logging
import random
import secrets
import time
from contextlib import contextmanager

import redis
from django.conf import settings

from .errors import InferenceBusy
from .routing import Route

logger = logging.getLogger(__name__)
KEY_PREFIX = "inference"  # of every gateway key in Redis; tests give each run its own
LEASE_MARGIN_SECONDS = 30  # a lease outlives the call's timeout by this much before another worker may take it
FIRST_POLL_SECONDS, MAX_POLL_SECONDS = 0.005, 0.05

# The set holds one member per lease, scored by its expiry. Redis's own clock (TIME) is used so that
# workers on machines whose clocks differ agree on which leases have expired. The key itself expires
# with its longest lease, so an idle route leaves nothing behind.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  local ttl_ms = math.ceil(tonumber(ARGV[2]) * 1000)
  if redis.call('PTTL', KEYS[1]) < ttl_ms then redis.call('PEXPIRE', KEYS[1], ttl_ms) end
  return 1
end
return 0
"""
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
  local ttl_ms = math.ceil(tonumber(ARGV[1]) * 1000)
  if redis.call('PTTL', KEYS[1]) < ttl_ms then redis.call('PEXPIRE', KEYS[1], ttl_ms) end
  return 1
end
return 0
"""


@functools.cache
def _client(url: str) -> redis.Redis:
    # One client (and connection pool) per process; redis-py resets the pool after a fork.
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)


def redis_client() -> redis.Redis:
    return _client(settings.REDIS_URL)


@functools.cache
def _script(url: str, source: str):
    # EVALSHA: the script is sent once, then called by its hash.
    return _client(url).register_script(source)


def _run(source: str, key: str, *args):
    return _script(settings.REDIS_URL, source)(keys=[key], args=list(args))


def _key(route: Route) -> str:
    return f"{KEY_PREFIX}:slots:{route.name}"


def limit_of(route: Route) -> int:
    return route.max_concurrency or settings.INFERENCE_MAX_CONCURRENCY


class Lease:
    def __init__(self, route: Route, token: str, ttl: float):
        self.route, self.token, self.ttl = route, token, ttl
        self._renewed_at = time.monotonic()

    def keep_alive(self) -> None:
        """Extend the lease during a long stream (a stream may outlast the read timeout); cheap to call often."""
        if time.monotonic() - self._renewed_at < self.ttl / 3:
            return
        self._renewed_at = time.monotonic()
        if not _run(_RENEW, _key(self.route), self.ttl, self.token):
            logger.warning("Inference slot lease on route %s had expired during the call", self.route.name)

    def release(self) -> None:
        redis_client().zrem(_key(self.route), self.token)


def try_acquire(route: Route, ttl: float | None = None) -> Lease | None:
    ttl = ttl if ttl is not None else settings.INFERENCE_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS
    token = secrets.token_hex(8)
    if _run(_ACQUIRE, _key(route), limit_of(route), ttl, token):
        return Lease(route, token, ttl)
    return None


def acquire(route: Route, wait_seconds: float, ttl: float | None = None) -> Lease:
    """A lease on one of the route's slots, polling until one frees up; InferenceBusy after wait_seconds.

    Polling, not a queue: waiters are not served in order, which is fine for short waits and keeps
    nothing to clean up when a waiter dies.
    """
    deadline = time.monotonic() + wait_seconds
    delay = FIRST_POLL_SECONDS
    while True:
        lease = try_acquire(route, ttl)
        if lease:
            return lease
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InferenceBusy(detail=f"no free slot on inference route {route.name} after {wait_seconds:g}s")
        # Jitter spreads the waiters' polls so they do not hit Redis in step.
        time.sleep(min(remaining, delay * random.uniform(0.5, 1.5)))  # noqa: S311 - not cryptographic
        delay = min(delay * 2, MAX_POLL_SECONDS)


@contextmanager
def slot(route: Route, wait_seconds: float, ttl: float | None = None):
    lease = acquire(route, wait_seconds, ttl)
    try:
        yield lease
    finally:
        lease.release()


def in_use(route: Route) -> int:
    """Slots held now (expired leases left by killed workers not counted)."""
    seconds, microseconds = redis_client().time()
    return redis_client().zcount(_key(route), seconds + microseconds / 1e6, "+inf")
