"""Phase 3 assets on real days, every figure recomputed here from the bundled box scores and schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nba_failures.analytics import box_scores
from nba_failures.tables.raw import NBAC_GAMEBOOK_PLAYER_STATS
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets

DAY = dt.date(2023, 1, 15)
STATS = [
    "points",
    "rebounds",
    "assists",
    "fg_made",
    "fg_attempted",
    "three_made",
    "three_attempted",
    "ft_made",
    "ft_attempted",
    "turnovers",
]
TEAM_SUMS = ["points", "fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made", "ft_attempted",
             "offensive_rebounds", "defensive_rebounds", "assists", "turnovers"]  # fmt: skip


@pytest.fixture(scope="module")
def day_run(season_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("analytics_day") / "warehouse.duckdb"
    result = run_assets(DuckDBWarehouse(path=str(path)), season_landing, DAY, selection=faults.FOUNDATION_ASSETS)
    assert result.success
    return path, result


def _expected_team_games(day: dt.date) -> pd.DataFrame:
    """Two rows per scheduled game with the team's summed ACTIVE box-score totals and its scheduled score."""
    box = faults.active(faults.boxscores(day)).copy()
    for stat in TEAM_SUMS:
        box[stat] = box[stat].astype(int)
    sums = box.groupby(["game_id", "team_abbr"]).agg(**{s: (s, "sum") for s in TEAM_SUMS}, players_used=("player_lookup", "size"))
    games = faults.schedule(day)
    sides = pd.concat(
        [
            games.assign(
                team_abbr=games["home_abbr"], opponent_abbr=games["away_abbr"], home_away="HOME", scheduled=games["home_pts"]
            ),
            games.assign(
                team_abbr=games["away_abbr"], opponent_abbr=games["home_abbr"], home_away="AWAY", scheduled=games["away_pts"]
            ),
        ]
    ).loc[:, ["game_id", "team_abbr", "opponent_abbr", "home_away", "scheduled"]]
    expected = sides.merge(sums.reset_index(), on=["game_id", "team_abbr"], how="left")
    expected["scheduled"] = expected["scheduled"].astype(int)
    expected["possessions"] = (
        expected["fg_attempted"] - expected["offensive_rebounds"] + expected["turnovers"] + 0.44 * expected["ft_attempted"]
    )
    return expected.sort_values(["game_id", "team_abbr"]).reset_index(drop=True)


def _optional(values: pd.Series, kind: type) -> list:
    return [None if pd.isna(v) else kind(v) for v in values]


def test_player_game_summary_has_one_row_per_active_player(day_run, season_landing: Path) -> None:
    path, result = day_run
    box = faults.boxscores(DAY)
    played = faults.active(box).sort_values(["game_id", "player_lookup"]).reset_index(drop=True)
    table = (
        faults.read_table(path, "nba_analytics.player_game_summary")
        .sort_values(["game_id", "player_lookup"])
        .reset_index(drop=True)
    )

    assert len(table) == len(played) == 167
    assert table["player_lookup"].tolist() == played["player_lookup"].tolist()
    assert table["game_id"].tolist() == played["game_id"].tolist()
    assert table["team_abbr"].tolist() == played["team_abbr"].tolist()
    assert table["opponent_abbr"].tolist() == played["opponent_abbr"].tolist()
    for stat in STATS:
        assert table[stat].tolist() == played[stat].astype(int).tolist(), stat
    np.testing.assert_allclose(table["minutes"].astype(float), played["minutes"].astype(float))
    assert table["starter"].tolist() == (played["starter"] == "True").tolist()
    registry = pd.read_csv(season_landing / "registry" / "player_registry.csv", dtype=str, keep_default_na=False)
    ids = dict(zip(registry["player_lookup"], registry["universal_player_id"]))
    assert table["universal_player_id"].tolist() == [ids[p] for p in played["player_lookup"]]

    # Players who did not play have no row at all (no zero-point, zero-minute row standing in for them).
    not_played = set(box.loc[box["player_status"] != "ACTIVE", "player_lookup"]) - {""}
    assert len(not_played) == int((box["player_status"] != "ACTIVE").sum()) == 100
    assert not_played.isdisjoint(set(table["player_lookup"]))
    assert table["minutes"].notna().all() and (table["minutes"] > 0).all()

    values = faults.metadata(result, "player_game_summary")
    assert values["rows_written"] == 167
    assert values["input_rows"] == len(box) == 267
    assert values["excluded_input_rows"] == len(box) - len(played)
    assert values["failed_input_rows"] == 0 and values["failures_by_category"] == {}
    faults.assert_rows_accounted_for(values)


