"""Layout and columns of a landing directory (documented in README, relied on by scenarios and tests).

    <landing>/schedule.csv.gz                          the season schedule
    <landing>/gamebook/<game_date>/<game_id>.csv[.gz]   one file per game: every listed player of both teams
    <landing>/registry/player_registry.csv             player_lookup, universal_player_id, player_name, aliases
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SCHEDULE_FILE = "schedule.csv.gz"
GAMEBOOK_DIR = "gamebook"
REGISTRY_FILE = Path("registry") / "player_registry.csv"
ALIAS_SEPARATOR = "|"

SCHEDULE_COLUMNS = (
    "game_id", "game_date", "start_time_et", "away_abbr", "home_abbr", "away_abbr_bref", "home_abbr_bref",
    "away_team_name", "home_team_name", "away_pts", "home_pts", "overtimes", "attendance", "arena", "notes",
    "season_type", "season",
)  # fmt: skip

GAMEBOOK_COLUMNS = (
    "game_id", "game_date", "season", "season_type", "team_abbr", "opponent_abbr", "home_away", "player_id",
    "player_name", "player_lookup", "starter", "minutes", "points", "rebounds", "assists", "fg_made",
    "fg_attempted", "three_made", "three_attempted", "ft_made", "ft_attempted", "player_status", "dnp_reason",
    "offensive_rebounds", "defensive_rebounds", "steals", "blocks", "turnovers", "personal_fouls", "plus_minus",
    "minutes_raw", "team_abbr_bref", "opponent_abbr_bref", "box_order", "source_row",
)  # fmt: skip

REGISTRY_COLUMNS = ("player_lookup", "universal_player_id", "player_name", "aliases")


def game_date_of(game_id: str) -> dt.date:
    """basketball-reference ids start with the game date: '202301150BOS' -> 2023-01-15."""
    return dt.date(int(game_id[:4]), int(game_id[4:6]), int(game_id[6:8]))


def gamebook_path(landing_dir: Path, game_date: dt.date, game_id: str, compressed: bool = True) -> Path:
    suffix = ".csv.gz" if compressed else ".csv"
    return landing_dir / GAMEBOOK_DIR / game_date.isoformat() / f"{game_id}{suffix}"


@dataclass(frozen=True)
class LandedGameFile:
    game_date: dt.date
    game_id: str
    path: Path

    def relative_to(self, landing_dir: Path) -> str:
        return self.path.relative_to(landing_dir).as_posix()


def landed_game_files(landing_dir: Path, start: dt.date, end: dt.date) -> list[LandedGameFile]:
    """Game files that have landed for dates in `[start, end)`, in date then game order."""
    files: list[LandedGameFile] = []
    root = landing_dir / GAMEBOOK_DIR
    if not root.is_dir():
        return files
    for day_dir in sorted(root.iterdir()):
        try:
            day = dt.date.fromisoformat(day_dir.name)
        except ValueError:
            continue  # not a date folder: nothing of ours
        if not (start <= day < end) or not day_dir.is_dir():
            continue
        for path in sorted(day_dir.iterdir()):
            name = path.name
            for suffix in (".csv.gz", ".csv"):
                if name.endswith(suffix):
                    files.append(LandedGameFile(day, name[: -len(suffix)], path))
                    break
    return files


def read_schedule(landing_dir: Path) -> pd.DataFrame:
    schedule = pd.read_csv(landing_dir / SCHEDULE_FILE, dtype=str, keep_default_na=False)
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        raise ValueError(f"{landing_dir / SCHEDULE_FILE}: schedule lacks columns {missing}")
    schedule["game_date"] = pd.to_datetime(schedule["game_date"]).dt.date
    return schedule


def read_registry(landing_dir: Path) -> pd.DataFrame:
    path = landing_dir / REGISTRY_FILE
    registry = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REGISTRY_COLUMNS if c not in registry.columns]
    if missing:
        raise ValueError(f"{path}: registry lacks columns {missing}")
    return registry.loc[:, list(REGISTRY_COLUMNS)]
