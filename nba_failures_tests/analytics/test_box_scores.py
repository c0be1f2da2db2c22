"""`parse_box_rows` on hand-made frames built from one real game: each defect gets its own reason."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import pytest

from nba_failures import settings
from nba_failures.analytics.box_scores import parse_box_rows
from nba_failures.identity import player_identities
from nba_failures.landing.contract import GAMEBOOK_COLUMNS, read_registry
from nba_failures_tests import faults

DAY = dt.date(2023, 1, 15)
GAME = "202301150BRK"  # OKC at BKN


@pytest.fixture
def raw() -> pd.DataFrame:
    """The game's rows as the raw table holds them: text values, landing date, file and line."""
    rows = faults.boxscores(DAY).query("game_id == @GAME").loc[:, list(GAMEBOOK_COLUMNS)].reset_index(drop=True)
    rows["game_date"] = rows["game_date"].map(dt.date.isoformat)
    rows.insert(0, "landing_date", DAY)
    rows["source_file"] = f"gamebook/{DAY}/{GAME}.csv.gz"
    rows["source_line"] = range(2, len(rows) + 2)
    return rows


@pytest.fixture
def schedule() -> pd.DataFrame:
    return faults.schedule(DAY).loc[:, ["game_id", "away_abbr", "home_abbr"]]


@functools.cache
def _identities() -> pd.DataFrame:
    """Who the real registry says each lookup is, on DAY."""
    return player_identities(read_registry(settings.landing_dir()).assign(snapshot_date=DAY))


def _parse(raw: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    return parse_box_rows(raw, schedule, _identities())


def _row(raw: pd.DataFrame, player_lookup: str) -> int:
    [index] = raw.index[raw["player_lookup"] == player_lookup]
    return index


def _problem(raw: pd.DataFrame, schedule: pd.DataFrame, player_lookup: str) -> str:
    parsed = _parse(raw, schedule)
    return parsed.loc[parsed["entity_id"] == player_lookup, "problem"].iloc[0]


def test_the_real_game_parses_clean(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    parsed = _parse(raw, schedule)
    assert len(parsed) == len(raw)
    assert (parsed["problem"] == "").all()
    assert parsed["entity_id"].tolist() == raw["player_lookup"].tolist()
    played = parsed["player_status"] == "ACTIVE"
    assert parsed.loc[played, "points"].tolist() == raw.loc[played, "points"].astype(int).tolist()
    # Stats of players who did not play are unknown, not zero.
    assert parsed.loc[~played, "points"].isna().all() and parsed.loc[~played, "minutes"].isna().all()


def test_clock_minutes_with_61_seconds(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    raw.loc[_row(raw, "joshgiddey"), "minutes_raw"] = "48:61"
    assert "minutes_raw '48:61' is not MM:SS" in _problem(raw, schedule, "joshgiddey")
    assert _problem(raw, schedule, "luguentzdort") == ""


def test_minutes_that_are_not_a_number_or_out_of_range(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    raw.loc[_row(raw, "joshgiddey"), "minutes"] = "DNP"
    raw.loc[_row(raw, "luguentzdort"), "minutes"] = "75"
    assert "minutes 'DNP' is not a number" in _problem(raw, schedule, "joshgiddey")
    assert "minutes 75 out of range" in _problem(raw, schedule, "luguentzdort")


def test_negative_and_non_integer_stats(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    raw.loc[_row(raw, "joshgiddey"), "rebounds"] = "-1"
    raw.loc[_row(raw, "luguentzdort"), "assists"] = "2.5"
    assert "rebounds -1 is negative" in _problem(raw, schedule, "joshgiddey")
    assert "assists '2.5' is not an integer" in _problem(raw, schedule, "luguentzdort")


def test_points_that_do_not_add_up(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    index = _row(raw, "joshgiddey")
    raw.loc[index, "points"] = str(int(raw.loc[index, "points"]) + 1)
    assert "points do not equal 2*FGM + 3PM + FTM" in _problem(raw, schedule, "joshgiddey")


def test_duplicate_rows_flag_the_second_copy_only(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    copy = raw.loc[[_row(raw, "joshgiddey")]].assign(source_line=len(raw) + 2)
    parsed = _parse(pd.concat([raw, copy], ignore_index=True), schedule)
    giddey = parsed[parsed["entity_id"] == "joshgiddey"]
    assert giddey["problem"].tolist() == ["", "duplicate row for this player and game"]


def test_team_not_in_the_schedule(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    raw.loc[_row(raw, "joshgiddey"), "team_abbr"] = "XYZ"
    assert "teams XYZ vs BKN are not the scheduled teams" in _problem(raw, schedule, "joshgiddey")


def test_game_not_in_the_schedule(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    raw["game_id"] = "202301150ZZZ"
    parsed = _parse(raw, schedule)
    assert parsed["problem"].str.contains("game 202301150ZZZ is not in the schedule").all()


def test_accented_name_without_lookup_gets_the_derived_lookup(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    index = _row(raw, "joshgiddey")
    raw.loc[index, ["player_name", "player_lookup"]] = ["Nikola Jokić", ""]
    parsed = _parse(raw, schedule)
    assert parsed.loc[index, "entity_id"] == "nikolajokic"
    assert parsed.loc[index, "problem"] == ""


def test_row_without_any_identity_is_flagged(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    index = _row(raw, "joshgiddey")
    raw.loc[index, ["player_name", "player_lookup"]] = ["", ""]
    parsed = _parse(raw, schedule)
    assert parsed.loc[index, "entity_id"] == ""
    assert "row has neither player_lookup nor player_name" in parsed.loc[index, "problem"]


def test_game_date_must_be_the_landing_date(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    raw.loc[_row(raw, "joshgiddey"), "game_date"] = "2023-01-14"
    raw.loc[_row(raw, "luguentzdort"), "game_date"] = "yesterday"
    assert "game_date 2023-01-14 is not the landing date" in _problem(raw, schedule, "joshgiddey")
    assert "game_date 'yesterday' is not a date" in _problem(raw, schedule, "luguentzdort")


def test_unknown_status_is_flagged_and_played_checks_skip_dnp(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    dnp = raw.index[raw["player_status"] == "DNP"][0]
    raw.loc[dnp, "minutes"] = "garbage"  # irrelevant for a player who did not play
    raw.loc[_row(raw, "joshgiddey"), "player_status"] = "BENCHED"
    parsed = _parse(raw, schedule)
    assert parsed.loc[dnp, "problem"] == ""
    assert "unknown player_status 'BENCHED'" in parsed.loc[_row(raw, "joshgiddey"), "problem"]


def test_a_listed_alias_becomes_the_registry_key(raw: pd.DataFrame, schedule: pd.DataFrame) -> None:
    """Resolution happens on the listing, so every processor keys the player by his registry lookup."""
    index = _row(raw, "joshgiddey")
    raw.loc[index, "player_lookup"] = "joshgiddy"
    aliased = read_registry(settings.landing_dir()).assign(snapshot_date=DAY)
    aliased.loc[aliased["player_lookup"] == "joshgiddey", "aliases"] = "Josh Giddy"
    parsed = parse_box_rows(raw, schedule, player_identities(aliased))
    assert parsed.loc[index, ["entity_id", "universal_player_id", "identity_problem", "problem"]].tolist() == [
        "joshgiddey",
        "joshgiddey_001",
        "",
        "",
    ]
    unresolved = _parse(raw, schedule)
    assert unresolved.loc[index, ["entity_id", "identity_problem"]].tolist() == ["joshgiddy", "not in the player registry"]
