"""DNP vs DATA_GAP on the real season: verdicts checked against the box scores read independently."""

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from nba_failures.classified.completeness import CompletenessChecker
from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.failures.records import EntityType, FailureCategory, FailureType, Phase
from nba_failures.landing.contract import game_date_of
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.harness import run_assets
from nba_failures_tests.season_data import boxscores, player_rows, team_games

LOOKBACK = 14
CACHE = ProcessorSpec("player_daily_cache", Phase.PRECOMPUTE, EntityType.PLAYER, PLAYER_GAME_SUMMARY)
TEAM_PROCESSOR = ProcessorSpec("team_defense_zone_analysis", Phase.PRECOMPUTE, EntityType.TEAM, TEAM_OFFENSE_GAME_SUMMARY)


@pytest.fixture(scope="module")
def season_file(tmp_path_factory, season_landing):
    """Phase 2 + 3 of the real season's first four and a half months, in one DuckDB file."""
    path = tmp_path_factory.mktemp("classification") / "season.duckdb"
    result = run_assets(
        DuckDBWarehouse(path=str(path)),
        season_landing,
        dt.date(2022, 10, 18),
        dt.date(2023, 2, 28),
        selection="+player_game_summary",
    )
    assert result.success
    return path


@pytest.fixture
def damaged(season_file, tmp_path):
    """A private copy of the season file that a test may delete rows from."""
    path = tmp_path / "damaged.duckdb"
    shutil.copyfile(season_file, path)
    return path


def incomplete(*checks: tuple[str, dt.date], processor: ProcessorSpec = CACHE) -> pd.DataFrame:
    recorder = FailureRecorder(processor, "run-under-test")
    for entity_id, day in checks:
        recorder.record(day, entity_id, FailureCategory.INCOMPLETE_DATA, "window below threshold")
    return recorder.frame()


def classify(path, failures: pd.DataFrame) -> pd.DataFrame:
    start = min(failures["analysis_date"])
    end = max(failures["analysis_date"]) + dt.timedelta(days=1)
    return (
        CompletenessChecker(lookback_days=LOOKBACK)
        .classify(DuckDBWarehouse(path=str(path)), failures, start, end)
        .set_index("entity_id")
    )


def truth(player: str, team: str, day: dt.date) -> tuple[list[str], list[str]]:
    """From the CSV: (games he played, 'game_id: reason' for team games he did not) in the lookback window."""
    start = day - dt.timedelta(days=LOOKBACK)
    rows = player_rows(player, start, day).set_index("game_id")
    played, not_played = [], []
    for game_id in team_games(team, start, day)["game_id"]:
        if game_id in rows.index and rows.loc[game_id, "player_status"] == "ACTIVE":
            played.append(game_id)
        else:
            reason = rows.loc[game_id, "dnp_reason"] if game_id in rows.index else "not in the box score"
            not_played.append(f"{game_id}: {reason}")
    return played, not_played


def delete_rows(path, table: str, column: str, values: list[str]) -> int:
    with duckdb.connect(str(path)) as connection:
        return (
            connection.execute(f"DELETE FROM {table} WHERE list_contains(?, {column}) RETURNING 1", [values]).fetchall().__len__()
        )


DAY = dt.date(2023, 1, 15)


@pytest.mark.parametrize("player,team", [("anthonydavis", "LAL"), ("coryjoseph", "DET")])
def test_real_inactive_and_dnp_games_classify_player_dnp_with_their_reasons(season_file, player, team):
    played, not_played = truth(player, team, DAY)
    assert not_played, "the example must have games he did not play"
    row = classify(season_file, incomplete((player, DAY))).loc[player]
    assert row["failure_type"] == FailureType.PLAYER_DNP.value
    assert row["dnp_reasons"] == not_played
    assert row["gap_game_ids"] == []
    assert not row["is_correctable"] and row["raw_data_checked"]


def test_a_played_game_lost_from_analytics_is_a_data_gap(damaged):
    played, not_played = truth("lebronjames", "LAL", DAY)
    lost = played[-1]
    assert delete_rows(damaged, "nba_analytics.player_game_summary", "game_id", [lost]) > 0
    row = classify(damaged, incomplete(("lebronjames", DAY))).loc["lebronjames"]
    expected_type = FailureType.MIXED if not_played else FailureType.DATA_GAP
    assert row["failure_type"] == expected_type.value
    assert row["gap_game_ids"] == [lost]
    assert row["gap_game_dates"] == [game_date_of(lost)]
    assert row["is_correctable"]


def test_a_game_whose_raw_box_score_never_landed_is_a_gap_not_a_dnp(damaged):
    """Absence of evidence is not evidence of absence: no raw file, no DNP verdict."""
    played, not_played = truth("anthonydavis", "LAL", DAY)
    held_back = not_played[0].split(":")[0]  # a real inactive game: only the raw file could tell
    delete_rows(damaged, "nba_raw.nbac_gamebook_player_stats", "game_id", [held_back])
    delete_rows(damaged, "nba_analytics.player_game_summary", "game_id", [held_back])
    row = classify(damaged, incomplete(("anthonydavis", DAY))).loc["anthonydavis"]
    assert row["gap_game_ids"] == [held_back]
    assert row["dnp_reasons"] == [reason for reason in not_played if not reason.startswith(held_back)]
    assert row["failure_type"] == (FailureType.MIXED if len(not_played) > 1 else FailureType.DATA_GAP).value
    assert "1 with no raw box score landed" in row["classification_reason"]


