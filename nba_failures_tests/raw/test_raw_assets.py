"""Phase 2 assets on a real day, and a game file that has not landed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from nba_failures.landing.contract import GAMEBOOK_COLUMNS
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults, season_data
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)
RAW = ["nbac_schedule", "nbac_gamebook_player_stats", "player_registry"]


@pytest.fixture(scope="module")
def day_run(season_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    """The three raw assets for one real day, on the untouched season (read only here)."""
    path = tmp_path_factory.mktemp("raw_day") / "warehouse.duckdb"
    result = run_assets(DuckDBWarehouse(path=str(path)), season_landing, DAY, selection=RAW)
    assert result.success
    return path, result


def test_schedule_rows_are_the_days_games(day_run) -> None:
    path, result = day_run
    expected = faults.schedule(DAY).sort_values("game_id")
    table = faults.read_table(path, "nba_raw.nbac_schedule")
    assert len(expected) == 8
    assert table["game_id"].tolist() == expected["game_id"].tolist()
    assert set(table["game_date"].map(pd.Timestamp)) == {pd.Timestamp(DAY)}
    assert table["home_abbr"].tolist() == expected["home_abbr"].tolist()
    assert table["away_abbr"].tolist() == expected["away_abbr"].tolist()
    assert table["home_pts"].tolist() == expected["home_pts"].astype(int).tolist()
    assert table["away_pts"].tolist() == expected["away_pts"].astype(int).tolist()
    values = faults.metadata(result, "nbac_schedule")
    assert values["rows_written"] == 8 and values["failures"] == 0
    faults.assert_rows_accounted_for(values)


def test_gamebook_rows_are_the_days_box_scores_as_text(day_run) -> None:
    path, result = day_run
    expected = faults.boxscores(DAY)
    table = faults.read_table(path, "nba_raw.nbac_gamebook_player_stats")
    assert len(table) == len(expected) == 267
    # Every value as landed, text for text (one row per listed player, DNP and INACTIVE included).
    key = ["game_id", "team_abbr", "box_order", "player_status", "player_name"]
    got = table.loc[:, list(GAMEBOOK_COLUMNS)].fillna("").astype(str).sort_values(key).reset_index(drop=True)
    want = expected.assign(game_date=expected["game_date"].map(dt.date.isoformat)).loc[:, list(GAMEBOOK_COLUMNS)]
    want = want.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # Provenance: each row points at its file and line (1 = header).
    for game_id, rows in table.groupby("game_id"):
        assert set(rows["source_file"]) == {f"gamebook/{DAY.isoformat()}/{game_id}.csv.gz"}
        assert sorted(rows["source_line"]) == list(range(2, len(rows) + 2))
    values = faults.metadata(result, "nbac_gamebook_player_stats")
    assert values["rows_written"] == 267 and values["input_rows"] == 267 and values["failures"] == 0
    faults.assert_rows_accounted_for(values)


def test_registry_snapshot_is_the_landed_registry(day_run, season_landing: Path) -> None:
    path, result = day_run
    registry = pd.read_csv(season_landing / "registry" / "player_registry.csv", dtype=str, keep_default_na=False)
    table = faults.read_table(path, "nba_raw.player_registry")
    assert len(table) == len(registry)
    assert set(table["snapshot_date"].map(pd.Timestamp)) == {pd.Timestamp(DAY)}
    assert sorted(table["player_lookup"]) == sorted(registry["player_lookup"])
    # Every player who appears with a lookup in the season's box scores is known to the registry.
    assert set(season_data.boxscores()["player_lookup"]) - {""} == set(table["player_lookup"])
    assert faults.metadata(result, "player_registry")["rows_written"] == len(registry)


def test_missing_game_file_is_missing_raw_data_for_that_game(landing: Path, warehouse: DuckDBWarehouse) -> None:
    game_id = "202301150BRK"
    box = faults.boxscores(DAY)
    faults.remove_game_file(landing, DAY, game_id)
    result = run_assets(warehouse, landing, DAY, selection=RAW)
    assert result.success

    failures = faults.processor_failures(warehouse.path, "nbac_gamebook_player_stats")
    assert len(failures) == 1
    failure = failures.iloc[0]
    assert (failure["entity_type"], failure["entity_id"], failure["failure_category"]) == ("GAME", game_id, "MISSING_RAW_DATA")
    assert bool(failure["can_retry"]) is True
    assert game_id in failure["failure_reason"]
    # The other seven games are written in full.
    table = faults.read_table(warehouse.path, "nba_raw.nbac_gamebook_player_stats")
    assert len(table) == (box["game_id"] != game_id).sum()
    assert game_id not in set(table["game_id"])
    values = faults.metadata(result, "nbac_gamebook_player_stats")
    assert values["failures_by_category"] == {"MISSING_RAW_DATA": 1}
    assert [row["entity_id"] for row in values["failures_preview"]] == [game_id]
    faults.assert_rows_accounted_for(values)
