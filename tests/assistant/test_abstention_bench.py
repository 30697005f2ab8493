"""Smoke run of the abstention benchmark: it starts, indexes one set of minutes, scores a handful of
questions and prints its threshold sweep with the default and cross-validated rates."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINUTES = ROOT.parent / "shared" / "data" / "proces-verbaux"


@pytest.mark.timeout(900)
@pytest.mark.skipif(not MINUTES.is_dir(), reason="shared data (Avranches minutes) not available")
def test_abstention_benchmark_smoke_prints_its_sweep(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")}
    env["MEDIA_ROOT"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "bench/abstention/run.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = [line.split() for line in result.stdout.splitlines() if re.match(r"\s+0\.\d\d\s+[01]\.\d{3}\s", line)]
    assert len(sweep) >= 10
    assert all(0 <= float(rate) <= 1 for row in sweep for rate in row[1:4])
    assert any("<- ABSTAIN_BELOW" in " ".join(row) for row in sweep)
    assert re.search(
        r"default ABSTAIN_BELOW=0\.\d\d: declined [01]\.\d{3} of unanswerable, answered [01]\.\d{3}", result.stdout
    )
    assert "cross-validated" in result.stdout