def test_team_offense_is_two_rows_per_game_scoring_the_scheduled_points(day_run) -> None:
    path, result = day_run
    expected = _expected_team_games(DAY)
    table = (
        faults.read_table(path, "nba_analytics.team_offense_game_summary")
        .sort_values(["game_id", "team_abbr"])
        .reset_index(drop=True)
    )
    assert len(table) == 2 * len(faults.schedule(DAY)) == 16
    assert table["team_abbr"].tolist() == expected["team_abbr"].tolist()
    assert table["opponent_abbr"].tolist() == expected["opponent_abbr"].tolist()
    assert table["home_away"].tolist() == expected["home_away"].tolist()
    # The box score adds up to the schedule's final score for every team.
    assert table["points"].tolist() == expected["scheduled"].tolist() == expected["points"].tolist()
    for stat in [*TEAM_SUMS, "players_used"]:
        assert table[stat].tolist() == expected[stat].tolist(), stat
    np.testing.assert_allclose(table["possessions"].astype(float), expected["possessions"])
    np.testing.assert_allclose(table["rating"].astype(float), 100 * expected["points"] / expected["possessions"])
    assert faults.processor_failures(path, "team_offense_game_summary").empty
    values = faults.metadata(result, "team_offense_game_summary")
    assert values["rows_written"] == 16 and values["input_rows"] == 16
    faults.assert_rows_accounted_for(values)


def test_team_defense_is_the_opponents_offense(day_run) -> None:
    path, result = day_run
    expected = _expected_team_games(DAY)
    by_team = expected.set_index(["game_id", "team_abbr"])
    table = (
        faults.read_table(path, "nba_analytics.team_defense_game_summary")
        .sort_values(["game_id", "team_abbr"])
        .reset_index(drop=True)
    )
    assert len(table) == 16
    opponent = [by_team.loc[(g, o)] for g, o in zip(table["game_id"], table["opponent_abbr"])]
    assert table["opp_points"].tolist() == [int(row["scheduled"]) for row in opponent]
    assert table["opp_fg_attempted"].tolist() == [int(row["fg_attempted"]) for row in opponent]
    assert table["players_used"].tolist() == [int(row["players_used"]) for row in opponent]
    assert faults.processor_failures(path, "team_defense_game_summary").empty
    faults.assert_rows_accounted_for(faults.metadata(result, "team_defense_game_summary"))


def test_upcoming_context_on_a_single_day_lists_dressed_players_with_no_history(day_run) -> None:
    path, result = day_run
    box = faults.boxscores(DAY)
    dressed = box[box["player_status"].isin(["ACTIVE", "DNP"]) & (box["player_lookup"] != "")]
    table = faults.read_table(path, "nba_analytics.upcoming_player_game_context")
    assert len(table) == len(dressed) == 203
    assert sorted(zip(table["game_id"], table["player_lookup"])) == sorted(zip(dressed["game_id"], dressed["player_lookup"]))
    # Only this day has been processed: nobody has earlier games, so no form, and each is INSUFFICIENT_DATA.
    assert (table["games_played_before"] == 0).all() and table["days_rest"].isna().all()
    failures = faults.processor_failures(path, "upcoming_player_game_context")
    assert len(failures) == 203
    assert set(failures["failure_category"]) == {"INSUFFICIENT_DATA"} and set(failures["entity_type"]) == {"PLAYER"}
    assert not failures["can_retry"].any()
    assert sorted(failures["entity_id"]) == sorted(dressed["player_lookup"])
    values = faults.metadata(result, "upcoming_player_game_context")
    assert values["failures_by_category"] == {"INSUFFICIENT_DATA": 203}
    assert len(values["failures_preview"]) == 20


