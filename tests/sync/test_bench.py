"""bench/sync.py --quick runs end to end and reports its figures (the targets
themselves are the benchmark's business, not a test's)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "sync.py"


def test_quick_bench_reports_link_use_and_bytes_per_batch():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert set(figures) == {"batch_10", "batch_100"}
    for batch in figures.values():
        assert 0 < batch["link_use"] <= 1.05 and batch["bytes"] >= batch["payload_bytes"]
