"""Smoke: `bench/load.py` end to end, small (40 images, 2 workers, 5% faults, under a minute).

The real handler behind SQS batches on moto's server, with a fault proxy, duplicates,
re-uploads and deletes; the scorecard must say nothing was lost and the command exit 0.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_load_smoke(tmp_path):
    numbers = tmp_path / "load.json"
    command = [
        sys.executable, str(ROOT / "bench" / "load.py"),
        "--images", "40", "--workers", "2", "--fault-rate", "0.05",
        "--delete-rate", "0.15",  # a few deletes even among 40 keys
        "--races", "2",  # a re-upload and a delete while a worker renders
        "--timeout", "90", "--json", str(numbers), "--log-dir", str(tmp_path / "logs"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=150, cwd=ROOT,
                         env={**os.environ, "COLUMNS": "120"})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert re.search(r"^\W*lost\W+0\W+PASS", run.stdout, re.MULTILINE), run.stdout
    result = json.loads(numbers.read_text())
    for check in ("lost", "inconsistent", "leftovers", "dead-letter queue", "originals changed"):
        assert result["checks"][check] == 0, check
    assert result["plan"]["deleted"] > 0 and result["plan"]["reuploaded"] > 0
    assert result["faults"]["totalFaults"] > 0
