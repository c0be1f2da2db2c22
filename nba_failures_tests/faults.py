"""Fault injection into a private landing copy, independent expectations from the bundled season, and
plain reads of the DuckDB file. Shared by every test that damages data or checks tables: one helper each.

Expectations come from the bundled CSVs read with pandas (`season_data`), never from the package's own code.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from dagster import ExecuteInProcessResult

from nba_failures_tests import season_data

# The seven processors of issue 2 (the foundation), without later assets such as classified_failures.
FOUNDATION_ASSETS = [
    "nbac_schedule",
    "nbac_gamebook_player_stats",
    "player_registry",
    "player_game_summary",
    "team_offense_game_summary",
    "team_defense_game_summary",
    "upcoming_player_game_context",
]
PHASE3_PROCESSORS = FOUNDATION_ASSETS[3:]
# Columns that legitimately differ between two runs of the same input.
RUN_COLUMNS = ("run_id", "finished_at")


# ---------------------------------------------------------------- independent expectations (bundled CSVs)


def boxscores(first: dt.date, last: dt.date | None = None) -> pd.DataFrame:
    """Bundled box-score rows of `[first, last]` (values as text, `game_date` a date)."""
    frame = season_data.boxscores()
    return frame[(frame["game_date"] >= first) & (frame["game_date"] <= (last or first))].copy()


def schedule(first: dt.date, last: dt.date | None = None) -> pd.DataFrame:
    """Bundled schedule rows of `[first, last]` (values as text, `game_date` a date)."""
    frame = season_data.schedule()
    return frame[(frame["game_date"] >= first) & (frame["game_date"] <= (last or first))].copy()


def active(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["player_status"] == "ACTIVE"]


# ---------------------------------------------------------------- fault injection into a landing copy


def game_file(landing: Path, game_date: dt.date, game_id: str) -> Path:
    """The landed file of a game (`.csv.gz` or `.csv`)."""
    day = landing / "gamebook" / game_date.isoformat()
    for suffix in (".csv.gz", ".csv"):
        if (day / f"{game_id}{suffix}").exists():
            return day / f"{game_id}{suffix}"
    raise FileNotFoundError(f"no landed file for {game_id} on {game_date}")


def read_game_file(landing: Path, game_date: dt.date, game_id: str) -> pd.DataFrame:
    return pd.read_csv(game_file(landing, game_date, game_id), dtype=str, keep_default_na=False)


def rewrite_game_file(landing: Path, game_date: dt.date, game_id: str, edit_fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    """Read a game file as text, apply `edit_fn` to the frame and write it back in place (same name)."""
    path = game_file(landing, game_date, game_id)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edited = edit_fn(frame.copy())
    compression = "gzip" if path.name.endswith(".gz") else None
    edited.to_csv(path, index=False, compression=compression)
    return path


def set_player_value(landing: Path, game_date: dt.date, game_id: str, player_lookup: str, column: str, value: str) -> int:
    """Overwrite one column of one player's row in a game file; returns that row's file line (1 = header)."""
    line: list[int] = []

    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        matches = frame.index[frame["player_lookup"] == player_lookup]
        assert len(matches) == 1, f"{player_lookup} is listed {len(matches)} times in {game_id}"
        frame.loc[matches[0], column] = value
        line.append(int(frame.index.get_loc(matches[0])) + 2)
        return frame

    rewrite_game_file(landing, game_date, game_id, edit)
    return line[0]


def write_raw_bytes(landing: Path, game_date: dt.date, game_id: str, payload: bytes) -> Path:
    """Replace a game file's bytes (e.g. with something that is not gzip at all)."""
    path = game_file(landing, game_date, game_id)
    path.write_bytes(payload)
    return path


def remove_game_file(landing: Path, game_date: dt.date, game_id: str) -> None:
    game_file(landing, game_date, game_id).unlink()


def remove_game_day(landing: Path, game_date: dt.date) -> None:
    """Every game file of a day has not landed."""
    shutil.rmtree(landing / "gamebook" / game_date.isoformat())


def remove_from_registry(landing: Path, player_lookup: str) -> None:
    """The registry no longer knows `player_lookup` (exactly one row removed)."""
    path = landing / "registry" / "player_registry.csv"
    registry = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = registry["player_lookup"] != player_lookup
    assert (~keep).sum() == 1, f"{player_lookup} is in the registry {(~keep).sum()} times"
    registry[keep].to_csv(path, index=False)


