"""The concurrency limit is global (in Redis, shared by every worker) and a dead holder's slot comes back."""

import threading
import time

import pytest

from apps.inference import InferenceBusy, generate, limiter
from apps.inference.routing import Route, routes_for

from .support import ANSWER


def test_the_global_limit_caps_concurrent_calls_and_every_caller_is_served(fake, messages, settings):
    settings.INFERENCE_MAX_CONCURRENCY = 2
    fake.latency = 0.3
    results, errors = [], []

    def call():
        try:
            results.append(generate(messages, task="answer", wait_seconds=5))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.text for r in results] == [ANSWER] * 6
    assert fake.max_seen_concurrency == 2
    assert limiter.in_use(routes_for("answer")[0]) == 0  # every slot was given back


def test_a_route_max_concurrency_overrides_the_default(settings):
    route = Route(name="small", url="http://127.0.0.1:1", model="tgi", max_concurrency=1)
    assert limiter.limit_of(route) == 1
    assert limiter.limit_of(Route(name="large", url="http://127.0.0.1:1", model="tgi")) == 16


def test_the_slot_of_a_killed_holder_expires(settings):
    route = Route(name="small", url="http://127.0.0.1:1", model="tgi", max_concurrency=1)
    assert limiter.try_acquire(route, ttl=0.3) is not None  # never released, as by a killed worker
    assert limiter.try_acquire(route) is None
    started = time.monotonic()
    with limiter.slot(route, wait_seconds=2):
        assert 0.2 < time.monotonic() - started < 1.5
        assert limiter.in_use(route) == 1


def test_busy_when_every_slot_is_taken_and_no_wait_is_allowed(fake, messages, settings):
    settings.INFERENCE_MAX_CONCURRENCY = 1
    route = routes_for("answer")[0]
    with limiter.slot(route, wait_seconds=0):
        started = time.monotonic()
        with pytest.raises(InferenceBusy) as raised:
            generate(messages, task="answer", wait_seconds=0)
        assert time.monotonic() - started < 1
    assert "Le service d'IA est momentanément indisponible" in raised.value.user_message
    assert fake.generation_requests() == []
    assert generate(messages, task="answer", wait_seconds=0).text == ANSWER  # the slot is free again


def test_a_busy_route_hands_over_to_the_fallback_route(fake, messages, settings):
    settings.INFERENCE_MAX_CONCURRENCY = 1
    settings.INFERENCE_ROUTES = [{"name": "backup", "url": fake.url}]
    with limiter.slot(routes_for("answer")[0], wait_seconds=0):
        assert generate(messages, task="answer", wait_seconds=0).route == "backup"


def test_a_long_stream_keeps_its_lease_alive(fake, messages, settings):
    settings.INFERENCE_MAX_CONCURRENCY = 1
    route = routes_for("answer")[0]
    lease = limiter.try_acquire(route, ttl=0.3)
    for _ in range(4):  # 0.6 s in all, twice the lease's lifetime
        time.sleep(0.15)
        lease.keep_alive()
    assert limiter.try_acquire(route) is None
    lease.release()
    assert limiter.try_acquire(route) is not None
