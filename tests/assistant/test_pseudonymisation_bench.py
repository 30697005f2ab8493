"""The pseudonymisation benchmark (bench/pseudonymisation) still runs standalone at its smoke size and
prints its recall and precision table."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pseudonymisation_benchmark_smoke_prints_recall_and_precision():
    result = subprocess.run(
        [sys.executable, "bench/pseudonymisation/run.py", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^type\s+recall\s+precision$", result.stdout, re.MULTILINE), result.stdout
    overall = re.search(r"^overall\s+([\d.]+)% \(\d+/\d+\)\s+([\d.]+)% \(\d+/\d+\)$", result.stdout, re.MULTILINE)
    assert overall, result.stdout
    assert all(0 <= float(share) <= 100 for share in overall.groups())
    assert "ms per paragraph" in result.stdout
