"""Which faults a scenario injects: chosen from the real box scores and a seed, nothing else (pure).

Targets never overlap (one fault per game and per player) and are taken only where the failure they cause
is unambiguous on the clean season:

- a game file is held back only on a date that keeps at least one landed game (otherwise the whole day is
  missing and Phase 3 reports one DATE-level MISSING_DEPENDENCY instead of per-team failures);
- a registry removal only for a player with a `player_lookup` that no other registry row resolves (key or
  alias), who played at least `MIN_REGISTRY_GAMES` games in the range, and who is listed in no game that
  carries another fault;
- a malformed row only on an ACTIVE, valid row with points (so his team's box score visibly stops adding up
  to its scheduled score) of a player listed once in a game whose clean box score matches the schedule.
"""

from __future__ import annotations

import datetime as dt
import random
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nba_failures.identity import registry_index
from nba_failures.landing.build import build_registry
from nba_failures.landing.contract import ALIAS_SEPARATOR, PLAYED_STATUS, gamebook_path

MIN_REGISTRY_GAMES = 3
# When `deliver` lands a fault's fix, in hours after the failures it causes are recorded: late game files come the
# same day or two days later (taken in turn), a person adds the missing registry entry the next day.
LATE_FILE_DELAYS_HOURS = (6.0, 48.0)
REGISTRY_FIX_DELAY_HOURS = 24.0
_ROOT = Path()  # fault files are named relative to the landing directory


class FaultKind(str, Enum):
    LATE_GAME_FILE = "late_game_file"  # a game file held back, landed by `deliver`
    MISSING_GAME_FILE = "missing_game_file"  # a game file that never lands: a permanent fault
    REGISTRY_REMOVAL = "registry_removal"  # a player missing from the registry, added back by `deliver` as an alias fix
    MALFORMED_ROW = "malformed_row"  # one value of an ACTIVE row corrupted: bad input no rerun can fix


class Corruption(str, Enum):
    """How a malformed row is corrupted; each breaks a different parsing rule of Phase 3."""

    MINUTES_TEXT = "minutes_text"  # minutes 'DNP'
    POINTS_TEXT = "points_text"  # points 'abc'
    MINUTES_RAW_CLOCK = "minutes_raw_clock"  # minutes_raw '48:61'
    NEGATIVE_REBOUNDS = "negative_rebounds"  # rebounds '-N'


class FaultCounts(BaseModel):
    """How many faults of each kind a scenario places in its date range."""

    model_config = ConfigDict(frozen=True)

    late_game_file: int = Field(default=3, ge=0)
    missing_game_file: int = Field(default=2, ge=0)
    registry_removal: int = Field(default=3, ge=0)
    malformed_row: int = Field(default=4, ge=0)


class _Fault(BaseModel):
    model_config = ConfigDict(frozen=True)

    fault_id: str


class GameFileFault(_Fault):
    """A game's raw file that has not landed: held back until `deliver` (late) or for good (missing)."""

    fault_kind: Literal[FaultKind.LATE_GAME_FILE, FaultKind.MISSING_GAME_FILE]
    game_id: str
    game_date: dt.date
    home_abbr: str
    away_abbr: str
    file: str  # relative to the landing directory, where it lands (late) or would have (missing)
    active_players: tuple[str, ...]  # player_lookups that played: none of them has a player_game_summary row for it
    delivery_delay_hours: float | None = None  # when a late file lands (None: never)

    @property
    def fixed_by_delivery(self) -> bool:
        return self.fault_kind == FaultKind.LATE_GAME_FILE


class RegistryRemovalFault(_Fault):
    """A player's registry row removed; `deliver` adds it back with his printed name among the aliases."""

    fault_kind: Literal[FaultKind.REGISTRY_REMOVAL]
    player_lookup: str
    universal_player_id: str
    player_name: str
    aliases: str  # the removed row's aliases
    fixed_aliases: str  # the aliases of the row `deliver` adds back
    played_dates: tuple[dt.date, ...]  # every date of the season he played (ACTIVE): each fails while he is removed
    played_game_ids: tuple[str, ...]
    delivery_delay_hours: float = REGISTRY_FIX_DELAY_HOURS

    def registry_row(self, aliases: str) -> dict[str, str]:
        return {
            "player_lookup": self.player_lookup,
            "universal_player_id": self.universal_player_id,
            "player_name": self.player_name,
            "aliases": aliases,
        }


