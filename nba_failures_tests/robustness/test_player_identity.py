"""One identity per player, beyond player_game_summary: the registry input kinds of the bad-input corpus run
through every later processor and the classification of their failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets
from nba_failures_tests.robustness.test_bad_input_corpus import (
    DAY,
    DEN_GAME,
    JOKIC,
    SELECTION,
    TEAMMATE,
    _alias_as_listed_lookup,
    _alias_shared_by_two_players,
    _duplicate_lookup_first_in_file,
    _lookup_is_another_players_alias,
)

ALIAS = "thejoker"
# Processors keyed by player after player_game_summary, and the tables their rows go to.
PLAYER_PROCESSORS = {
    "upcoming_player_game_context": "nba_analytics.upcoming_player_game_context",
    "player_daily_cache": "nba_precompute.player_daily_cache",
    "player_shot_zone_analysis": "nba_precompute.player_shot_zone_analysis",
    "player_composite_factors": "nba_precompute.player_composite_factors",
    "ml_feature_store": "nba_precompute.ml_feature_store",
    "player_points_predictions": "nba_predictions.player_points_predictions",
}


@pytest.fixture
def day_landing(season_landing: Path, tmp_path: Path) -> Path:
    return faults.copy_landing_day(season_landing, tmp_path / "landing", DAY)


def _players_of(warehouse_path: Path, table: str) -> set[str]:
    return set(faults.read_table(warehouse_path, table)["player_lookup"])


def test_a_listed_alias_is_the_registry_player_in_every_processor(day_landing: Path, warehouse) -> None:
    """Jokic listed under his alias: every processor, down to predictions, answers for nikolajokic, never the alias."""
    _alias_as_listed_lookup(day_landing)
    result = run_assets(warehouse, day_landing, DAY, selection="*player_points_predictions")
    assert result.success

    summary = faults.read_table(warehouse.path, "nba_analytics.player_game_summary")
    jokic = summary[summary["player_lookup"] == JOKIC]
    assert jokic.loc[:, ["game_id", "universal_player_id", "points"]].values.tolist() == [[DEN_GAME, "nikolajokic_001", 17]]
    failures = faults.processor_failures(warehouse.path)
    assert ALIAS not in set(failures["entity_id"])
    for processor, table in PLAYER_PROCESSORS.items():
        answered = _players_of(warehouse.path, table) | set(failures.loc[failures["processor_name"] == processor, "entity_id"])
        assert JOKIC in answered and ALIAS not in answered, processor
    assert ALIAS not in set(faults.read_table(warehouse.path, "nba_analytics.upcoming_player_game_context")["player_lookup"])


@pytest.mark.parametrize(
    ("inject", "lookup", "lost"),
    [
        pytest.param(_alias_shared_by_two_players, ALIAS, TEAMMATE, id="alias_shared_by_two_players"),
        pytest.param(_duplicate_lookup_first_in_file, JOKIC, JOKIC, id="duplicate_lookup_in_registry"),
        pytest.param(_lookup_is_another_players_alias, JOKIC, JOKIC, id="lookup_is_another_players_alias"),
    ],
)
def test_an_ambiguous_lookup_loses_only_its_row_and_is_a_correctable_gap(
    inject: Callable[[Path], None], lookup: str, lost: str, day_landing: Path, warehouse
) -> None:
    """Nobody's row is written under another's key or id; the failures are REGISTRY_LOOKUP_FAILED, classified
    as a DATA_GAP a registry fix corrects."""
    inject(day_landing)
    assert run_assets(warehouse, day_landing, DAY, selection=[*SELECTION, "classified_failures"]).success

    clean = faults.active(faults.boxscores(DAY).query("game_id == @DEN_GAME"))
    expected = clean[clean["player_lookup"] != lost].assign(
        universal_player_id=lambda f: f["player_lookup"] + "_001", points=lambda f: f["points"].astype(int)
    )
    summary = faults.read_table(warehouse.path, "nba_analytics.player_game_summary").query("game_id == @DEN_GAME")
    columns = ["player_lookup", "universal_player_id", "points"]
    written = summary.loc[:, columns].sort_values("player_lookup").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        written, expected.loc[:, columns].sort_values("player_lookup").reset_index(drop=True), check_dtype=False
    )

    stored = faults.read_table(warehouse.path, "nba_processing.analytics_failures")
    registry_failures = stored[stored["failure_category"] == "REGISTRY_LOOKUP_FAILED"]
    assert sorted(registry_failures["processor_name"]) == ["player_game_summary", "player_registry"]
    assert set(registry_failures["entity_id"]) == {lookup}
    assert set(registry_failures["failure_type"]) == {"DATA_GAP"} and registry_failures["is_correctable"].all()


def test_a_bad_registry_row_is_rejected_and_named(day_landing: Path, warehouse) -> None:
    """Jokic's row without a universal_player_id: rejected with its line, and his game is a registry gap, not a guess."""
    faults.set_registry_value(day_landing, JOKIC, "universal_player_id", "")
    assert run_assets(warehouse, day_landing, DAY, selection=SELECTION).success
    registry = faults.read_table(warehouse.path, "nba_raw.player_registry")
    assert JOKIC not in set(registry["player_lookup"]) and TEAMMATE in set(registry["player_lookup"])
    [rejected] = faults.processor_failures(warehouse.path, "player_registry").to_dict("records")
    assert rejected["failure_category"] == "VALIDATION_ERROR" and rejected["entity_id"] == JOKIC
    assert f"line {rejected['source_line']}: no universal_player_id" in rejected["failure_reason"]
    [unresolved] = faults.processor_failures(warehouse.path, "player_game_summary").to_dict("records")
    assert unresolved["entity_id"] == JOKIC and "not in the player registry" in unresolved["failure_reason"]


def test_the_retry_sensor_sees_an_ambiguous_or_rejected_lookup_as_unregistered(day_landing: Path) -> None:
    """`registry_index` (what the retry sensor asks) leaves out what needs a registry fix, so the retry waits for it."""
    from nba_failures.identity import registry_index
    from nba_failures.landing.contract import read_registry

    _alias_shared_by_two_players(day_landing)
    _duplicate_lookup_first_in_file(day_landing)
    faults.set_registry_value(day_landing, "aarongordon", "universal_player_id", "")
    known = set(registry_index(read_registry(day_landing).assign(snapshot_date=None))["player_lookup"])
    assert {ALIAS, JOKIC, "aarongordon"}.isdisjoint(known)
    assert {TEAMMATE, "jamalmurray"} <= known