def test_upcoming_context_form_and_rest_from_earlier_games(season_landing: Path, warehouse: DuckDBWarehouse) -> None:
    """Over a range run, each player's rest, L5/L10 form and completeness come from his earlier games only."""
    first, day = dt.date(2023, 1, 1), dt.date(2023, 1, 16)
    assert run_assets(warehouse, season_landing, first, day, selection=faults.FOUNDATION_ASSETS).success

    box = faults.boxscores(day)
    dressed = box[box["player_status"].isin(["ACTIVE", "DNP"]) & (box["player_lookup"] != "")]
    history = faults.active(faults.boxscores(first, day - dt.timedelta(days=1))).copy()
    history["date"] = pd.to_datetime(history["game_date"])
    history = history.sort_values("date")
    games = faults.schedule(first, day - dt.timedelta(days=1))

    expected = []
    for _, row in dressed.iterrows():
        his = history[history["player_lookup"] == row["player_lookup"]]
        team_games = games[(games["home_abbr"] == row["team_abbr"]) | (games["away_abbr"] == row["team_abbr"])].sort_values(
            "game_date"
        )
        last_10 = set(team_games["game_id"].tail(10))
        played_10 = int(his["game_id"].isin(last_10).sum())
        rest = (pd.Timestamp(day) - his["date"].iloc[-1]).days if len(his) else None
        expected.append(
            {
                "game_id": row["game_id"],
                "player_lookup": row["player_lookup"],
                "games_played_before": len(his),
                "days_rest": rest,
                "back_to_back": None if rest is None else rest == 1,
                "games_last_7_days": int((his["date"] >= pd.Timestamp(day - dt.timedelta(days=7))).sum()),
                "l5_avg_points": his["points"].astype(float).tail(5).mean() if len(his) else np.nan,
                "l10_avg_points": his["points"].astype(float).tail(10).mean() if len(his) else np.nan,
                "l10_avg_minutes": his["minutes"].astype(float).tail(10).mean() if len(his) else np.nan,
                "team_games_last_10": len(last_10),
                "played_of_team_last_10": played_10,
            }
        )
    expected = pd.DataFrame(expected).sort_values(["game_id", "player_lookup"]).reset_index(drop=True)
    table = faults.read_table(warehouse.path, "nba_analytics.upcoming_player_game_context", where=f"game_date = DATE '{day}'")
    table = table.sort_values(["game_id", "player_lookup"]).reset_index(drop=True)

    assert len(table) == len(expected) == len(dressed)
    assert table["player_lookup"].tolist() == expected["player_lookup"].tolist()
    # The day has players with long and short histories, back-to-backs, and L5 different from L10: the checks bite.
    assert (expected["games_played_before"] > 5).any() and (expected["games_played_before"] < 3).any()
    assert (expected["back_to_back"] == True).any()  # noqa: E712 (element-wise, on a Series)
    assert (expected["l5_avg_points"] - expected["l10_avg_points"]).abs().max() > 1
    for column in ("games_played_before", "games_last_7_days", "team_games_last_10", "played_of_team_last_10"):
        assert table[column].astype(int).tolist() == expected[column].tolist(), column
    assert _optional(table["days_rest"], int) == _optional(expected["days_rest"], int)
    assert _optional(table["back_to_back"], bool) == _optional(expected["back_to_back"], bool)
    for column in ("l5_avg_points", "l10_avg_points", "l10_avg_minutes"):
        np.testing.assert_allclose(table[column].astype(float), expected[column].astype(float), err_msg=column)
    np.testing.assert_allclose(
        table["completeness_l10_pct"].astype(float), 100 * expected["played_of_team_last_10"] / expected["team_games_last_10"]
    )

    failures = faults.processor_failures(warehouse.path, "upcoming_player_game_context")
    failures = failures[failures["analysis_date"].map(pd.Timestamp) == pd.Timestamp(day)]
    assert sorted(failures["entity_id"]) == sorted(expected.loc[expected["games_played_before"] < 3, "player_lookup"])
    assert set(failures["failure_category"]) == {"INSUFFICIENT_DATA"}


def test_a_day_without_games_writes_nothing_and_fails_nothing(season_landing: Path, warehouse: DuckDBWarehouse) -> None:
    christmas_eve = dt.date(2022, 12, 24)
    assert faults.schedule(christmas_eve).empty
    result = run_assets(warehouse, season_landing, christmas_eve, selection=faults.FOUNDATION_ASSETS)
    assert result.success
    for asset in faults.FOUNDATION_ASSETS:
        values = faults.metadata(result, asset)
        assert values["failures"] == 0, asset
        assert values["rows_written"] == (
            0 if asset != "player_registry" else len(faults.read_table(warehouse.path, "nba_raw.player_registry"))
        )
    assert faults.processor_failures(warehouse.path).empty
    runs = faults.read_table(warehouse.path, "nba_processing.processor_runs")
    assert sorted(runs["processor_name"]) == sorted(faults.FOUNDATION_ASSETS)  # ran clean, and says so


def test_a_range_run_parses_each_window_of_raw_rows_once(
    season_landing: Path, warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_rows = []
    parse = box_scores.parse_box_rows

    def counted(raw: pd.DataFrame, schedule: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
        parsed_rows.append(len(raw))
        return parse(raw, schedule, identities)

    monkeypatch.setattr(box_scores, "parse_box_rows", counted)  # the asset module imports it when it parses
    first, last = dt.date(2023, 1, 10), dt.date(2023, 1, 12)
    assert run_assets(warehouse, season_landing, first, last, selection=[*faults.FOUNDATION_ASSETS, "player_daily_cache"]).success
    # The four analytics processors read the range, the daily cache the season up to its end (here the same rows,
    # another window): one parse each, of the range's raw rows.
    landed = len(warehouse.read(NBAC_GAMEBOOK_PLAYER_STATS))
    assert parsed_rows == [landed, landed]
