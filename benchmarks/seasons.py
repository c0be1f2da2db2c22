"""Landing directories for the benchmarks, generated from the bundled real season.

`build_landing(out, seasons=N)` lays out the real 2022-23 season N times: copy k (k = 0..N-1) has every date
shifted k whole years back (2022-10-18 -> 2021-10-18 …: back, because Dagster's daily partitions stop at
today), its `season` label moved back by k, and its game ids re-dated (`202210180BOS` -> `202110180BOS`: a
basketball-reference id starts with its date, which the pipeline relies on), so every game id is unique
across copies. Players keep their ids and names: the same
league plays again, as a real one mostly does, and the registry stays one row per player.

The months between two copies are an off-season, which the partitions leave out (nba_failures.partitions).
`days` keeps only the first game days of the season (the tiny input of `--quick`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from nba_failures.landing.build import build_registry, load_bundled_boxscores, write_game_files
from nba_failures.landing.contract import REGISTRY_FILE, SCHEDULE_FILE
from nba_failures.settings import BUNDLED_SEASON_DIR


def _shifted_dates(dates: pd.Series, copy: int) -> pd.Series:
    return (pd.to_datetime(dates) - pd.DateOffset(years=copy)).dt.strftime("%Y-%m-%d")


def _season_label(label: str, copy: int) -> str:
    """'2022-23' moved back by `copy` seasons: '2021-22'."""
    first = int(label[:4]) - copy
    return f"{first}-{str(first + 1)[-2:]}"


def _shift(frame: pd.DataFrame, copy: int) -> pd.DataFrame:
    if copy == 0:
        return frame.copy()
    shifted = frame.copy()
    shifted["game_date"] = _shifted_dates(frame["game_date"], copy)
    shifted["game_id"] = shifted["game_date"].str.replace("-", "", regex=False) + frame["game_id"].str[8:]
    shifted["season"] = frame["season"].map(lambda label: _season_label(label, copy) if label else label)
    return shifted


def season_frames(seasons: int = 1, days: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(schedule, box scores) of `seasons` copies of the real season, text columns as bundled."""
    schedule = pd.read_csv(BUNDLED_SEASON_DIR / "schedule.csv.gz", dtype=str, keep_default_na=False)
    boxscores = load_bundled_boxscores()
    if days is not None:
        kept = sorted(set(schedule["game_date"]))[:days]
        schedule = schedule[schedule["game_date"].isin(kept)]
        boxscores = boxscores[boxscores["game_date"].isin(kept)]
    schedules = [_shift(schedule, copy) for copy in range(seasons)]
    box = [_shift(boxscores, copy) for copy in range(seasons)]
    return pd.concat(schedules, ignore_index=True), pd.concat(box, ignore_index=True)


def build_landing(out_dir: Path, seasons: int = 1, days: int | None = None) -> Path:
    """Write the landing directory (schedule, one gamebook file per game, registry); reused when complete."""
    out_dir = Path(out_dir)
    if (out_dir / SCHEDULE_FILE).exists():
        return out_dir
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    schedule, boxscores = season_frames(seasons, days)
    (staging / REGISTRY_FILE).parent.mkdir(parents=True)
    build_registry(boxscores).to_csv(staging / REGISTRY_FILE, index=False)
    write_game_files(staging, boxscores)
    schedule.to_csv(staging / SCHEDULE_FILE, index=False, compression={"method": "gzip", "mtime": 0})
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return out_dir
