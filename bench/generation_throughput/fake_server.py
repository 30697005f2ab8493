"""The fake TGI server of tests/fake_inference.py, run as its own process for the benchmark, that also
counts what it admitted and refused (429) and how busy its slots were, and writes that down on exit."""

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fake_inference import FakeInference


class CountingFake(FakeInference):
    """Adds the counters the benchmark reports; `busy_slot_seconds` integrates requests in flight over time."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.admitted = self.refused = 0
        self.busy_slot_seconds = 0.0
        self.first_at = self.last_at = None
        self._changed_at = time.monotonic()

    def _account(self, now):  # called with the lock held, before in_flight changes
        self.busy_slot_seconds += self._in_flight * (now - self._changed_at)
        self._changed_at = now

    def _enter(self):
        with self._lock:
            self._account(time.monotonic())
        admitted, failure = super()._enter()
        with self._lock:
            if admitted:
                self.admitted += 1
                self.first_at = self.first_at or time.monotonic()
            else:
                self.refused += 1
        return admitted, failure

    def _leave(self):
        with self._lock:
            self._account(time.monotonic())
            self.last_at = time.monotonic()
        super()._leave()

    def stats(self) -> dict:
        with self._lock:
            span = (self.last_at - self.first_at) if self.first_at and self.last_at else 0.0
            return {
                "admitted": self.admitted,
                "refused_429": self.refused,
                "max_seen_concurrency": self.max_seen_concurrency,
                "max_concurrent": self.max_concurrent,
                "busy_slot_seconds": round(self.busy_slot_seconds, 3),
                "active_span_seconds": round(span, 3),
            }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, required=True)
    parser.add_argument("--max-concurrent", type=int, required=True)
    parser.add_argument("--answer", default="Résumé de test.")
    parser.add_argument("--stats-file", type=Path, required=True)
    args = parser.parse_args(argv)
    fake = CountingFake(
        answer=args.answer, latency=args.latency, max_concurrent=args.max_concurrent, record=False, port=args.port
    )
    # serve_forever() must be stopped from another thread; SIGTERM asks for it.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=fake._server.shutdown).start())
    print(f"fake inference on {fake.url}: {args.max_concurrent} concurrent, {args.latency} s each", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._closing.set()
        args.stats_file.write_text(json.dumps(fake.stats()))
        fake._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
