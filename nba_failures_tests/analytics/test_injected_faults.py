"""Faults injected into a private copy of the real landing directory become the right typed failures,
stored in `nba_processing.processor_failures`, while the rest of the partition is still written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)
GAME = "202301150BRK"  # OKC at BKN
PLAYER = "joshgiddey"  # ACTIVE for OKC in that game


def _run(warehouse: DuckDBWarehouse, landing: Path):
    result = run_assets(warehouse, landing, DAY, selection=faults.FOUNDATION_ASSETS)
    assert result.success
    return result


def _summary_rows(warehouse: DuckDBWarehouse) -> pd.DataFrame:
    return faults.read_table(warehouse.path, "nba_analytics.player_game_summary")


def test_unknown_player_is_one_registry_lookup_failure(landing: Path, warehouse: DuckDBWarehouse) -> None:
    box = faults.boxscores(DAY)
    assert box.loc[box["player_lookup"] == PLAYER, "player_status"].tolist() == ["ACTIVE"]
    faults.remove_from_registry(landing, PLAYER)
    result = _run(warehouse, landing)

    failures = faults.processor_failures(warehouse.path)
    lookups = failures[failures["failure_category"] == "REGISTRY_LOOKUP_FAILED"]
    assert len(lookups) == 1
    failure = lookups.iloc[0]
    assert failure["processor_name"] == "player_game_summary"
    assert (failure["entity_type"], failure["entity_id"]) == ("PLAYER", PLAYER)
    assert bool(failure["can_retry"]) is True
    assert pd.Timestamp(failure["analysis_date"]) == pd.Timestamp(DAY)
    assert PLAYER in failure["failure_reason"] and "registry" in failure["failure_reason"]
    assert failure["run_id"] == result.run_id

    # Everyone else who played is written; he is not.
    rows = _summary_rows(warehouse)
    assert len(rows) == len(faults.active(box)) - 1
    assert PLAYER not in set(rows["player_lookup"])

    values = faults.metadata(result, "player_game_summary")
    assert values["rows_written"] == len(faults.active(box)) - 1
    assert values["input_rows"] == len(box)
    assert values["failed_input_rows"] == 1
    assert values["excluded_input_rows"] == int((box["player_status"] != "ACTIVE").sum())
    assert values["failures_by_category"] == {"REGISTRY_LOOKUP_FAILED": 1}
    assert [(r["entity_type"], r["entity_id"], r["failure_category"]) for r in values["failures_preview"]] == [
        ("PLAYER", PLAYER, "REGISTRY_LOOKUP_FAILED")
    ]
    faults.assert_rows_accounted_for(values)


@pytest.mark.parametrize(
    ("column", "value", "complaint"),
    [("points", "abc", "points 'abc' is not an integer"), ("minutes", "DNP", "minutes 'DNP' is not a number")],
)
def test_malformed_row_is_a_processing_error_naming_player_file_and_line(
    landing: Path, warehouse: DuckDBWarehouse, column: str, value: str, complaint: str
) -> None:
    line = faults.set_player_value(landing, DAY, GAME, PLAYER, column, value)
    source_file = f"gamebook/{DAY.isoformat()}/{GAME}.csv.gz"
    result = _run(warehouse, landing)

    failures = faults.processor_failures(warehouse.path, "player_game_summary")
    assert len(failures) == 1
    failure = failures.iloc[0]
    assert (failure["entity_type"], failure["entity_id"], failure["failure_category"]) == ("PLAYER", PLAYER, "PROCESSING_ERROR")
    assert bool(failure["can_retry"]) is False
    assert failure["source_file"] == source_file and failure["source_line"] == line
    assert f"{source_file} line {line}" in failure["failure_reason"]
    assert complaint in failure["failure_reason"]

    # The raw table keeps the landed text; the rest of the partition is written.
    raw = faults.read_table(warehouse.path, "nba_raw.nbac_gamebook_player_stats")
    assert raw.loc[raw["player_lookup"] == PLAYER, column].tolist() == [value]
    box = faults.boxscores(DAY)
    rows = _summary_rows(warehouse)
    assert len(rows) == len(faults.active(box)) - 1 and PLAYER not in set(rows["player_lookup"])

    values = faults.metadata(result, "player_game_summary")
    assert (values["input_rows"], values["rows_written"], values["failed_input_rows"]) == (
        len(box),
        len(faults.active(box)) - 1,
        1,
    )
    assert values["failures_by_category"] == {"PROCESSING_ERROR": 1}
    [preview] = values["failures_preview"]
    assert preview["entity_id"] == PLAYER and complaint in preview["failure_reason"]
    faults.assert_rows_accounted_for(values)

    # His team's box score no longer adds up to its final score: the team row is written and flagged.
    offense = faults.processor_failures(warehouse.path, "team_offense_game_summary")
    assert offense[["entity_type", "entity_id", "failure_category"]].values.tolist() == [["TEAM", "OKC", "VALIDATION_ERROR"]]
    assert len(faults.read_table(warehouse.path, "nba_analytics.team_offense_game_summary")) == 16


def test_missing_game_file_fails_that_game_and_both_its_teams(landing: Path, warehouse: DuckDBWarehouse) -> None:
    game = faults.schedule(DAY).set_index("game_id").loc[GAME]
    teams = sorted([game["home_abbr"], game["away_abbr"]])
    faults.remove_game_file(landing, DAY, GAME)
    result = _run(warehouse, landing)

    raw = faults.processor_failures(warehouse.path, "nbac_gamebook_player_stats")
    assert raw[["entity_type", "entity_id", "failure_category"]].values.tolist() == [["GAME", GAME, "MISSING_RAW_DATA"]]
    for processor in ("team_offense_game_summary", "team_defense_game_summary"):
        failures = faults.processor_failures(warehouse.path, processor).sort_values("entity_id")
        assert failures["entity_id"].tolist() == teams, processor
        assert set(failures["entity_type"]) == {"TEAM"} and set(failures["failure_category"]) == {"MISSING_RAW_DATA"}
        assert failures["missing_game_ids"].tolist() == [(GAME,), (GAME,)]
        assert failures["can_retry"].all()
        assert len(faults.read_table(warehouse.path, f"nba_analytics.{processor}")) == 14
        values = faults.metadata(result, processor)
        assert values["failures_by_category"] == {"MISSING_RAW_DATA": 2}
        faults.assert_rows_accounted_for(values)

    box = faults.boxscores(DAY)
    assert len(_summary_rows(warehouse)) == len(faults.active(box[box["game_id"] != GAME]))
    # A missing game is not a missing day: no DATE-level failure.
    assert not (faults.processor_failures(warehouse.path)["entity_type"] == "DATE").any()


def test_missing_day_is_a_date_level_missing_dependency_for_phase_3(landing: Path, warehouse: DuckDBWarehouse) -> None:
    faults.remove_game_day(landing, DAY)
    result = _run(warehouse, landing)

    raw = faults.processor_failures(warehouse.path, "nbac_gamebook_player_stats")
    assert sorted(raw["entity_id"]) == sorted(faults.schedule(DAY)["game_id"])
    assert set(raw["failure_category"]) == {"MISSING_RAW_DATA"}

    for processor in faults.PHASE3_PROCESSORS:
        failures = faults.processor_failures(warehouse.path, processor)
        date_level = failures[failures["entity_type"] == "DATE"]
        assert len(date_level) == 1, processor
        failure = date_level.iloc[0]
        assert (failure["entity_id"], failure["failure_category"]) == ("DATE_LEVEL", "MISSING_DEPENDENCY")
        assert failure["upstream_table"] == "nba_raw.nbac_gamebook_player_stats"
        assert bool(failure["can_retry"]) is True
        assert len(faults.read_table(warehouse.path, f"nba_analytics.{processor}")) == 0
        assert faults.metadata(result, processor)["rows_written"] == 0
    faults.assert_rows_accounted_for(faults.metadata(result, "player_game_summary"))


def test_row_without_player_lookup_resolves_by_its_accented_name(landing: Path, warehouse: DuckDBWarehouse) -> None:
    faults.set_player_value(landing, DAY, "202301150DEN", "nikolajokic", "player_lookup", "")
    _run(warehouse, landing)
    rows = _summary_rows(warehouse)
    assert len(rows) == len(faults.active(faults.boxscores(DAY)))
    jokic = rows[rows["player_lookup"] == "nikolajokic"]
    assert jokic["player_name"].tolist() == ["Nikola Jokić"] and jokic["game_id"].tolist() == ["202301150DEN"]
    assert faults.processor_failures(warehouse.path, "player_game_summary").empty


def test_nameless_played_row_is_reported_against_its_game_not_unknown(landing: Path, warehouse: DuckDBWarehouse) -> None:
    line = faults.set_player_value(landing, DAY, GAME, PLAYER, "player_name", "")
    # ...and no lookup either: the row has no player identity at all.
    faults.rewrite_game_file(
        landing, DAY, GAME, lambda f: f.assign(player_lookup=f["player_lookup"].where(f["player_name"] != "", ""))
    )
    _run(warehouse, landing)
    failures = faults.processor_failures(warehouse.path, "player_game_summary")
    assert failures[["entity_type", "entity_id", "failure_category", "source_line"]].values.tolist() == [
        ["GAME", GAME, "PROCESSING_ERROR", line]
    ]
    assert "neither player_lookup nor player_name" in failures["failure_reason"].iloc[0]
