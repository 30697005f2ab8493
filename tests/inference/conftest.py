"""Fixtures: a fake TGI on loopback as INFERENCE_URL, short timeouts and backoffs, and gateway state
(slots, circuit breakers) of its own in the test Redis, which concurrent test runs share."""

import uuid

import pytest

from apps.inference import limiter

from ..fake_inference import FakeInference
from .support import ANSWER


@pytest.fixture(autouse=True)
def inference_settings(settings, monkeypatch):
    settings.INFERENCE_URL = ""
    settings.INFERENCE_API_KEY = ""
    settings.INFERENCE_MODEL = "tgi"
    settings.INFERENCE_ROUTES = []
    settings.INFERENCE_TIMEOUT_SECONDS = 2
    settings.INFERENCE_MAX_CONCURRENCY = 16
    settings.INFERENCE_SLOT_WAIT_SECONDS = 2
    settings.INFERENCE_RETRIES = 2
    settings.INFERENCE_RETRY_BACKOFF_SECONDS = 0.01
    settings.INFERENCE_BREAKER_FAILURES = 5
    settings.INFERENCE_BREAKER_COOLDOWN_SECONDS = 0.3
    monkeypatch.setattr(limiter, "KEY_PREFIX", f"test-inference-{uuid.uuid4().hex}")
    yield settings
    client = limiter.redis_client()
    keys = list(client.scan_iter(f"{limiter.KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def fake(settings):
    with FakeInference(answer=ANSWER) as server:
        settings.INFERENCE_URL = server.url
        yield server


@pytest.fixture
def messages():
    return [
        {"role": "system", "content": "Tu réponds en français, brièvement."},
        {"role": "user", "content": "Quand se réunit le conseil municipal ?"},
    ]
