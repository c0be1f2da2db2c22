"""The benchmark script runs end to end on a tiny input and writes its table (timings are not checked)."""

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_benchmarks_write_the_results_table(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--work-dir", str(tmp_path / "work"), "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text()
    assert "| benchmark | input | wall (s) | CPU (s) | peak RSS (MB) | target | met |" in table
    for case in ("(a) full-season single-run backfill", "(b) rerun of one day", "(c) classify 100 failures", "(c) per-entity query loop, 100 failures", "(d) 1 season(s)", "(d) 2 season(s)"):
        assert case in table, case
    # Every measured row carries numbers: wall and CPU seconds.
    rows = [line for line in table.splitlines() if line.startswith("| (")]
    assert len(rows) >= 6
    for row in rows:
        wall, cpu = (cell.strip() for cell in row.split("|")[3:5])
        assert float(wall) >= 0 and float(cpu) >= 0, row
    assert "per-entity query loop" in table and "queries" in table
