"""Choosing faults from the real box scores and a seed (pure), and what the ground truth says they produce.

Constraints are checked against the bundled CSVs read by the tests' own reader (`season_data`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pandas as pd
import pytest

from nba_failures.failures.records import EntityType, FailureCategory, FailureType
from nba_failures.landing.build import load_bundled_boxscores
from nba_failures.scenarios.faults import (
    MIN_REGISTRY_GAMES,
    FaultCounts,
    FaultKind,
    GameFileFault,
    MalformedRowFault,
    RegistryRemovalFault,
    apply_malformed,
    choose_faults,
)
from nba_failures.scenarios.truth import FAULT_CATEGORIES, GroundTruth, expected_failures, ground_truth
from nba_failures_tests import season_data

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 18)


@pytest.fixture(scope="module")
def box() -> pd.DataFrame:
    return load_bundled_boxscores()


def _choose(box: pd.DataFrame, seed: int, **kwargs):
    return choose_faults(box, season_data.schedule(), seed, **kwargs)


def test_same_seed_same_faults_different_seed_different_faults(box) -> None:
    assert _choose(box, 7, start=FIRST, end=LAST) == _choose(box, 7, start=FIRST, end=LAST)
    assert _choose(box, 7) == _choose(box, 7)
    targets = {seed: [f.model_dump() for f in _choose(box, seed, start=FIRST, end=LAST)] for seed in range(5)}
    assert len({repr(t) for t in targets.values()}) == 5


def test_counts_are_configurable_and_defaults_give_several_of_each(box) -> None:
    counts = Counter(f.fault_kind for f in _choose(box, 3, start=FIRST, end=LAST))
    defaults = FaultCounts()
    assert counts == {kind: getattr(defaults, kind.value) for kind in FaultKind}
    assert all(n >= 2 for n in counts.values())
    custom = FaultCounts(late_game_file=1, missing_game_file=0, registry_removal=2, malformed_row=5)
    assert Counter(f.fault_kind for f in _choose(box, 3, counts=custom, start=FIRST, end=LAST)) == {
        FaultKind.LATE_GAME_FILE: 1, FaultKind.REGISTRY_REMOVAL: 2, FaultKind.MALFORMED_ROW: 5
    }  # fmt: skip


def test_too_small_a_range_is_refused(box) -> None:
    with pytest.raises(ValueError, match="eligible"):
        _choose(box, 1, counts=FaultCounts(malformed_row=50), start=FIRST, end=FIRST)


@pytest.mark.parametrize("seed", [0, 7, 42])
def test_targets_are_in_range_unambiguous_and_do_not_overlap(box, seed: int) -> None:
    faults = _choose(box, seed, start=FIRST, end=LAST)
    rows, schedule = season_data.boxscores(), season_data.schedule()
    files = [f for f in faults if isinstance(f, GameFileFault)]
    removals = [f for f in faults if isinstance(f, RegistryRemovalFault)]
    malformed = [f for f in faults if isinstance(f, MalformedRowFault)]
    assert len({f.fault_id for f in faults}) == len(faults)

    # Game files: in range, never a date's last game, their players as in the bundle.
    held = Counter(f.game_date for f in files)
    for day, n in held.items():
        assert FIRST <= day <= LAST and n < (schedule["game_date"] == day).sum()
    for f in files:
        game = schedule.set_index("game_id").loc[f.game_id]
        assert (game["game_date"], game["home_abbr"], game["away_abbr"]) == (f.game_date, f.home_abbr, f.away_abbr)
        assert f.file == f"gamebook/{f.game_date.isoformat()}/{f.game_id}.csv.gz"
        played = rows[(rows["game_id"] == f.game_id) & (rows["player_status"] == "ACTIVE")]
        assert set(f.active_players) == set(played["player_lookup"]) - {""}

    # Registry removals: named players with enough games in range, in no other fault's game.
    for f in removals:
        his = rows[(rows["player_lookup"] == f.player_lookup) & (rows["player_status"] == "ACTIVE")]
        assert f.player_lookup != ""
        assert his[(his["game_date"] >= FIRST) & (his["game_date"] <= LAST)]["game_id"].nunique() >= MIN_REGISTRY_GAMES
        assert f.played_dates == tuple(sorted(set(his["game_date"])))
        assert f.player_name in f.fixed_aliases.split("|")
        listed = set(rows.loc[rows["player_lookup"] == f.player_lookup, "game_id"])
        assert not listed & {g.game_id for g in [*files, *malformed]}

    # Malformed rows: one per game and player, ACTIVE with points, not in a held-back game, value really changed.
    assert len({f.game_id for f in malformed}) == len({f.player_lookup for f in malformed}) == len(malformed)
    assert not {f.game_id for f in malformed} & {f.game_id for f in files}
    assert not {f.player_lookup for f in malformed} & {f.player_lookup for f in removals}
    for f in malformed:
        assert FIRST <= f.game_date <= LAST
        game_rows = box[box["game_id"] == f.game_id]
        row = game_rows.iloc[f.source_line - 2]
        assert (row["player_lookup"], row["player_status"], row["team_abbr"]) == (f.player_lookup, "ACTIVE", f.team_abbr)
        assert row[f.column] == f.original_value != f.corrupted_value and int(row["points"]) == f.points > 0
        corrupted = apply_malformed(game_rows, f)
        changed = (corrupted != game_rows).stack()
        assert changed[changed].index.tolist() == [(game_rows.index[f.source_line - 2], f.column)]


def test_every_corruption_appears_across_seeds(box) -> None:
    corruptions = {
        f.corruption for seed in range(6) for f in _choose(box, seed, start=FIRST, end=LAST) if isinstance(f, MalformedRowFault)
    }
    assert {c.value for c in corruptions} == {"minutes_text", "points_text", "minutes_raw_clock", "negative_rebounds"}


def test_ground_truth_rows_per_fault(box) -> None:
    faults = _choose(box, 7, start=FIRST, end=LAST)
    truth = ground_truth(7, FIRST, LAST, FaultCounts(), faults)
    by_fault = {f.fault_id: [r for r in truth.expected_failures if r.fault_id == f.fault_id] for f in faults}
    for fault in faults:
        rows = by_fault[fault.fault_id]
        assert rows == sorted(expected_failures(fault), key=lambda r: (r.analysis_date, r.processor_name, r.entity_id))
        if isinstance(fault, GameFileFault):
            fixed = fault.fault_kind == FaultKind.LATE_GAME_FILE
            assert sorted((r.processor_name, r.entity_type, r.entity_id) for r in rows) == sorted(
                [("nbac_gamebook_player_stats", EntityType.GAME, fault.game_id)]
                + [
                    (p, EntityType.TEAM, t)
                    for p in ("team_offense_game_summary", "team_defense_game_summary")
                    for t in (fault.home_abbr, fault.away_abbr)
                ]
            )
            assert {
                (r.failure_category, r.failure_type, r.is_correctable, r.fixed_by_delivery, r.analysis_date) for r in rows
            } == {(FailureCategory.MISSING_RAW_DATA, FailureType.DATA_GAP, True, fixed, fault.game_date)}
        elif isinstance(fault, RegistryRemovalFault):
            assert [r.analysis_date for r in rows] == list(fault.played_dates)
            assert {
                (
                    r.processor_name,
                    r.entity_type,
                    r.entity_id,
                    r.failure_category,
                    r.failure_type,
                    r.is_correctable,
                    r.fixed_by_delivery,
                )
                for r in rows
            } == {
                (
                    "player_game_summary",
                    EntityType.PLAYER,
                    fault.player_lookup,
                    FailureCategory.REGISTRY_LOOKUP_FAILED,
                    FailureType.DATA_GAP,
                    True,
                    True,
                )
            }
        else:
            assert sorted((r.processor_name, r.entity_type, r.entity_id, r.failure_category) for r in rows) == [
                ("player_game_summary", EntityType.PLAYER, fault.player_lookup, FailureCategory.PROCESSING_ERROR),
                ("team_offense_game_summary", EntityType.TEAM, fault.team_abbr, FailureCategory.VALIDATION_ERROR),
            ]
            assert {(r.failure_type, r.is_correctable, r.fixed_by_delivery, r.analysis_date) for r in rows} == {
                (FailureType.BAD_INPUT, False, False, fault.game_date)
            }
    assert {r.failure_category for r in truth.expected_failures} == FAULT_CATEGORIES
    assert len({r.failure_key for r in truth.expected_failures}) == len(truth.expected_failures)
    assert GroundTruth.model_validate_json(truth.model_dump_json()) == truth


def test_truth_processor_names_are_the_processors_own() -> None:
    from nba_failures.analytics.assets import PLAYER_GAMES, TEAM_DEFENSE, TEAM_OFFENSE
    from nba_failures.raw.assets import GAMEBOOK
    from nba_failures.scenarios import truth

    assert (truth.RAW_GAMEBOOK, truth.PLAYER_GAME_SUMMARY, truth.TEAM_OFFENSE, truth.TEAM_DEFENSE) == (
        GAMEBOOK.name, PLAYER_GAMES.name, TEAM_OFFENSE.name, TEAM_DEFENSE.name
    )  # fmt: skip
    assert GAMEBOOK.entity_type == EntityType.GAME
