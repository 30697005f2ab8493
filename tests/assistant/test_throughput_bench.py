"""The generation throughput benchmark (bench/generation_throughput) still runs end to end at its smoke
size: scratch database, private Redis, fake inference server, a real Celery worker, and its report."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "generation_throughput" / "run.py"
# The benchmark brings its own database and Redis: the test run's must not leak into it.
SERVICE_VARIABLES = ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_IMPORTS")

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        importlib.util.find_spec("tests.fake_inference") is None,
        reason="tests/fake_inference.py (the fake inference server) is missing",
    ),
]


def test_throughput_benchmark_smoke_run_reports_ratio_to_capacity_without_failures():
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    result = subprocess.run(
        [sys.executable, str(BENCH), "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-4000:]
    assert "ratio to capacity: " in result.stdout, report[-4000:]
    assert "failed: 0," in result.stdout, report[-4000:]
