"""Phase 4 on the real season (Oct 18 .. Mar 3, run once), every figure recomputed here from the bundled CSVs.

The oracle below re-derives each dressed player's windows with plain loops over the CSV box scores and schedule:
his team at a game's date is the team of his latest box-score listing (any status) on or before it.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from nba_failures.precompute.feature_store import feature_vectors
from nba_failures.tables.precompute import FEATURES
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets

FIRST, LAST = dt.date(2022, 10, 18), dt.date(2023, 3, 3)
PRECOMPUTE = [
    "player_daily_cache",
    "player_shot_zone_analysis",
    "team_defense_zone_analysis",
    "player_composite_factors",
    "ml_feature_store",
]
PLAYER_PRECOMPUTE = [name for name in PRECOMPUTE if name != "team_defense_zone_analysis"]
MID_SEASON = dt.date(2023, 1, 15)
THRESHOLD = 70.0


@pytest.fixture(scope="module")
def season_run(season_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("precompute") / "warehouse.duckdb"
    result = run_assets(
        DuckDBWarehouse(path=str(path)), season_landing, FIRST, LAST, selection=faults.FOUNDATION_ASSETS + PRECOMPUTE
    )
    assert result.success
    return path, result


@pytest.fixture
def warehouse_copy(season_run, tmp_path: Path) -> Path:
    """A private copy of the season's warehouse file that a test may damage."""
    return Path(shutil.copy(season_run[0], tmp_path / "warehouse.duckdb"))


# ---------------------------------------------------------------- the independent oracle


@functools.lru_cache(maxsize=1)
def _box() -> pd.DataFrame:
    box = faults.boxscores(FIRST, LAST)
    box["date"] = pd.to_datetime(box["game_date"]).dt.date
    return box[box["player_lookup"] != ""]


@functools.lru_cache(maxsize=1)
def _schedule() -> pd.DataFrame:
    games = faults.schedule(FIRST, LAST)
    games["date"] = pd.to_datetime(games["game_date"]).dt.date
    return games


def _dressed(day: dt.date) -> pd.DataFrame:
    box = faults.boxscores(day)
    return box[box["player_status"].isin(["ACTIVE", "DNP"]) & (box["player_lookup"] != "")]


def oracle(player: str, day: dt.date, removed: set[str] = frozenset()) -> dict:
    """His four windows on `day` (expected ids newest first, played ids) and the category the policy gives him."""
    box, games = _box(), _schedule()
    listings = box[(box["player_lookup"] == player) & (box["date"] <= day)].sort_values("date")
    played = (
        set(box.loc[(box["player_lookup"] == player) & (box["player_status"] == "ACTIVE") & (box["date"] < day), "game_id"])
        - removed
    )
    dated_teams = list(zip(listings["date"], listings["team_abbr"]))
    his_games = []
    for game in games[games["date"] < day].sort_values(["date", "game_id"], ascending=False).itertuples():
        before = [team for date, team in dated_teams if date <= game.date]
        if before and before[-1] in (game.home_abbr, game.away_abbr):
            his_games.append((game.game_id, game.date))
    league_days = sorted(d for d in set(games["date"]) if d < day)
    windows = {"l5": his_games[:5], "l10": his_games[:10]}
    for name, days in (("l7d", 7), ("l14d", 14)):
        start = league_days[-days] if len(league_days) >= days else (league_days[0] if league_days else day)
        windows[name] = [(g, d) for g, d in his_games if d >= start]
    figures = {name: (len(ids), sum(g in played for g, _ in ids)) for name, ids in windows.items()}
    failing = [name for name, (expected, actual) in figures.items() if expected and 100 * actual / expected < THRESHOLD]
    last_played = max((d for g, d in his_games if g in played), default=None)
    stale_days = (day - last_played).days if last_played else (day - FIRST).days
    if max(expected for expected, _ in figures.values()) < 3:
        category = "INSUFFICIENT_DATA"
    elif stale_days >= 30:
        category = "STALE_DATA"
    else:
        category = "INCOMPLETE_DATA" if failing else None
    widest = max(failing or figures, key=lambda name: figures[name][0])
    missing = sorted(g for g, _ in windows[widest] if g not in played)
    return {
        "figures": figures,
        "category": category,
        "expected_count": figures[widest][0],
        "missing": missing,
        "windows": windows,
    }


def _cache_rows(path: Path, day: dt.date) -> pd.DataFrame:
    return faults.read_table(path, "nba_precompute.player_daily_cache", where=f"analysis_date = DATE '{day}'")