def test_dnp_games_plus_a_lost_played_game_is_mixed(damaged):
    played, not_played = truth("coryjoseph", "DET", DAY)
    delete_rows(damaged, "nba_analytics.player_game_summary", "game_id", [played[0]])
    row = classify(damaged, incomplete(("coryjoseph", DAY))).loc["coryjoseph"]
    assert row["failure_type"] == FailureType.MIXED.value
    assert row["gap_game_ids"] == [played[0]] and row["dnp_reasons"] == not_played
    assert row["is_correctable"]


def test_a_player_missing_nothing_is_complete(season_file):
    played, not_played = truth("jaysontatum", "BOS", DAY)
    assert played and not not_played, "the example must have played every team game of the window"
    row = classify(season_file, incomplete(("jaysontatum", DAY))).loc["jaysontatum"]
    assert row["failure_type"] == FailureType.COMPLETE.value and not row["is_correctable"]


def test_early_season_with_too_few_team_games_is_insufficient_history(season_file):
    day = dt.date(2022, 10, 24)
    played, not_played = truth("anthonydavis", "LAL", day)
    assert len(played) + len(not_played) < 5
    row = classify(season_file, incomplete(("anthonydavis", day))).loc["anthonydavis"]
    assert row["failure_type"] == FailureType.INSUFFICIENT_HISTORY.value


def test_a_traded_players_expected_games_follow_his_team(damaged):
    day = dt.date(2023, 2, 20)
    start = day - dt.timedelta(days=LOOKBACK)
    rows = player_rows("kevindurant", start, day)
    by_team = {team: team_games(team, start, day) for team in ("BKN", "PHX")}
    # He is expected in each team's games only while on it: the trade splits the window.
    expected = sorted(
        list(by_team["BKN"][by_team["BKN"]["game_date"] <= dt.date(2023, 2, 7)]["game_id"])
        + list(by_team["PHX"][by_team["PHX"]["game_date"] >= dt.date(2023, 2, 9)]["game_id"])
    )
    not_played = [
        f"{g}: {rows.set_index('game_id').loc[g, 'dnp_reason']}" if g in set(rows["game_id"]) else f"{g}: not in the box score"
        for g in expected
    ]
    row = classify(damaged, incomplete(("kevindurant", day))).loc["kevindurant"]
    assert row["failure_type"] == FailureType.PLAYER_DNP.value
    assert row["dnp_reasons"] == not_played
    assert f"of {len(expected)} team games" in row["classification_reason"]


def test_team_entities_are_never_dnp_classified(season_file):
    failures = incomplete(("LAL", DAY), processor=TEAM_PROCESSOR)
    row = classify(season_file, failures).loc["LAL"]
    assert row["failure_type"] == FailureType.DATA_GAP.value
    assert not row["raw_data_checked"]


def test_a_player_no_source_knows_is_unknown_with_the_reason(season_file):
    row = classify(season_file, incomplete(("nosuchplayer", DAY))).loc["nosuchplayer"]
    assert row["failure_type"] == FailureType.UNKNOWN.value
    assert "no roster listing" in row["classification_reason"]


class CountingWarehouse(DuckDBWarehouse):
    """The real DuckDB warehouse, counting the reads it serves."""

    def read(self, *args, **kwargs):
        type(self).reads += 1
        return super().read(*args, **kwargs)


def test_reads_do_not_grow_with_the_number_of_failures(season_file):
    on_the_day = boxscores().query("game_date == @DAY and player_lookup != ''")
    many = incomplete(*[(player, DAY) for player in sorted(set(on_the_day["player_lookup"]))])
    assert len(many) > 100
    counts = []
    for failures in (incomplete(("lebronjames", DAY)), many):
        CountingWarehouse.reads = 0
        CompletenessChecker().classify(CountingWarehouse(path=str(season_file)), failures, DAY, DAY + dt.timedelta(days=1))
        counts.append(CountingWarehouse.reads)
    assert counts == [5, 5]  # schedule, summaries, raw box scores, the registry they resolve against, root failures


def test_games_the_processor_recorded_as_missing_are_the_ones_checked_even_beyond_the_lookback(season_file):
    """An L10 window reaches further back than 14 days: its DNP games there are DNPs, not a stale failure."""
    start = DAY - dt.timedelta(days=30)
    rows = player_rows("evanfournier", start, DAY - dt.timedelta(days=LOOKBACK))
    old_dnps = rows[rows["player_status"] != "ACTIVE"]
    assert len(old_dnps) > 0, "the example must have games he did not play before the lookback window"
    recorder = FailureRecorder(CACHE, "run-under-test")
    recorder.record(
        DAY, "evanfournier", FailureCategory.INCOMPLETE_DATA, "l10 below threshold", missing_game_ids=list(old_dnps["game_id"])
    )
    row = classify(season_file, recorder.frame()).loc["evanfournier"]
    assert row["failure_type"] == FailureType.PLAYER_DNP.value
    assert row["dnp_reasons"] == [f"{g}: {r}" for g, r in zip(old_dnps["game_id"], old_dnps["dnp_reason"])]
    assert "recorded as missing" in row["classification_reason"]
