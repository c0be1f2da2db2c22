"""The benchmark script runs end to end on a tiny input and writes its tables (timings are not checked)."""

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
IN_PROCESS_CASES = (
    "(a) full-season single-run backfill",
    "(b) rerun of one day",
    "(c) classify 100 failures",
    "(c) per-entity query loop, 100 failures",
    "(d) 1 season(s)",
    "(d) 2 season(s)",
)
WHOLE_COMMAND_CASES = (
    "(e) full-season backfill from empty",
    "(e) yardstick: the core computation in plain SQL",
    "(f) rerun of one day",
    "(g) load the code location",
    "(h) sensor-launched retry run of one day",
    "(e) on PostgreSQL: full-season backfill from empty",
    "(f) on PostgreSQL: rerun of one day",
)
# Where the time of a whole command went: start-up, planning, steps, event storage, the summary; and the yardstick.
BREAKDOWN_PHRASES = (
    "ratio to the yardstick",
    "interpreter start-up",
    "run planning",
    "step ",
    "event storage",
    "failure summary",
)


@pytest.mark.slow(seconds=200)
@pytest.mark.timeout(600)
def test_quick_benchmarks_write_the_results_table(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--work-dir", str(tmp_path / "work"), "--out", str(out)],
        check=False,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text()
    assert "| benchmark | input | wall (s) | CPU (s) | peak RSS (MB) | target | met |" in table
    in_process, whole_commands = table.split("| whole command |")
    for case in IN_PROCESS_CASES:
        assert case in in_process, case
    # Every measured row carries numbers: wall and CPU seconds.
    rows = [line for line in in_process.splitlines() if line.startswith("| (")]
    assert len(rows) >= 6
    for row in rows:
        wall, cpu = (cell.strip() for cell in row.split("|")[3:5])
        assert float(wall) >= 0 and float(cpu) >= 0, row
    assert "per-entity query loop" in table and "queries" in table
    # Every whole command has its median and its range of wall seconds.
    for case in WHOLE_COMMAND_CASES:
        row = next(line for line in whole_commands.splitlines() if line.startswith(f"| {case}"))
        median, low_high = (cell.strip() for cell in row.split("|")[3:5])
        assert float(median) >= 0 and all(float(bound) >= 0 for bound in low_high.split("–")), case
    for phrase in BREAKDOWN_PHRASES:
        assert phrase in whole_commands, phrase
