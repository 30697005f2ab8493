"""Live events of a generation, carried by a Redis stream per generation: the worker publishes
text as it arrives, any number of pages or API clients read it (and a reconnecting client resumes)."""

import json
import time
from collections.abc import Iterator
from functools import lru_cache

import redis
from django.conf import settings

KEY = "registre:generation:{}"
KEEP_SECONDS = 3600  # long enough for a page opened late; the final text is in the database anyway
MAX_EVENTS = 20_000
FLUSH_EVERY_SECONDS = 0.15  # batch tokens: one Redis write per ~150 ms, not per token
END_EVENTS = ("done", "failed")


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


def publish(generation_id: int, event: str, data: dict) -> None:
    key = KEY.format(generation_id)
    pipe = _redis().pipeline()
    pipe.xadd(key, {"event": event, "data": json.dumps(data, ensure_ascii=False)}, maxlen=MAX_EVENTS, approximate=True)
    pipe.expire(key, KEEP_SECONDS)
    pipe.execute()


def read(
    generation_id: int, *, after: str = "0", block_ms: int = 15_000, deadline_seconds: float = 600
) -> Iterator[tuple[str, str, dict]]:
    """(event id, event name, data) from `after` on, until the generation ends or the deadline.

    Yields ("", "ping", {}) when nothing came for `block_ms`, so the caller can keep the HTTP
    connection alive and notice a client that went away.
    """
    key, last, ends_at = KEY.format(generation_id), after, time.monotonic() + deadline_seconds
    while time.monotonic() < ends_at:
        batches = _redis().xread({key: last}, block=block_ms, count=500)
        if not batches:
            yield "", "ping", {}
            continue
        for event_id, fields in batches[0][1]:
            last = event_id
            yield event_id, fields["event"], json.loads(fields["data"])
            if fields["event"] in END_EVENTS:
                return


def forget(generation_id: int) -> None:
    _redis().delete(KEY.format(generation_id))


class TextStream:
    """Collects the model's text and publishes it in batches as `delta` events."""

    def __init__(self, generation_id: int):
        self.generation_id = generation_id
        self.parts: list[str] = []
        self._pending: list[str] = []
        self._flushed_at = time.monotonic()

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def __call__(self, piece: str) -> None:
        self.parts.append(piece)
        self._pending.append(piece)
        if time.monotonic() - self._flushed_at >= FLUSH_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            publish(self.generation_id, "delta", {"text": "".join(self._pending)})
            self._pending = []
        self._flushed_at = time.monotonic()

    def reset(self) -> None:
        """The model call is being retried: readers drop what they showed so far."""
        self.parts, self._pending = [], []
        publish(self.generation_id, "reset", {})
