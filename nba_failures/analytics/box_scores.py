"""Parsing and validation of raw gamebook rows: typed values, or a reason per row why not."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from nba_failures.identity import resolve_players
from nba_failures.landing.contract import GAME_FILE_NAME
from nba_failures.names import PLACEHOLDER_IDS, player_lookup

COUNTING_STATS = (
    "points", "rebounds", "assists", "fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made",
    "ft_attempted", "offensive_rebounds", "defensive_rebounds", "steals", "blocks", "turnovers", "personal_fouls",
)  # fmt: skip
PLAYED_STATUS = "ACTIVE"
NOT_PLAYED_STATUSES = ("DNP", "INACTIVE", "OUT")
# Four overtimes is the longest a regular-season game has run in years; more is a corrupt value.
MAX_MINUTES = 48 + 4 * 5
MAX_STAT_VALUE = 1000


def _by_value(column: pd.Series, transform: Callable[[pd.Series], pd.Series | pd.DataFrame]) -> pd.Series | pd.DataFrame:
    """`transform(column)`, computed once per distinct value: a box-score column repeats few values.

    A column with missing values is transformed whole, so a None stays exactly what the transform makes of it.
    """
    if column.isna().any():
        return transform(column)
    codes, distinct = pd.factorize(column)
    result = transform(pd.Series(distinct, dtype=column.dtype, name=column.name))
    if isinstance(result, pd.DataFrame):
        return result.iloc[codes].set_axis(column.index)
    return pd.Series(result.to_numpy()[codes], index=column.index, name=result.name)


# The raw columns box_listings reads: who a row lists, for which game, team and day, with what status.
LISTING_COLUMNS = ("game_id", "landing_date", "team_abbr", "player_lookup", "player_name", "player_status", "dnp_reason")


def box_listings(raw: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    """The raw rows with `player_status` normalized, `game_date` = the landing date, and who they list: the
    listing itself, not validated.

    The listed lookup is his player_lookup, or derived from his name when blank or a placeholder; resolved
    against that day's `identities` (identity.player_identities), `entity_id` is his registry key,
    `universal_player_id` his id and `identity_problem` '' (else the listed lookup, NA and why it names no one).
    Enough for the completeness check (who was listed, with what status, in which landed game), which reads
    only LISTING_COLUMNS and skips the stat validation of parse_box_rows.
    """
    rows = raw.copy()
    rows["player_status"] = _by_value(rows["player_status"], lambda status: status.str.strip().str.upper())
    # 'NULL', 'None'… are no identity (a failure record refuses them as entity ids): treat them as blank.
    lookup = _by_value(rows["player_lookup"], lambda ids: ids.str.strip().mask(lambda ids: ids.str.lower().isin(PLACEHOLDER_IDS), ""))
    names = rows["player_name"]
    derived = names.map({name: player_lookup(name) for name in names.unique()}).mask(lambda ids: ids.isin(PLACEHOLDER_IDS), "")
    rows["game_date"] = rows["landing_date"]
    listed = pd.DataFrame({"game_date": rows["game_date"], "player_lookup": lookup.where(lookup != "", derived)})
    identity = resolve_players(listed, identities)
    rows["entity_id"] = identity["player_lookup"]
    rows["universal_player_id"] = identity["universal_player_id"]
    rows["identity_problem"] = identity["identity_problem"].where(listed["player_lookup"] != "", "")
    return rows


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
    file_game = _by_value(rows["source_file"], lambda files: files.str.rsplit("/", n=1).str[-1].str.extract(GAME_FILE_NAME, expand=False))
    flag(rows["game_id"] != file_game, lambda: "game_id '" + rows["game_id"] + "' is not the game of its file")
    flag(~rows["player_status"].isin((PLAYED_STATUS, *NOT_PLAYED_STATUSES)), lambda: "unknown player_status '" + rows["player_status"] + "'")

    # The date the file states (box_listings set game_date to where it landed).
    stated = raw["game_date"]
    game_date = pd.to_datetime(stated, errors="coerce", format="%Y-%m-%d").dt.date
    flag(game_date.isna(), lambda: "game_date '" + stated + "' is not a date")
    flag(game_date.notna() & (game_date != rows["landing_date"]), lambda: "game_date " + stated + " is not the landing date")

    teams = schedule.loc[:, ["game_id", "away_abbr", "home_abbr"]].drop_duplicates("game_id")
    rows = rows.merge(teams, on="game_id", how="left")
    problems.index = rows.index
    flag(rows["home_abbr"].isna(), lambda: "game " + rows["game_id"] + " is not in the schedule")
    in_game = (rows["team_abbr"] == rows["home_abbr"]) | (rows["team_abbr"] == rows["away_abbr"])
    opponent_ok = (rows["opponent_abbr"] == rows["home_abbr"]) | (rows["opponent_abbr"] == rows["away_abbr"])
    flag(rows["home_abbr"].notna() & ~(in_game & opponent_ok & (rows["team_abbr"] != rows["opponent_abbr"])),
         lambda: "teams " + rows["team_abbr"] + " vs " + rows["opponent_abbr"] + " are not the scheduled teams")

    played = rows["player_status"] == PLAYED_STATUS
    minutes = _by_value(rows["minutes"], lambda values: pd.to_numeric(values, errors="coerce"))
    flag(played & minutes.isna(), lambda: "minutes '" + rows["minutes"] + "' is not a number")
    flag(played & ((minutes < 0) | (minutes > MAX_MINUTES)), lambda: "minutes " + rows["minutes"] + " out of range")
    clock = _by_value(rows["minutes_raw"], lambda values: values.str.extract(r"^(\d{1,2}):(\d{2})$")).astype(float)
    flag(played & (rows["minutes_raw"] != "") & (clock[0].isna() | (clock[1] >= 60)), lambda: "minutes_raw '" + rows["minutes_raw"] + "' is not MM:SS")
    rows["minutes"] = minutes.where(played).astype("Float64")

    for stat in (*COUNTING_STATS, "plus_minus"):
        value = _by_value(rows[stat], lambda values: pd.to_numeric(values, errors="coerce"))
        # 'inf' and 1e30 parse as numbers but are no box-score count (and would not fit an integer column).
        integral = value.notna() & (value.abs() <= MAX_STAT_VALUE) & (value == value.round())
        # The source leaves plus-minus blank for some players who played: unknown, not invalid.
        optional_blank = (stat == "plus_minus") & (rows[stat].str.strip() == "")
        flag(played & ~integral & ~optional_blank, lambda: f"{stat} '" + rows[stat] + "' is not an integer")
        if stat != "plus_minus":
            flag(played & (value < 0), lambda: f"{stat} " + rows[stat] + " is negative")
        rows[stat] = value.where(played & integral).round().astype("Int64")

    flag(played & (rows["points"] != 2 * rows["fg_made"] + rows["three_made"] + rows["ft_made"]),
         "points do not equal 2*FGM + 3PM + FTM")
    for made, attempted in (("fg_made", "fg_attempted"), ("three_made", "three_attempted"), ("ft_made", "ft_attempted"), ("three_made", "fg_made")):
        flag(played & (rows[made] > rows[attempted]), f"{made} exceeds {attempted}")

    duplicate = rows["entity_id"].ne("") & rows.duplicated(["game_id", "team_abbr", "entity_id"], keep="first")
    flag(duplicate, "duplicate row for this player and game")
    rows["starter"] = _by_value(rows["starter"], lambda values: values.str.strip().str.lower().eq("true"))
    rows["problem"] = problems.str.rstrip("; ")
    return rows.drop(columns=["away_abbr", "home_abbr"])