def copy_landing_day(source: Path, target: Path, day: dt.date) -> Path:
    """A private landing copy with the schedule, the registry and only `day`'s game files (fast to make)."""
    target.mkdir(parents=True)
    shutil.copyfile(source / "schedule.csv.gz", target / "schedule.csv.gz")
    shutil.copytree(source / "registry", target / "registry")
    shutil.copytree(source / "gamebook" / day.isoformat(), target / "gamebook" / day.isoformat())
    return target


def game_file_bytes(landing: Path, game_date: dt.date, game_id: str) -> bytes:
    """A game file's content, decompressed if it is gzip."""
    path = game_file(landing, game_date, game_id)
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def edit_game_bytes(landing: Path, game_date: dt.date, game_id: str, edit_fn: Callable[[bytes], bytes]) -> Path:
    """Apply `edit_fn` to a game file's decompressed bytes (BOM, CRLF, stray fields, foreign encodings…)
    and write them back in place, compressed again if the file was."""
    path = game_file(landing, game_date, game_id)
    edited = edit_fn(game_file_bytes(landing, game_date, game_id))
    path.write_bytes(gzip.compress(edited, mtime=0) if path.name.endswith(".gz") else edited)
    return path


def edit_game_line(landing: Path, game_date: dt.date, game_id: str, line: int, edit_fn: Callable[[bytes], bytes]) -> Path:
    """Apply `edit_fn` to one physical line (1 = header, without its line ending) of a game file."""

    def edit(data: bytes) -> bytes:
        lines = data.split(b"\n")
        lines[line - 1] = edit_fn(lines[line - 1])
        return b"\n".join(lines)

    return edit_game_bytes(landing, game_date, game_id, edit)


def add_game_file(landing: Path, game_date: dt.date, game_id: str, copy_of: str, suffix: str = ".csv.gz") -> Path:
    """A file for `game_id` in `game_date`'s folder holding a copy of game `copy_of`'s rows, as landed."""
    source = game_file(landing, game_date, copy_of)
    target = source.parent / f"{game_id}{suffix}"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.to_csv(target, index=False, compression="gzip" if suffix.endswith(".gz") else None)
    return target


def set_registry_value(landing: Path, player_lookup: str, column: str, value: str) -> None:
    """Overwrite one column of one registry player's row."""
    path = landing / "registry" / "player_registry.csv"
    registry = pd.read_csv(path, dtype=str, keep_default_na=False)
    match = registry["player_lookup"] == player_lookup
    assert match.sum() == 1, f"{player_lookup} is in the registry {match.sum()} times"
    registry.loc[match, column] = value
    registry.to_csv(path, index=False)


def insert_registry_row(landing: Path, before: str, row: dict[str, str]) -> int:
    """Add a registry row just before `before`'s row (so it comes first in file order); returns its file line."""
    path = landing / "registry" / "player_registry.csv"
    registry = pd.read_csv(path, dtype=str, keep_default_na=False)
    [position] = registry.index[registry["player_lookup"] == before]
    added = pd.DataFrame([row]).reindex(columns=registry.columns, fill_value="")
    pd.concat([registry.iloc[:position], added, registry.iloc[position:]], ignore_index=True).to_csv(path, index=False)
    return int(position) + 2


# ---------------------------------------------------------------- warehouse faults


def stop_emulator_after_staging_load(monkeypatch, emulator, table_name: str) -> list[str]:
    """Stop the BigQuery emulator right after the first staging load job for `table_name` has finished:
    the staging table is loaded, the MERGE into the target has not run. Returns the staging ids it stopped after.

    Patches the official client's `load_table_from_file` (the only load `BigQueryWarehouse` issues).
    """
    from google.cloud import bigquery

    original = bigquery.Client.load_table_from_file
    stopped: list[str] = []

    def load_then_stop(self, file, destination, *args, **kwargs):
        job = original(self, file, destination, *args, **kwargs)
        if f"._staging_{table_name}_" in str(destination) and not stopped:
            job.result()
            emulator.stop()
            stopped.append(str(destination))
        return job

    monkeypatch.setattr(bigquery.Client, "load_table_from_file", load_then_stop)
    return stopped


