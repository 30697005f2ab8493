"""Smoke runs of the document benchmarks: they start, index, measure and print their table."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_retrieval_benchmark_smoke_prints_its_table(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")}
    env["MEDIA_ROOT"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "bench/retrieval/run.py", "--smoke", "--corpus", "single"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("avranches alone")]
    assert [row.split()[2] for row in rows] == ["fulltext", "vector", "hybrid"]
    assert all(0 <= float(row.split()[3]) <= 1 for row in rows)