def _failures(path: Path, processor: str, day: dt.date) -> pd.DataFrame:
    failures = faults.processor_failures(path, processor)
    return failures[pd.to_datetime(failures["analysis_date"]).dt.date == day]


# ---------------------------------------------------------------- player_daily_cache


@pytest.mark.slow(seconds=30)  # the module's backfill fixture runs for the first test
@pytest.mark.parametrize("day", [MID_SEASON, LAST])
def test_every_dressed_players_windows_match_the_oracle(season_run, day: dt.date) -> None:
    path, result = season_run
    rows = _cache_rows(path, day).set_index("player_lookup")
    failures = _failures(path, "player_daily_cache", day).set_index("entity_id")
    dressed = _dressed(day)
    assert len(rows) + len(failures) == len(dressed)
    for player in dressed["player_lookup"]:
        truth = oracle(player, day)
        if truth["category"] is None:
            row = rows.loc[player]
            for window, (expected, actual) in truth["figures"].items():
                assert (row[f"{window}_expected_games"], row[f"{window}_actual_games"]) == (expected, actual), (player, window)
        else:
            failure = failures.loc[player]
            assert failure["failure_category"] == truth["category"], player
            assert failure["expected_count"] == truth["expected_count"], player
            assert sorted(failure["missing_game_ids"]) == truth["missing"], player
            assert failure["actual_count"] == truth["expected_count"] - len(truth["missing"]), player
    values = faults.metadata(result, "player_daily_cache", day)
    faults.assert_rows_accounted_for(values)


def test_real_dnp_games_are_the_missing_games(season_run) -> None:
    """Evan Fournier (NYK) sat out DNP (coach's decision) in 4 of the Knicks' last 10 games before Jan 15."""
    path, _ = season_run
    games = _schedule()
    knicks = (
        games[((games["home_abbr"] == "NYK") | (games["away_abbr"] == "NYK")) & (games["date"] < MID_SEASON)]
        .sort_values("date")
        .tail(10)
    )
    box = _box()
    his = box[(box["player_lookup"] == "evanfournier") & box["game_id"].isin(knicks["game_id"])]
    assert set(his["team_abbr"]) == {"NYK"}
    dnp = sorted(his.loc[his["player_status"] == "DNP", "game_id"])
    played = his[his["player_status"] == "ACTIVE"]
    assert len(dnp) == 4 and len(played) == 6 and len(dnp) + len(played) == len(knicks)

    failure = _failures(path, "player_daily_cache", MID_SEASON).set_index("entity_id").loc["evanfournier"]
    assert failure["failure_category"] == "INCOMPLETE_DATA" and failure["entity_type"] == "PLAYER"
    assert (failure["expected_count"], failure["actual_count"]) == (len(knicks), len(played))
    assert sorted(failure["missing_game_ids"]) == dnp
    assert "l10 6/10 (60.0%)" in failure["failure_reason"]
    assert failure["can_retry"]


def test_traded_players_expected_games_follow_his_team(season_run) -> None:
    """Kevin Durant: listed for BKN through Feb 7, for PHX from Feb 9 (inactive, injured), first PHX game Mar 1."""
    path, _ = season_run
    day = LAST
    truth = oracle("kevindurant", day)
    l10 = [g for g, _ in truth["windows"]["l10"]]
    games = _schedule().set_index("game_id")
    trade = dt.date(2023, 2, 9)
    his_team = {g: "BKN" if games.loc[g, "date"] < trade else "PHX" for g in l10}
    assert set(his_team.values()) == {"BKN", "PHX"}
    assert all(team in (games.loc[g, "home_abbr"], games.loc[g, "away_abbr"]) for g, team in his_team.items())

    failure = _failures(path, "player_daily_cache", day).set_index("entity_id").loc["kevindurant"]
    assert failure["failure_category"] == "INCOMPLETE_DATA"
    assert failure["expected_count"] == len(l10) == 10 and failure["actual_count"] == 1
    assert sorted(failure["missing_game_ids"]) == sorted(g for g in l10 if games.loc[g, "date"] < dt.date(2023, 3, 1))
    # Brooklyn kept playing after the trade; those games are not his.
    brooklyn_after = games[
        (games["date"] >= trade) & (games["date"] < day) & ((games["home_abbr"] == "BKN") | (games["away_abbr"] == "BKN"))
    ]
    assert len(brooklyn_after) > 0 and not set(brooklyn_after.index) & set(failure["missing_game_ids"])