def hold_duckdb_lock(path: str | Path, seconds: float, ready, releasing) -> None:
    """In a process of its own: open the DuckDB file (taking its single-writer lock), signal `ready`, hold it, then
    signal `releasing` just before letting it go (a writer that finishes after this signal waited for the lock)."""
    import time

    connection = duckdb.connect(str(path))
    try:
        ready.set()
        time.sleep(seconds)
    finally:
        releasing.set()
        connection.close()


def materialize_into_duckdb(results, duckdb_path: str, landing: str, day: dt.date, selection: list[str]) -> None:
    """One in-process run of `selection` for `day` into the DuckDB file at `duckdb_path` (a process target:
    arguments and result are plain values). Puts (day, (success, first error message or '')) on `results`."""
    from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
    from nba_failures_tests.harness import run_assets

    result = run_assets(DuckDBWarehouse(path=duckdb_path), Path(landing), day, selection=selection, raise_on_error=False)
    errors = [str(event.event_specific_data.error.message) for event in result.all_events if event.is_step_failure]
    results.put((day, (result.success, errors[0] if errors else "")))


# ---------------------------------------------------------------- reading the warehouse file directly


def warehouse_tables(warehouse_path: str | Path) -> list[str]:
    """Every `schema.table` in the DuckDB file, sorted."""
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        rows = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY table_schema, table_name"
        ).fetchall()
    return [f"{schema}.{name}" for schema, name in rows]


def read_table(warehouse_path: str | Path, qualified_name: str, exclude: tuple[str, ...] = (), where: str = "") -> pd.DataFrame:
    """A whole table (minus `exclude` columns), ordered by all its columns, straight from the DuckDB file."""
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        columns = [row[0] for row in connection.execute(f"DESCRIBE {qualified_name}").fetchall()]
        kept = [c for c in columns if c not in exclude]
        sql = f"SELECT {', '.join(kept)} FROM {qualified_name}"
        if where:
            sql += f" WHERE {where}"
        sql += " ORDER BY ALL"
        frame = connection.execute(sql).df()
    # Repeated columns come back as arrays: tuples compare by value.
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: tuple(v) if isinstance(v, (list, np.ndarray)) else v)
    return frame


def snapshot(warehouse_path: str | Path, exclude: tuple[str, ...] = RUN_COLUMNS) -> dict[str, pd.DataFrame]:
    """Every table of the file, ordered, without the run-specific columns."""
    return {name: read_table(warehouse_path, name, exclude) for name in warehouse_tables(warehouse_path)}


def processor_failures(warehouse_path: str | Path, processor: str | None = None) -> pd.DataFrame:
    where = f"processor_name = '{processor}'" if processor else ""
    return read_table(warehouse_path, "nba_processing.processor_failures", where=where)


# ---------------------------------------------------------------- materialization metadata


def metadata(result: ExecuteInProcessResult, asset_name: str, partition: dt.date | None = None) -> dict[str, object]:
    """The plain values of an asset's materialization metadata (of `partition`, or its only one)."""
    events = result.asset_materializations_for_node(asset_name)
    if partition is not None:
        events = [event for event in events if event.partition == partition.isoformat()]
    assert len(events) == 1, f"{asset_name}: {len(events)} materializations"
    values: dict[str, object] = {}
    for key, value in events[0].metadata.items():
        if hasattr(value, "records"):  # table metadata: list of row dicts
            values[key] = [record.data for record in value.records]
        elif hasattr(value, "data"):  # json metadata
            values[key] = value.data
        else:
            values[key] = value.value
    return values


def assert_rows_accounted_for(values: dict[str, object]) -> None:
    """`input_rows = rows_written + failed_input_rows + excluded_input_rows`, from the metadata alone (a range
    run's partition shows the range's counts as `range_…`)."""
    prefix = "range_" if "range_input_rows" in values else ""
    written, failed, excluded = (
        values[f"{prefix}{name}"] for name in ("rows_written", "failed_input_rows", "excluded_input_rows")
    )
    assert values[f"{prefix}input_rows"] == written + failed + excluded, values
    assert values[f"{prefix}rows_accounted_for"] is True


def run_record(day: dt.date, processor: str = "p") -> pd.DataFrame:
    """One processor_runs row of `processor` on `day`."""
    return pd.DataFrame(
        {
            "processor_name": [processor],
            "phase": ["RAW"],
            "analysis_date": [day],
            "run_id": ["r"],
            "rows_written": [1],
            "failures": [0],
            "finished_at": [pd.Timestamp.now(tz="UTC")],
        }
    )
