"""The approach of the system we replace, for comparison only: one parameterized query per entity.

For each player failure: his team (latest roster listing before the day), his team's scheduled games in the
lookback window, his `player_game_summary` games in it; then, for each missing game, one more query for his
line in that game's raw box score (and whether the box score landed at all). Verdicts follow the same
rules as `classify_failures`, so the two can be compared; the loop simplifies a traded player to his
latest team, which is where the two may disagree.

It runs on one open DuckDB connection (cheaper than the original's one BigQuery job per query).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from nba_failures.failures.records import FailureType
from nba_failures.landing.contract import PLAYED_STATUS

_TEAM = """
    SELECT team_abbr FROM (
        SELECT landing_date AS d, team_abbr FROM nba_raw.nbac_gamebook_player_stats
        WHERE player_lookup = ? AND landing_date >= ? AND landing_date < ?
        UNION ALL
        SELECT game_date AS d, team_abbr FROM nba_analytics.player_game_summary
        WHERE player_lookup = ? AND game_date >= ? AND game_date < ?
    ) ORDER BY d DESC LIMIT 1
"""
_SCHEDULE = (
    "SELECT game_id FROM nba_raw.nbac_schedule WHERE (home_abbr = ? OR away_abbr = ?) AND game_date >= ? AND game_date < ? "
    "ORDER BY game_id"
)
_PLAYED = "SELECT game_id FROM nba_analytics.player_game_summary WHERE player_lookup = ? AND game_date >= ? AND game_date < ?"
_RAW_LINE = """
    SELECT (SELECT count(*) FROM nba_raw.nbac_gamebook_player_stats WHERE game_id = ?) AS listed,
           (SELECT first(upper(trim(player_status))) FROM nba_raw.nbac_gamebook_player_stats
            WHERE game_id = ? AND player_lookup = ?) AS status
"""


def classify_one_by_one(
    database: str, failures: pd.DataFrame, lookback_days: int = 14, min_history_games: int = 5
) -> tuple[pd.DataFrame, int]:
    """(failure_key, failure_type) per failure, and the number of queries it took."""
    verdicts = []
    queries = 0
    connection = duckdb.connect(database, read_only=True)
    try:
        for key, player, day in zip(failures["failure_key"], failures["entity_id"], failures["analysis_date"]):
            window_start = day - dt.timedelta(days=lookback_days)
            reach = day - dt.timedelta(days=2 * lookback_days)
            team = connection.execute(_TEAM, [player, reach, day, player, reach, day]).fetchone()
            queries += 1
            if team is None:
                verdicts.append((key, FailureType.UNKNOWN.value))
                continue
            expected = [row[0] for row in connection.execute(_SCHEDULE, [team[0], team[0], window_start, day]).fetchall()]
            played = {row[0] for row in connection.execute(_PLAYED, [player, window_start, day]).fetchall()}
            queries += 2
            gaps = dnps = 0
            for game_id in expected:
                if game_id in played:
                    continue
                listed, status = connection.execute(_RAW_LINE, [game_id, game_id, player]).fetchone()
                queries += 1
                if listed == 0 or status == PLAYED_STATUS:
                    gaps += 1  # box score not landed, or he played: a gap
                else:
                    dnps += 1  # listed DNP / INACTIVE / OUT, or absent from a landed box score
            if gaps and dnps:
                verdict = FailureType.MIXED
            elif gaps:
                verdict = FailureType.DATA_GAP
            elif len(expected) < min_history_games:
                verdict = FailureType.INSUFFICIENT_HISTORY
            elif dnps:
                verdict = FailureType.PLAYER_DNP
            else:
                verdict = FailureType.COMPLETE
            verdicts.append((key, verdict.value))
    finally:
        connection.close()
    return pd.DataFrame(verdicts, columns=["failure_key", "failure_type"]), queries
