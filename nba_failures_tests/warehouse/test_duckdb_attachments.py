"""The DuckDB warehouse attaches its file to the process's one DuckDB instance while a connection uses it: closed,
the file is checkpointed and free for other processes; open, it is locked to them; two files in one process, or two
threads on one file, each see the right tables."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

from nba_failures.tables.failures import PROCESSOR_RUNS
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults

DAY = dt.date(2023, 1, 15)
_OTHER_PROCESS_COUNT = """
import sys
import duckdb

try:
    connection = duckdb.connect(sys.argv[1])
except duckdb.IOException as error:
    print("locked" if "lock" in str(error).lower() else f"error {error}")
else:
    print(connection.execute("SELECT count(*) FROM nba_processing.processor_runs").fetchone()[0])
"""


def _other_process_count(path: Path) -> str:
    """What another process sees of the file: its processor_runs row count, or "locked"."""
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS_COUNT, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def _day_slice(day: dt.date) -> tuple[dt.date, dt.date]:
    return day, day + dt.timedelta(days=1)


def test_a_closed_connection_leaves_the_file_checkpointed_and_free_and_a_session_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path=str(path))
    assert warehouse.replace(PROCESSOR_RUNS, faults.run_record(DAY), *_day_slice(DAY)) == 1
    assert not Path(f"{path}.wal").exists()  # checkpointed when its connection closed
    assert _other_process_count(path) == "1"
    with warehouse.session():
        assert len(warehouse.read(PROCESSOR_RUNS)) == 1
        assert _other_process_count(path) == "locked"
    assert _other_process_count(path) == "1"


def test_two_files_in_one_process_each_have_their_own_tables(tmp_path: Path) -> None:
    first = DuckDBWarehouse(path=str(tmp_path / "first.duckdb"))
    second = DuckDBWarehouse(path=str(tmp_path / "second.duckdb"))
    with first.session(), second.session():
        first.replace(PROCESSOR_RUNS, faults.run_record(DAY, "player_game_summary"), *_day_slice(DAY))
        # The second file has no such table yet: it is made there, not taken for the first file's.
        assert second.read(PROCESSOR_RUNS).empty
        second.replace(PROCESSOR_RUNS, faults.run_record(DAY, "team_offense_game_summary"), *_day_slice(DAY))
        assert list(first.read(PROCESSOR_RUNS)["processor_name"]) == ["player_game_summary"]
    assert list(second.read(PROCESSOR_RUNS)["processor_name"]) == ["team_offense_game_summary"]
    # The same file under another spelling of its path is the same attachment.
    spelled_otherwise = DuckDBWarehouse(path=str(tmp_path / "sub" / ".." / "first.duckdb"))
    (tmp_path / "sub").mkdir()
    with first.session(), spelled_otherwise.session():
        assert len(spelled_otherwise.read(PROCESSOR_RUNS)) == 1


def test_threads_write_one_file_at_once_and_leave_it_free(tmp_path: Path) -> None:
    path = tmp_path / "shared.duckdb"
    warehouse = DuckDBWarehouse(path=str(path))
    warehouse.ensure_tables([PROCESSOR_RUNS])
    days = [DAY + dt.timedelta(days=offset) for offset in range(6)]
    both_open = threading.Barrier(len(days))
    errors: list[BaseException] = []

    def write(day: dt.date) -> None:
        try:
            with warehouse.session():
                both_open.wait(timeout=30)  # every thread holds a connection to the file at once
                warehouse.replace(PROCESSOR_RUNS, faults.run_record(day), *_day_slice(day))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(warehouse.read(PROCESSOR_RUNS)["analysis_date"]) == days
    assert _other_process_count(path) == str(len(days))