class MalformedRowFault(_Fault):
    """One value of one ACTIVE row corrupted in the landed file; never fixed."""

    fault_kind: Literal[FaultKind.MALFORMED_ROW]
    game_id: str
    game_date: dt.date
    file: str
    source_line: int  # line of the corrupted row in the file (1 = header)
    player_lookup: str
    team_abbr: str
    corruption: Corruption
    column: str
    original_value: str
    corrupted_value: str
    points: int  # his real points: missing from his team's total, so the team fails its score check


Fault = Annotated[GameFileFault | RegistryRemovalFault | MalformedRowFault, Field(discriminator="fault_kind")]


def corrupt(corruption: Corruption, row: pd.Series) -> tuple[str, str]:
    """(column, corrupted value) for one row."""
    if corruption == Corruption.MINUTES_TEXT:
        return "minutes", "DNP"
    if corruption == Corruption.POINTS_TEXT:
        return "points", "abc"
    if corruption == Corruption.MINUTES_RAW_CLOCK:
        return "minutes_raw", "48:61"
    rebounds = pd.to_numeric(row["rebounds"], errors="coerce")
    return "rebounds", f"-{max(1, int(rebounds) if pd.notna(rebounds) else 1)}"


def apply_malformed(rows: pd.DataFrame, fault: MalformedRowFault) -> pd.DataFrame:
    """A game's box-score rows (in file order) with the fault's value written into its row."""
    rows = rows.copy()
    position = fault.source_line - 2
    assert rows.iloc[position]["player_lookup"] == fault.player_lookup, (fault.fault_id, fault.source_line)
    rows.iloc[position, rows.columns.get_loc(fault.column)] = fault.corrupted_value
    return rows


def fixed_aliases(aliases: str, player_name: str) -> str:
    names = {alias for alias in aliases.split(ALIAS_SEPARATOR) if alias} | {player_name}
    return ALIAS_SEPARATOR.join(sorted(names))


def season_range(schedule: pd.DataFrame) -> tuple[dt.date, dt.date]:
    return min(schedule["game_date"]), max(schedule["game_date"])


