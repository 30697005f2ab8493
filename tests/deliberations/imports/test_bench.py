"""Smoke run of bench/scdl_import: it generates, imports through the job, re-imports, fails halfway and
shows the register unchanged."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_scdl_import_benchmark_smoke(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL")}
    env["MEDIA_ROOT"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "bench/scdl_import/run.py", "--mb", "0.3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("job: succeeded") for line in lines)
    assert any(line.startswith("re-import of the same file") and "created=0, updated=0" in line for line in lines)
    assert any(line.startswith("failing import: job failed") and "registre est resté" in line for line in lines)
    assert lines[-1].startswith("register:") and lines[-1].endswith(": unchanged")