def test_first_days_of_the_season_are_insufficient_not_incomplete(season_run) -> None:
    path, _ = season_run
    failures = faults.processor_failures(path, "player_daily_cache")
    failures["day"] = pd.to_datetime(failures["analysis_date"]).dt.date
    for day in (FIRST, FIRST + dt.timedelta(days=1), FIRST + dt.timedelta(days=2)):
        dressed = _dressed(day)
        today = failures[failures["day"] == day]
        assert len(today) == len(dressed) > 0 and _cache_rows(path, day).empty
        assert set(today["failure_category"]) == {"INSUFFICIENT_DATA"}
        assert not today["can_retry"].any()
    # As teams reach 3 games, players move from INSUFFICIENT_DATA to rows or INCOMPLETE_DATA, per the oracle.
    day = dt.date(2022, 10, 24)
    today = failures[failures["day"] == day].set_index("entity_id")
    truths = {player: oracle(player, day)["category"] for player in _dressed(day)["player_lookup"]}
    assert {p for p, c in truths.items() if c == "INSUFFICIENT_DATA"} == set(
        today.index[today["failure_category"] == "INSUFFICIENT_DATA"]
    )
    assert "INSUFFICIENT_DATA" in truths.values() and None in truths.values()


def test_averages_count_games_played_only(season_run) -> None:
    path, _ = season_run
    rows = _cache_rows(path, MID_SEASON)
    box = _box()
    played = box[(box["player_status"] == "ACTIVE") & (box["date"] < MID_SEASON)].sort_values("date")
    had_dnp = 0
    for _, row in rows.iterrows():
        his = played[played["player_lookup"] == row["player_lookup"]]
        for n in (5, 10):
            last = his.tail(n)
            assert row[f"l{n}_games_averaged"] == len(last)
            np.testing.assert_allclose(row[f"l{n}_avg_points"], last["points"].astype(float).mean())
            np.testing.assert_allclose(row[f"l{n}_avg_minutes"], last["minutes"].astype(float).mean())
        had_dnp += row["l10_actual_games"] < row["l10_expected_games"]
    assert had_dnp > 0  # some cached players sat out games inside the window: their averages skip them


def test_removing_a_played_game_breaks_the_threshold(season_run, warehouse_copy: Path, season_landing: Path) -> None:
    """Delete one player_game_summary row of a complete player whose L7d is 3/3: 2/3 is below 70%."""
    rows = _cache_rows(warehouse_copy, MID_SEASON)
    candidates = rows[(rows["l7d_expected_games"] == 3) & (rows["l7d_actual_games"] == 3) & (rows["l10_actual_games"] == 10)]
    player = sorted(candidates["player_lookup"])[0]
    last_game_id, last_date = oracle(player, MID_SEASON)["windows"]["l5"][0]
    with duckdb.connect(str(warehouse_copy)) as connection:
        deleted = connection.execute(
            "DELETE FROM nba_analytics.player_game_summary WHERE player_lookup = ? AND game_date = ? RETURNING game_id",
            [player, last_date],
        ).fetchall()
    assert deleted == [(last_game_id,)]

    result = run_assets(DuckDBWarehouse(path=str(warehouse_copy)), season_landing, MID_SEASON, selection=["player_daily_cache"])
    assert result.success
    truth = oracle(player, MID_SEASON, removed={last_game_id})
    assert truth["category"] == "INCOMPLETE_DATA"
    failure = _failures(warehouse_copy, "player_daily_cache", MID_SEASON).set_index("entity_id").loc[player]
    assert failure["failure_category"] == "INCOMPLETE_DATA"
    assert last_game_id in failure["missing_game_ids"]
    assert sorted(failure["missing_game_ids"]) == truth["missing"]
    assert failure["expected_count"] == truth["expected_count"]
    assert failure["actual_count"] == truth["expected_count"] - len(truth["missing"])
    assert player not in set(_cache_rows(warehouse_copy, MID_SEASON)["player_lookup"])
    faults.assert_rows_accounted_for(faults.metadata(result, "player_daily_cache"))


