"""Partition writes replace, never append: a rerun leaves every table identical, and one range run
writes exactly what one run per day writes, failures included, each on its own day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from nba_failures.tables.failures import PROCESSOR_RUNS
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)
FIRST, LAST = dt.date(2023, 1, 10), dt.date(2023, 1, 16)
MISSING_GAME = "202301120BRK"
EXPECTED_TABLES = {
    "nba_raw.nbac_schedule",
    "nba_raw.nbac_gamebook_player_stats",
    "nba_raw.player_registry",
    "nba_analytics.player_game_summary",
    "nba_analytics.team_offense_game_summary",
    "nba_analytics.team_defense_game_summary",
    "nba_analytics.upcoming_player_game_context",
    "nba_processing.processor_failures",
    "nba_processing.processor_runs",
}


def _damage(landing: Path) -> None:
    """Faults of several kinds on several days, so the failure table has something to get wrong."""
    faults.remove_from_registry(landing, "joshgiddey")  # plays 2023-01-12 and 2023-01-15 (OKC)
    faults.remove_game_file(landing, dt.date(2023, 1, 12), MISSING_GAME)
    faults.set_player_value(landing, DAY, "202301150BRK", "luguentzdort", "points", "abc")


def _assert_same_tables(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    assert set(before) == set(after) == EXPECTED_TABLES
    for name in sorted(before):
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_rerun_of_a_partition_leaves_every_table_identical(landing: Path, warehouse: DuckDBWarehouse) -> None:
    _damage(landing)
    first = run_assets(warehouse, landing, DAY, selection=faults.FOUNDATION_ASSETS)
    assert first.success
    before = faults.snapshot(warehouse.path)
    failures = before["nba_processing.processor_failures"]
    assert {"REGISTRY_LOOKUP_FAILED", "PROCESSING_ERROR", "VALIDATION_ERROR", "INSUFFICIENT_DATA"} <= set(
        failures["failure_category"]
    )
    assert failures["failure_key"].is_unique

    second = run_assets(warehouse, landing, DAY, selection=faults.FOUNDATION_ASSETS)
    assert second.success and second.run_id != first.run_id
    _assert_same_tables(before, faults.snapshot(warehouse.path))
    # The stored failures now belong to the rerun: replaced, not appended.
    stored = faults.processor_failures(warehouse.path)
    assert set(stored["run_id"]) == {second.run_id} and len(stored) == len(failures)
    runs = faults.read_table(warehouse.path, "nba_processing.processor_runs")
    assert sorted(runs["processor_name"]) == sorted(faults.FOUNDATION_ASSETS) and set(runs["run_id"]) == {second.run_id}


def test_range_run_writes_what_day_by_day_runs_write(landing: Path, tmp_path: Path) -> None:
    _damage(landing)
    ranged = DuckDBWarehouse(path=str(tmp_path / "ranged.duckdb"))
    daily = DuckDBWarehouse(path=str(tmp_path / "daily.duckdb"))

    ranged_run = run_assets(ranged, landing, FIRST, LAST, selection=faults.FOUNDATION_ASSETS)
    assert ranged_run.success
    # Each partition of a range run carries its own day's counts and failures; the range's are labelled as such.
    in_range_metadata = faults.metadata(ranged_run, "player_game_summary", DAY)
    assert in_range_metadata["partition_range"] == f"{FIRST}..{LAST}"
    assert in_range_metadata["range_rows_written"] > in_range_metadata["rows_written"] > 0
    assert {row["analysis_date"] for row in in_range_metadata["failures_preview"]} == {DAY.isoformat()}
    day = FIRST
    while day <= LAST:
        assert run_assets(daily, landing, day, selection=faults.FOUNDATION_ASSETS).success
        day += dt.timedelta(days=1)

    in_range = faults.snapshot(ranged.path)
    _assert_same_tables(in_range, faults.snapshot(daily.path))

    # Independent sanity on the compared content: a row per ACTIVE player of the week, failures on their own days.
    week = faults.active(faults.boxscores(FIRST, LAST))
    written = week[
        (week["game_id"] != MISSING_GAME)
        & (week["player_lookup"] != "joshgiddey")
        & ~((week["game_date"] == DAY) & (week["player_lookup"] == "luguentzdort"))
    ]
    assert len(in_range["nba_analytics.player_game_summary"]) == len(written)
    failures = in_range["nba_processing.processor_failures"]
    lookups = failures[failures["failure_category"] == "REGISTRY_LOOKUP_FAILED"]
    giddey_days = week.loc[week["player_lookup"] == "joshgiddey", "game_date"]
    assert sorted(lookups["analysis_date"].map(pd.Timestamp)) == sorted(giddey_days.map(pd.Timestamp))
    runs = in_range["nba_processing.processor_runs"]
    assert len(runs) == len(faults.FOUNDATION_ASSETS) * ((LAST - FIRST).days + 1)

    # Rerunning one day inside the range afterwards changes nothing either.
    assert run_assets(ranged, landing, dt.date(2023, 1, 13), selection=faults.FOUNDATION_ASSETS).success
    _assert_same_tables(in_range, faults.snapshot(ranged.path))


class _RunsWriteFails(DuckDBWarehouse):
    """The real warehouse file, whose processor_runs write fails: the last of a processor's three writes."""

    def replace(self, table, frame, start, end, where_in=None):
        if table.qualified_name == PROCESSOR_RUNS.qualified_name:
            raise OSError("no space left on device (injected)")
        return super().replace(table, frame, start, end, where_in)


def test_an_interrupted_publish_leaves_the_partition_as_it_was(landing: Path, warehouse: DuckDBWarehouse) -> None:
    assert run_assets(warehouse, landing, DAY, selection=faults.FOUNDATION_ASSETS).success
    before = faults.snapshot(warehouse.path)
    # New raw input that changes the day's rows and failures, landed by a run that succeeds.
    _damage(landing)
    assert run_assets(warehouse, landing, DAY, selection=["nbac_gamebook_player_stats", "player_registry"]).success
    landed = faults.snapshot(warehouse.path)

    failed = run_assets(
        _RunsWriteFails(path=warehouse.path), landing, DAY, selection=["player_game_summary"], raise_on_error=False
    )

    assert not failed.success
    errors = [event.event_specific_data.error.to_string() for event in failed.all_events if event.is_step_failure]
    assert len(errors) == 1 and "no space left on device (injected)" in errors[0]
    after = faults.snapshot(warehouse.path)
    for name in ("nba_analytics.player_game_summary", "nba_processing.processor_failures", "nba_processing.processor_runs"):
        pd.testing.assert_frame_equal(after[name], landed[name], obj=name)  # neither rows nor failures were written
    # The same run on the working warehouse does change them: the rollback above is what kept them.
    assert run_assets(warehouse, landing, DAY, selection=["player_game_summary"]).success
    fixed = faults.snapshot(warehouse.path)
    assert len(fixed["nba_analytics.player_game_summary"]) < len(before["nba_analytics.player_game_summary"])
    summary_failures = {
        name: set(frame.query("processor_name == 'player_game_summary'")["entity_id"])
        for name, frame in (
            ("before", before["nba_processing.processor_failures"]),
            ("fixed", fixed["nba_processing.processor_failures"]),
        )
    }
    assert "luguentzdort" in summary_failures["fixed"] - summary_failures["before"]
