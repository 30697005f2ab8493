"""Smoke run of the routing benchmark: it resolves the Rennes labels, embeds, cross-validates and prints
its table (3 folds, 3 methods)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_routing_benchmark_smoke_prints_its_table(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")}
    env.update(MEDIA_ROOT=str(tmp_path), ROUTING_BENCH_CACHE=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, "bench/routing/run.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Rennes extract: 152 rows, 26 level-2 codes" in result.stdout
    assert "| 7.10 | Finances locales/Divers | 11 |" in result.stdout  # 7.1 read as 7.10 from its label
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("| ")}
    assert {"majority", "prior", "logreg+prior"} <= set(rows)
    top1 = {name: float(rows[name].split("|")[2].split("±")[0]) for name in ("majority", "prior", "logreg+prior")}
    assert top1["majority"] == 50.0  # 76 of 152 rows are 7.5
    assert top1["logreg+prior"] > top1["majority"]