def test_missing_upstream_partition_is_one_date_level_failure(warehouse_copy: Path, season_landing: Path) -> None:
    with duckdb.connect(str(warehouse_copy)) as connection:
        connection.execute("DELETE FROM nba_analytics.upcoming_player_game_context WHERE game_date = ?", [MID_SEASON])
    result = run_assets(DuckDBWarehouse(path=str(warehouse_copy)), season_landing, MID_SEASON, selection=PRECOMPUTE)
    assert result.success
    for processor in PLAYER_PRECOMPUTE:
        failures = _failures(warehouse_copy, processor, MID_SEASON)
        assert len(failures) == 1, processor
        failure = failures.iloc[0]
        assert (failure["failure_category"], failure["entity_type"], failure["entity_id"]) == (
            "MISSING_DEPENDENCY",
            "DATE",
            "DATE_LEVEL",
        )
        assert failure["upstream_table"] == "nba_analytics.upcoming_player_game_context"
        assert faults.read_table(
            warehouse_copy, f"nba_precompute.{processor}", where=f"analysis_date = DATE '{MID_SEASON}'"
        ).empty
    # Team defense does not read the dressed roster: unaffected.
    assert set(_failures(warehouse_copy, "team_defense_zone_analysis", MID_SEASON)["failure_category"]) <= {"INSUFFICIENT_DATA"}


def test_a_day_run_reproduces_the_range_run(season_run, warehouse_copy: Path, season_landing: Path) -> None:
    path, _ = season_run
    assert run_assets(DuckDBWarehouse(path=str(warehouse_copy)), season_landing, MID_SEASON, selection=PRECOMPUTE).success
    for processor in PRECOMPUTE:
        where = f"analysis_date = DATE '{MID_SEASON}'"
        ranged = faults.read_table(path, f"nba_precompute.{processor}", where=where)
        single = faults.read_table(warehouse_copy, f"nba_precompute.{processor}", where=where)
        assert len(ranged) > 0
        pd.testing.assert_frame_equal(ranged, single)
        failures = [
            _failures(p, processor, MID_SEASON).drop(columns=["run_id"]).sort_values("failure_key").reset_index(drop=True)
            for p in (path, warehouse_copy)
        ]
        pd.testing.assert_frame_equal(*failures)


# ---------------------------------------------------------------- shot zones and team defense


def _zones(frame: pd.DataFrame) -> dict[str, pd.Series]:
    made = {
        "two_point": frame["fg_made"] - frame["three_made"],
        "three_point": frame["three_made"],
        "free_throw": frame["ft_made"],
    }
    attempted = {
        "two_point": frame["fg_attempted"] - frame["three_attempted"],
        "three_point": frame["three_attempted"],
        "free_throw": frame["ft_attempted"],
    }
    return {**{f"{z}_made": v for z, v in made.items()}, **{f"{z}_attempted": v for z, v in attempted.items()}}


SHOT_COLUMNS = ["fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made", "ft_attempted", "points"]


def test_shot_zones_are_his_last_10_games_played(season_run) -> None:
    path, result = season_run
    table = faults.read_table(
        path, "nba_precompute.player_shot_zone_analysis", where=f"analysis_date = DATE '{MID_SEASON}'"
    ).set_index("player_lookup")
    box = _box()
    played = box[(box["player_status"] == "ACTIVE") & (box["date"] < MID_SEASON)].sort_values("date")
    failures = _failures(path, "player_shot_zone_analysis", MID_SEASON)
    for player in _dressed(MID_SEASON)["player_lookup"]:
        last = played[played["player_lookup"] == player].tail(10)
        if len(last) < 3:
            assert player in set(failures["entity_id"])
            continue
        sums = last[SHOT_COLUMNS].astype(int).sum()
        row = table.loc[player]
        assert row["games_in_sample"] == len(last) and row["total_points"] == sums["points"]
        for column, value in _zones(sums).items():
            assert row[column] == value, (player, column)
        if sums["points"]:
            np.testing.assert_allclose(row["three_point_point_share"], 3 * sums["three_made"] / sums["points"])
    assert set(failures["failure_category"]) <= {"INSUFFICIENT_DATA"}
    faults.assert_rows_accounted_for(faults.metadata(result, "player_shot_zone_analysis", MID_SEASON))


def test_team_defense_zones_are_what_opponents_scored_in_its_last_15_games(season_run) -> None:
    path, result = season_run
    table = faults.read_table(
        path, "nba_precompute.team_defense_zone_analysis", where=f"analysis_date = DATE '{MID_SEASON}'"
    ).set_index("team_abbr")
    games = _schedule()
    box = faults.active(_box())
    today = games[games["date"] == MID_SEASON]
    assert len(table) == 2 * len(today)
    for team in pd.concat([today["home_abbr"], today["away_abbr"]]):
        last = (
            games[((games["home_abbr"] == team) | (games["away_abbr"] == team)) & (games["date"] < MID_SEASON)]
            .sort_values("date")
            .tail(15)
        )
        conceded = box[box["game_id"].isin(last["game_id"]) & (box["team_abbr"] != team)][SHOT_COLUMNS].astype(int).sum()
        row = table.loc[team]
        assert row["games_in_sample"] == 15 and row["total_points"] == conceded["points"]
        for column, value in _zones(conceded).items():
            assert row[column] == value, (team, column)
    faults.assert_rows_accounted_for(faults.metadata(result, "team_defense_zone_analysis", MID_SEASON))
    failures = faults.processor_failures(path, "team_defense_zone_analysis")
    assert set(failures["entity_type"]) == {"TEAM"} and set(failures["failure_category"]) == {"INSUFFICIENT_DATA"}


