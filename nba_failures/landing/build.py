"""Lay the bundled real season out as a landing directory.

pandas is imported where used: loading the code location asks only `is_unbuilt_default`.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from nba_failures.landing.contract import ALIAS_SEPARATOR, GAMEBOOK_COLUMNS, REGISTRY_FILE, SCHEDULE_FILE, gamebook_path
from nba_failures.names import fold_accents
from nba_failures.progress import Progress
from nba_failures.settings import BUNDLED_SEASON_DIR, DEFAULT_LANDING_DIR

if TYPE_CHECKING:
    import pandas as pd

_T = TypeVar("_T")


def load_bundled_boxscores() -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(BUNDLED_SEASON_DIR / "player_boxscores.csv.gz", dtype=str, keep_default_na=False)


def build_registry(boxscores: pd.DataFrame) -> pd.DataFrame:
    """One row per known player; accent-folded spellings of his name are listed as aliases."""
    named = boxscores[boxscores["player_lookup"] != ""]
    players = named.groupby("player_lookup", sort=True)["player_name"].agg(lambda names: names.mode().iloc[0])
    registry = players.rename("player_name").reset_index()
    registry["universal_player_id"] = registry["player_lookup"] + "_001"
    registry["aliases"] = [fold_accents(name) if fold_accents(name) != name else "" for name in registry["player_name"]]
    assert not registry["aliases"].str.contains(ALIAS_SEPARATOR, regex=False).any()
    return registry.loc[:, ["player_lookup", "universal_player_id", "player_name", "aliases"]]


def write_game_files(out_dir: Path, boxscores: pd.DataFrame, progress: Progress | None = None) -> int:
    import pandas as pd

    games = list(boxscores.groupby(["game_date", "game_id"], sort=True))
    for done, ((game_date, game_id), rows) in enumerate(games, start=1):
        path = gamebook_path(out_dir, pd.Timestamp(game_date).date(), game_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        # mtime=0 keeps the gzip bytes identical across builds, so a rebuild is not a "new arrival".
        rows.loc[:, list(GAMEBOOK_COLUMNS)].to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
        if progress:
            progress(done, len(games))
    return len(games)


def build_in_place(out_dir: Path, build: Callable[[Path], _T]) -> _T:
    """`build(staging)` in a staging directory of this call's own beside `out_dir`, then renamed to `out_dir`
    (replacing it): readers never see a half-built directory, and two builders never write into one another's
    files. The staging directory is gone afterwards, whether the build succeeded or not."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=out_dir.name + ".partial-", dir=out_dir.parent))
    try:
        built = build(staging)
        shutil.rmtree(out_dir, ignore_errors=True)
        staging.rename(out_dir)
        return built
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def lay_out_bundle(out_dir: Path, boxscores: pd.DataFrame, progress: Progress | None = None) -> int:
    """Write schedule, one gamebook file per game and the registry into the empty `out_dir`; the number of game files."""
    shutil.copyfile(BUNDLED_SEASON_DIR / "schedule.csv.gz", out_dir / SCHEDULE_FILE)
    (out_dir / REGISTRY_FILE).parent.mkdir(parents=True)
    build_registry(boxscores).to_csv(out_dir / REGISTRY_FILE, index=False)
    return write_game_files(out_dir, boxscores, progress)


def build_landing_from_bundle(out_dir: Path, progress: Progress | None = None) -> int:
    """The bundled season as the landing directory `out_dir` (replacing it); returns the number of game files."""
    return build_in_place(out_dir, lambda staging: lay_out_bundle(staging, load_bundled_boxscores(), progress))


def is_unbuilt_default(landing_dir: Path) -> bool:
    """Whether `landing_dir` is the default landing directory (the bundled season) and not laid out yet."""
    return Path(landing_dir).resolve() == DEFAULT_LANDING_DIR.resolve() and not (DEFAULT_LANDING_DIR / SCHEDULE_FILE).exists()


def ensure_default_landing(landing_dir: Path) -> None:
    """Lay out the bundled season when `landing_dir` is the default one and it is not there yet."""
    if not is_unbuilt_default(landing_dir):
        return
    # Steps of one run, sensors and parallel test workers may all find it missing at once: one lays it out,
    # the others wait on the lock and then find it there.
    DEFAULT_LANDING_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(DEFAULT_LANDING_DIR.with_name(DEFAULT_LANDING_DIR.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_unbuilt_default(landing_dir):
            build_landing_from_bundle(DEFAULT_LANDING_DIR)
