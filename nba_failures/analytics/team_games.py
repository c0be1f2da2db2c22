"""Team offense and defense per game, summed from valid played rows and checked against the schedule."""

from __future__ import annotations

import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.landing.contract import PLAYED_STATUS

_SUMMED = (
    "points", "fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made", "ft_attempted",
    "offensive_rebounds", "defensive_rebounds", "assists", "turnovers",
)  # fmt: skip
TEAM_TOTAL_COLUMNS = (*_SUMMED, "possessions")
# What a team failure carries: a missing team's stat columns are all NA and would retype the mismatches' columns.
_FAILURE_COLUMNS = [
    "game_date", "team_abbr", "game_id", "failure_category", "reason", "missing_game_ids", "expected_count", "actual_count",
]  # fmt: skip


def scheduled_team_games(schedule: pd.DataFrame) -> pd.DataFrame:
    """Two rows per scheduled game: each team with its opponent, side and final score."""
    home = schedule.assign(
        team_abbr=schedule["home_abbr"],
        opponent_abbr=schedule["away_abbr"],
        home_away="HOME",
        scheduled_points=schedule["home_pts"],
    )
    away = schedule.assign(
        team_abbr=schedule["away_abbr"],
        opponent_abbr=schedule["home_abbr"],
        home_away="AWAY",
        scheduled_points=schedule["away_pts"],
    )
    columns = ["game_date", "game_id", "team_abbr", "opponent_abbr", "home_away", "scheduled_points"]
    return pd.concat([home, away], ignore_index=True).loc[:, columns]


def team_offense(parsed: pd.DataFrame, schedule: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per scheduled team-game that has box-score rows; failures for the rest and for bad totals."""
    team_games = scheduled_team_games(schedule)
    played = parsed[(parsed["player_status"] == PLAYED_STATUS) & (parsed["problem"] == "")]
    totals = played.groupby(["game_id", "team_abbr"], as_index=False).agg(
        **{stat: (stat, "sum") for stat in _SUMMED}, players_used=("entity_id", "size")
    )
    listed = (
        parsed.assign(invalid=parsed["problem"] != "")
        .groupby(["game_id", "team_abbr"], as_index=False)
        .agg(listed_rows=("source_line", "size"), invalid_rows=("invalid", "sum"))
    )
    merged = team_games.merge(listed, on=["game_id", "team_abbr"], how="left").merge(
        totals, on=["game_id", "team_abbr"], how="left"
    )

    absent = merged["listed_rows"].isna()
    missing = merged[absent].assign(
        failure_category=FailureCategory.MISSING_RAW_DATA.value,
        reason=lambda f: "no box-score rows for " + f["team_abbr"] + " in scheduled game " + f["game_id"],
        missing_game_ids=lambda f: f["game_id"].map(lambda g: [g]),
        expected_count=1,
        actual_count=0,
    )
    rows = merged[~absent].copy()
    for stat in (*_SUMMED, "players_used"):
        rows[stat] = rows[stat].fillna(0).astype("Int64")
    rows["possessions"] = rows["fg_attempted"] - rows["offensive_rebounds"] + rows["turnovers"] + 0.44 * rows["ft_attempted"]
    rows["rating"] = 100 * rows["points"] / rows["possessions"].where(rows["possessions"] > 0)

    scheduled_points = pd.to_numeric(rows["scheduled_points"], errors="coerce")
    mismatch = scheduled_points.notna() & (rows["points"] != scheduled_points)
    wrong = rows[mismatch].assign(
        failure_category=FailureCategory.VALIDATION_ERROR.value,
        reason=lambda f: (
            f["team_abbr"]
            + " scored "
            + f["points"].astype(str)
            + " by its box score but "
            + scheduled_points[mismatch].astype(int).astype(str)
            + " by the schedule in "
            + f["game_id"]
            + " ("
            + f["invalid_rows"].astype(int).astype(str)
            + " invalid player rows)"
        ),
        expected_count=scheduled_points[mismatch].astype(int),
        actual_count=lambda f: f["points"].astype(int),
    )
    failing = [frame for frame in (missing, wrong) if not frame.empty] or [missing]
    failing = [frame.reindex(columns=_FAILURE_COLUMNS) for frame in failing]
    failures = pd.concat(failing, ignore_index=True).rename(columns={"game_date": "analysis_date", "team_abbr": "entity_id"})
    return rows, failures


def team_defense(offense: pd.DataFrame, schedule: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A team's defense is its opponent's offense in the same game."""
    team_games = scheduled_team_games(schedule)
    opponent = offense.loc[:, ["game_id", "team_abbr", *TEAM_TOTAL_COLUMNS, "players_used", "rating"]].rename(
        columns={"team_abbr": "opponent_abbr", "rating": "opp_rating", **{c: f"opp_{c}" for c in TEAM_TOTAL_COLUMNS}}
    )
    merged = team_games.merge(opponent, on=["game_id", "opponent_abbr"], how="left")
    absent = merged["opp_points"].isna()
    failures = (
        merged[absent]
        .assign(
            failure_category=FailureCategory.MISSING_RAW_DATA.value,
            reason=lambda f: "no box-score rows for opponent " + f["opponent_abbr"] + " in scheduled game " + f["game_id"],
            missing_game_ids=lambda f: f["game_id"].map(lambda g: [g]),
            expected_count=1,
            actual_count=0,
        )
        .rename(columns={"game_date": "analysis_date", "team_abbr": "entity_id"})
    )
    return merged[~absent], failures