# ---------------------------------------------------------------- composite factors and feature store


def test_composite_missing_data_names_the_upstream_table(season_run) -> None:
    path, result = season_run
    shot_failures = set(_failures(path, "player_shot_zone_analysis", MID_SEASON)["entity_id"])
    composite = _failures(path, "player_composite_factors", MID_SEASON).set_index("entity_id")
    assert shot_failures and set(composite.index) == shot_failures
    assert set(composite["failure_category"]) == {"MISSING_DATA"}
    assert set(composite["upstream_table"]) == {"nba_precompute.player_shot_zone_analysis"}
    rows = faults.read_table(path, "nba_precompute.player_composite_factors", where=f"analysis_date = DATE '{MID_SEASON}'")
    b2b = rows[rows["back_to_back"]]
    assert len(b2b) and (b2b["fatigue_score"] >= 40).all()
    faults.assert_rows_accounted_for(faults.metadata(result, "player_composite_factors", MID_SEASON))


def test_feature_store_has_one_vector_per_complete_player(season_run) -> None:
    path, result = season_run
    assert len(FEATURES) >= 20
    vectors = faults.read_table(path, "nba_precompute.ml_feature_store", where=f"analysis_date = DATE '{MID_SEASON}'")
    cached = set(_cache_rows(path, MID_SEASON)["player_lookup"])
    failures = _failures(path, "ml_feature_store", MID_SEASON).set_index("entity_id")
    incomplete = failures[failures["failure_category"] == "UPSTREAM_INCOMPLETE"]
    assert set(vectors["player_lookup"]) <= cached
    # Fournier failed player_daily_cache (INCOMPLETE_DATA): no vector, and the failure names that table.
    assert incomplete.loc["evanfournier", "upstream_table"] == "nba_precompute.player_daily_cache"
    assert set(_dressed(MID_SEASON)["player_lookup"]) - cached <= set(incomplete.index)
    assert np.isfinite(vectors[list(FEATURES)].astype(float).to_numpy()).all()
    faults.assert_rows_accounted_for(faults.metadata(result, "ml_feature_store", MID_SEASON))


def test_invalid_features_are_rejected_with_their_names(season_run) -> None:
    path, _ = season_run
    where = f"analysis_date = DATE '{MID_SEASON}'"
    roster = faults.read_table(path, "nba_analytics.upcoming_player_game_context", where=f"game_date = DATE '{MID_SEASON}'")
    cache, shots, composite = (
        faults.read_table(path, f"nba_precompute.{name}", where=where)
        for name in ("player_daily_cache", "player_shot_zone_analysis", "player_composite_factors")
    )
    good, before = feature_vectors(roster, cache, shots, composite)
    already = set(before.loc[before["failure_category"] == "FEATURE_VALIDATION_ERROR", "entity_id"])
    nan_player, inf_player, high_player = sorted(good["player_lookup"])[:3]
    composite.loc[composite["player_lookup"] == nan_player, "fatigue_score"] = np.nan
    composite.loc[composite["player_lookup"] == inf_player, "team_pace"] = np.inf
    cache.loc[cache["player_lookup"] == high_player, "l5_avg_minutes"] = 75.0
    vectors, failures = feature_vectors(roster, cache, shots, composite)
    rejected = failures[failures["failure_category"] == "FEATURE_VALIDATION_ERROR"].set_index("entity_id")
    assert set(rejected.index) == already | {nan_player, inf_player, high_player}
    assert "fatigue_score=nan" in rejected.loc[nan_player, "reason"]
    assert "team_pace=inf" in rejected.loc[inf_player, "reason"]
    assert "l5_avg_minutes=75 (valid 0..68)" in rejected.loc[high_player, "reason"]
    assert len(vectors) == len(good) - 3 and not set(vectors["player_lookup"]) & set(rejected.index)
