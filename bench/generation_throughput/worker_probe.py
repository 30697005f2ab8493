"""Loaded into the benchmark's workers by `run.py --profile` (CELERY_IMPORTS): counts the database queries
and Redis round trips of each job and profiles its CPU time by function (cProfile on the thread's CPU
clock); writes them to $BENCH_PROBE_DIR/probe-<pid>.json when the worker stops. Slows the worker down."""

import cProfile
import io
import json
import os
import pstats
import threading
import time
from collections import Counter
from pathlib import Path

import redis
from celery.signals import task_postrun, task_prerun, worker_shutdown
from django.db.backends.signals import connection_created

_local = threading.local()
_lock = threading.Lock()
_totals: Counter = Counter()
_merged: list[pstats.Stats] = []


def _count(key: str) -> None:
    counts = getattr(_local, "counts", None)
    if counts is not None:
        counts[key] += 1


def _counting_query(execute, sql, params, many, context):
    _count("queries")
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs):
    if _counting_query not in connection.execute_wrappers:  # the wrapper outlives a reconnection
        connection.execute_wrappers.append(_counting_query)


def _wrap(cls, name: str, key: str):
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        _count(key)
        return original(self, *args, **kwargs)

    setattr(cls, name, counted)


connection_created.connect(_on_connection, weak=False)
_wrap(redis.Redis, "execute_command", "redis")  # a pipeline overrides it: its commands go in one round trip
_wrap(redis.client.Pipeline, "execute", "redis")


@task_prerun.connect(weak=False)
def _start(**kwargs):
    _local.counts = Counter()
    _local.started = time.thread_time()
    _local.profile = cProfile.Profile(time.thread_time)
    _local.profile.enable()


@task_postrun.connect(weak=False)
def _stop(**kwargs):
    profile = getattr(_local, "profile", None)
    if profile is None:
        return
    profile.disable()
    cpu = time.thread_time() - _local.started
    with _lock:
        _totals["tasks"] += 1
        _totals.update(_local.counts)
        _totals["task_cpu_ms"] += round(cpu * 1000)
        if _merged:
            _merged[0].add(profile)
        else:
            _merged.append(pstats.Stats(profile))
    _local.profile = _local.counts = None


@worker_shutdown.connect(weak=False)
def _write(**kwargs):
    out = io.StringIO()
    if _merged:
        stats = _merged[0]
        stats.stream = out
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        stats.print_stats(r"/apps/", 60)  # the application's own functions, by cumulative time
    path = Path(os.environ.get("BENCH_PROBE_DIR", ".")) / f"probe-{os.getpid()}.json"
    path.write_text(json.dumps({"totals": dict(_totals), "profile": out.getvalue()}))
