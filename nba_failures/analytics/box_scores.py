"""Parsing and validation of raw gamebook rows: typed values, or a reason per row why not."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from nba_failures.frames import by_distinct_value
from nba_failures.identity import box_listings
from nba_failures.landing.contract import COUNTING_STATS, GAME_FILE_NAME, NOT_PLAYED_STATUSES, PLAYED_STATUS

# Four overtimes is the longest a regular-season game has run in years; more is a corrupt value.
MAX_MINUTES = 48 + 4 * 5
MAX_STAT_VALUE = 1000


def parse_box_rows(raw: pd.DataFrame, schedule: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """Typed copy of the raw rows (box_listings, resolved against `identities`) with `problem` ('' when the row is valid).

    Checks every row; the played-only checks (minutes, stats) apply to ACTIVE rows. `schedule` gives the
    teams of each game, so a row for a team or game the schedule does not know is caught here.
    """
    rows = box_listings(raw, identities)
    problems = pd.Series("", index=rows.index, dtype="object")

    def flag(mask: pd.Series, message: Callable[[], pd.Series] | str) -> None:
        """Append `message` to the problems of the `mask` rows; a per-row message is built only when a row fails."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        text = message() if callable(message) else message
        problems.loc[mask] = problems.loc[mask] + (text[mask] if isinstance(text, pd.Series) else text) + "; "

    flag(rows["entity_id"] == "", "row has neither player_lookup nor player_name")
    file_game = by_distinct_value(
        rows["source_file"], lambda files: files.str.rsplit("/", n=1).str[-1].str.extract(GAME_FILE_NAME, expand=False)
    )
    flag(rows["game_id"] != file_game, lambda: "game_id '" + rows["game_id"] + "' is not the game of its file")
    flag(
        ~rows["player_status"].isin((PLAYED_STATUS, *NOT_PLAYED_STATUSES)),
        lambda: "unknown player_status '" + rows["player_status"] + "'",
    )

    # The date the file states (box_listings set game_date to where it landed).
    stated = raw["game_date"]
    game_date = pd.to_datetime(stated, errors="coerce", format="%Y-%m-%d").dt.date
    flag(game_date.isna(), lambda: "game_date '" + stated + "' is not a date")
    flag(game_date.notna() & (game_date != rows["landing_date"]), lambda: "game_date " + stated + " is not the landing date")

    # Each row's scheduled teams (NaN for a game the schedule lacks), looked up rather than merged: no copy of the rows.
    teams = schedule.loc[:, ["game_id", "away_abbr", "home_abbr"]].drop_duplicates("game_id").set_index("game_id")
    scheduled = teams.reindex(rows["game_id"].to_numpy())
    rows.index = problems.index = pd.RangeIndex(len(rows))  # `rows` is box_listings' own copy
    rows["away_abbr"], rows["home_abbr"] = scheduled["away_abbr"].to_numpy(), scheduled["home_abbr"].to_numpy()
    flag(rows["home_abbr"].isna(), lambda: "game " + rows["game_id"] + " is not in the schedule")
    in_game = (rows["team_abbr"] == rows["home_abbr"]) | (rows["team_abbr"] == rows["away_abbr"])
    opponent_ok = (rows["opponent_abbr"] == rows["home_abbr"]) | (rows["opponent_abbr"] == rows["away_abbr"])
    flag(
        rows["home_abbr"].notna() & ~(in_game & opponent_ok & (rows["team_abbr"] != rows["opponent_abbr"])),
        lambda: "teams " + rows["team_abbr"] + " vs " + rows["opponent_abbr"] + " are not the scheduled teams",
    )

    played = rows["player_status"] == PLAYED_STATUS
    minutes = by_distinct_value(rows["minutes"], lambda values: pd.to_numeric(values, errors="coerce"))
    flag(played & minutes.isna(), lambda: "minutes '" + rows["minutes"] + "' is not a number")
    flag(played & ((minutes < 0) | (minutes > MAX_MINUTES)), lambda: "minutes " + rows["minutes"] + " out of range")
    clock = by_distinct_value(rows["minutes_raw"], lambda values: values.str.extract(r"^(\d{1,2}):(\d{2})$")).astype(float)
    flag(
        played & (rows["minutes_raw"] != "") & (clock[0].isna() | (clock[1] >= 60)),
        lambda: "minutes_raw '" + rows["minutes_raw"] + "' is not MM:SS",
    )
    rows["minutes"] = minutes.where(played).astype("Float64")

    for stat in (*COUNTING_STATS, "plus_minus"):
        value = by_distinct_value(rows[stat], lambda values: pd.to_numeric(values, errors="coerce"))
        # 'inf' and 1e30 parse as numbers but are no box-score count (and would not fit an integer column).
        integral = value.notna() & (value.abs() <= MAX_STAT_VALUE) & (value == value.round())
        # The source leaves plus-minus blank for some players who played: unknown, not invalid.
        optional_blank = by_distinct_value(rows[stat], lambda values: values.str.strip() == "") if stat == "plus_minus" else False
        flag(played & ~integral & ~optional_blank, lambda: f"{stat} '" + rows[stat] + "' is not an integer")
        if stat != "plus_minus":
            flag(played & (value < 0), lambda: f"{stat} " + rows[stat] + " is negative")
        # The kept values are whole numbers within range: an integer array and its mask, without a checked cast.
        kept = (played & integral).to_numpy()
        whole = np.where(kept, np.round(value.to_numpy(dtype="float64")), 0).astype("int64")
        rows[stat] = pd.arrays.IntegerArray(whole, ~kept)

    flag(
        played & (rows["points"] != 2 * rows["fg_made"] + rows["three_made"] + rows["ft_made"]),
        "points do not equal 2*FGM + 3PM + FTM",
    )
    for made, attempted in (
        ("fg_made", "fg_attempted"),
        ("three_made", "three_attempted"),
        ("ft_made", "ft_attempted"),
        ("three_made", "fg_made"),
    ):
        flag(played & (rows[made] > rows[attempted]), f"{made} exceeds {attempted}")

    duplicate = rows["entity_id"].ne("") & rows.duplicated(["game_id", "team_abbr", "entity_id"], keep="first")
    flag(duplicate, "duplicate row for this player and game")
    rows["starter"] = by_distinct_value(rows["starter"], lambda values: values.str.strip().str.lower().eq("true"))
    rows["problem"] = by_distinct_value(problems, lambda text: text.str.rstrip("; "))
    return rows.drop(columns=["away_abbr", "home_abbr"])