def choose_faults(
    boxscores: pd.DataFrame,
    schedule: pd.DataFrame,
    seed: int,
    counts: FaultCounts | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[GameFileFault | RegistryRemovalFault | MalformedRowFault]:
    """Faults placed in game dates `[start, end]` (inclusive; default: the whole season).

    `boxscores`: the bundled rows as text, in file order; `schedule`: the landing schedule (`game_date` a date).
    Raises ValueError when the range has too few eligible targets for `counts`.
    """
    counts = counts or FaultCounts()
    rng = random.Random(seed)
    first, last = season_range(schedule)
    start, end = start or first, end or last
    if start > end:
        raise ValueError(f"empty fault range {start} .. {end}")

    box = boxscores.copy()
    box["date"] = pd.to_datetime(box["game_date"]).dt.date
    box["line"] = box.groupby("game_id", sort=False).cumcount() + 2  # write_game_files keeps this order per game
    in_range = box[(box["date"] >= start) & (box["date"] <= end)]
    played = box[box["player_status"] == PLAYED_STATUS]
    games = schedule[(schedule["game_date"] >= start) & (schedule["game_date"] <= end)].sort_values("game_id")
    games = games[games["game_id"].isin(set(box["game_id"]))]

    # 1. Registry removals: their games, over the whole season, are kept free of other faults.
    registry = build_registry(boxscores)
    removals = _registry_removals(rng, counts.registry_removal, registry, played, in_range)
    removed = {fault.player_lookup for fault in removals}
    busy_games = set(box.loc[box["player_lookup"].isin(removed), "game_id"])

    # 2. Game files held back: never a date's last landed game.
    file_faults = _file_faults(rng, counts, games, in_range, busy_games)
    busy_games |= {fault.game_id for fault in file_faults}

    # 3. Malformed rows: one per game and per player, in games without another fault.
    malformed = _malformed_rows(rng, counts.malformed_row, in_range, games, busy_games, removed)
    return [*file_faults, *removals, *malformed]


def _numbered(kind: FaultKind, targets: list[dict]) -> list[dict]:
    return [{**target, "fault_id": f"{kind.value}-{n:02d}", "fault_kind": kind} for n, target in enumerate(targets, start=1)]


def _too_few(kind: FaultKind, wanted: int, found: int, start: dt.date, end: dt.date) -> ValueError:
    return ValueError(
        f"{kind.value}: {wanted} wanted but only {found} eligible targets in {start} .. {end}; widen the range or lower the count"
    )


def _registry_removals(
    rng: random.Random, wanted: int, registry: pd.DataFrame, played: pd.DataFrame, in_range: pd.DataFrame
) -> list[RegistryRemovalFault]:
    named = in_range[(in_range["player_status"] == PLAYED_STATUS) & (in_range["player_lookup"] != "")]
    games_in_range = named.groupby("player_lookup")["game_id"].nunique()
    # Another row whose key or alias resolves to his lookup would still find him after the removal.
    index = registry_index(registry.assign(snapshot_date=0))
    resolving_rows = index.groupby("player_lookup")["universal_player_id"].nunique()
    listed_twice = played.groupby(["game_id", "player_lookup"]).size()
    listed_twice = set(listed_twice[listed_twice > 1].index.get_level_values("player_lookup"))
    eligible = sorted(
        lookup
        for lookup, n in games_in_range.items()
        if n >= MIN_REGISTRY_GAMES
        and resolving_rows.get(lookup, 0) == 1
        and lookup not in listed_twice
        and lookup in set(registry["player_lookup"])
    )
    if len(eligible) < wanted:
        raise _too_few(FaultKind.REGISTRY_REMOVAL, wanted, len(eligible), min(in_range["date"]), max(in_range["date"]))
    chosen = sorted(rng.sample(eligible, wanted))
    rows = registry.set_index("player_lookup")
    targets = []
    for lookup in chosen:
        row = rows.loc[lookup]
        his = played[played["player_lookup"] == lookup].sort_values(["date", "game_id"])
        targets.append(
            dict(
                player_lookup=lookup,
                universal_player_id=row["universal_player_id"],
                player_name=row["player_name"],
                aliases=row["aliases"],
                fixed_aliases=fixed_aliases(row["aliases"], row["player_name"]),
                played_dates=tuple(sorted(set(his["date"]))),
                played_game_ids=tuple(his["game_id"]),
            )
        )
    return [RegistryRemovalFault(**target) for target in _numbered(FaultKind.REGISTRY_REMOVAL, targets)]


def _file_faults(
    rng: random.Random, counts: FaultCounts, games: pd.DataFrame, in_range: pd.DataFrame, busy_games: set[str]
) -> list[GameFileFault]:
    wanted = counts.late_game_file + counts.missing_game_file
    candidates = [game for game in games["game_id"] if game not in busy_games]
    rng.shuffle(candidates)
    games_per_date = games.groupby("game_date").size().to_dict()
    by_id = games.set_index("game_id")
    held: dict[dt.date, int] = {}
    chosen: list[str] = []
    for game_id in candidates:
        if len(chosen) == wanted:
            break
        day = by_id.loc[game_id, "game_date"]
        if held.get(day, 0) + 1 < games_per_date[day]:
            held[day] = held.get(day, 0) + 1
            chosen.append(game_id)
    if len(chosen) < wanted:
        raise _too_few(FaultKind.LATE_GAME_FILE, wanted, len(chosen), min(games["game_date"]), max(games["game_date"]))

    def target(game_id: str) -> dict:
        game = by_id.loc[game_id]
        rows = in_range[in_range["game_id"] == game_id]
        active = rows[(rows["player_status"] == PLAYED_STATUS) & (rows["player_lookup"] != "")]
        return dict(
            game_id=game_id,
            game_date=game["game_date"],
            home_abbr=game["home_abbr"],
            away_abbr=game["away_abbr"],
            file=gamebook_path(_ROOT, game["game_date"], game_id).as_posix(),
            active_players=tuple(sorted(set(active["player_lookup"]))),
        )

    late = [
        {**target(game_id), "delivery_delay_hours": LATE_FILE_DELAYS_HOURS[index % len(LATE_FILE_DELAYS_HOURS)]}
        for index, game_id in enumerate(sorted(chosen[: counts.late_game_file]))
    ]
    missing = [target(game_id) for game_id in sorted(chosen[counts.late_game_file :])]
    return [
        GameFileFault(**fields)
        for fields in (*_numbered(FaultKind.LATE_GAME_FILE, late), *_numbered(FaultKind.MISSING_GAME_FILE, missing))
    ]


def _malformed_rows(
    rng: random.Random, wanted: int, in_range: pd.DataFrame, games: pd.DataFrame, busy_games: set[str], removed: set[str]
) -> list[MalformedRowFault]:
    rows = in_range[in_range["game_id"].isin(set(games["game_id"])) & ~in_range["game_id"].isin(busy_games)]
    points = pd.to_numeric(rows["points"], errors="coerce")
    listed_once = ~rows.duplicated(["game_id", "player_lookup"], keep=False)
    eligible = rows[
        (rows["player_status"] == PLAYED_STATUS) & (rows["player_lookup"] != "") & ~rows["player_lookup"].isin(removed)
        & (points >= 1) & listed_once & rows["game_id"].isin(_games_adding_up(in_range, games))
    ]  # fmt: skip
    candidates = sorted(zip(eligible["game_id"], eligible["player_lookup"]))
    rng.shuffle(candidates)
    used_games: set[str] = set()
    used_players: set[str] = set()
    chosen: list[tuple[str, str]] = []
    for game_id, lookup in candidates:
        if len(chosen) == wanted:
            break
        if game_id not in used_games and lookup not in used_players:
            used_games.add(game_id)
            used_players.add(lookup)
            chosen.append((game_id, lookup))
    if len(chosen) < wanted:
        raise _too_few(FaultKind.MALFORMED_ROW, wanted, len(chosen), min(games["game_date"]), max(games["game_date"]))

    kinds = sorted(Corruption, key=lambda c: c.value)
    corruptions = {pair: rng.choice(kinds) for pair in chosen}
    by_key = eligible.set_index(["game_id", "player_lookup"])
    targets = []
    for game_id, lookup in sorted(chosen):
        row = by_key.loc[(game_id, lookup)]
        corruption = corruptions[(game_id, lookup)]
        column, value = corrupt(corruption, row)
        targets.append(
            dict(
                game_id=game_id,
                game_date=row["date"],
                file=gamebook_path(_ROOT, row["date"], game_id).as_posix(),
                source_line=int(row["line"]),
                player_lookup=lookup,
                team_abbr=row["team_abbr"],
                corruption=corruption,
                column=column,
                original_value=row[column],
                corrupted_value=value,
                points=int(row["points"]),
            )
        )
    return [MalformedRowFault(**target) for target in _numbered(FaultKind.MALFORMED_ROW, targets)]


def _games_adding_up(rows: pd.DataFrame, games: pd.DataFrame) -> set[str]:
    """Games whose clean box score sums to both scheduled final scores: a missing row then shows as a mismatch."""
    active = rows[rows["player_status"] == PLAYED_STATUS]
    totals = (
        active.assign(points=pd.to_numeric(active["points"], errors="coerce")).groupby(["game_id", "team_abbr"])["points"].sum()
    )
    fine = set()
    for game in games.itertuples():
        scores = ((game.home_abbr, game.home_pts), (game.away_abbr, game.away_pts))
        if all(str(score).strip() != "" and totals.get((game.game_id, team)) == float(score) for team, score in scores):
            fine.add(game.game_id)
    return fine
