"""Layout and columns of a landing directory (documented in README, relied on by scenarios and tests).

    <landing>/schedule.csv.gz                          the season schedule
    <landing>/gamebook/<game_date>/<game_id>.csv[.gz]   one file per game: every listed player of both teams
    <landing>/registry/player_registry.csv             player_lookup, universal_player_id, player_name, aliases

Every landed file is read only if it is a regular file inside the landing directory (a symlink to one is
fine): a directory, FIFO, device or socket, or a symlink leading outside, is refused after a `stat`, never
opened, so a FIFO cannot block a run and a link to /dev/zero or to someone else's file is not read.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import re
import stat
import zlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import pandas as pd

SCHEDULE_FILE = "schedule.csv.gz"
GAMEBOOK_DIR = "gamebook"
REGISTRY_FILE = Path("registry") / "player_registry.csv"
ALIAS_SEPARATOR = "|"
# A game file's name: its game id and `.csv` or `.csv.gz`, in any letter case.
GAME_FILE_NAME = re.compile(r"^(?P<game_id>.*)\.csv(?:\.gz)?$", re.IGNORECASE)
# Day folders are ISO dates and nothing else: `20230111` or `2023-1-11` are not ours (ASCII digits only).
DAY_FOLDER_NAME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

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
# What a box score says of a listed player: he played, or one of the ways of not playing.
PLAYED_STATUS = "ACTIVE"
NOT_PLAYED_STATUSES = ("DNP", "INACTIVE", "OUT")
# The counting stats of a played row, one column each.
COUNTING_STATS = (
    "points", "rebounds", "assists", "fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made",
    "ft_attempted", "offensive_rebounds", "defensive_rebounds", "steals", "blocks", "turnovers", "personal_fouls",
)  # fmt: skip
# The raw columns box_listings reads: who a row lists, for which game, team and day, with what status.
LISTING_COLUMNS = ("game_id", "landing_date", "team_abbr", "player_lookup", "player_name", "player_status", "dnp_reason")

REGISTRY_COLUMNS = ("player_lookup", "universal_player_id", "player_name", "aliases")


def game_date_of(game_id: str) -> dt.date:
    """basketball-reference ids start with the game date: '202301150BOS' -> 2023-01-15."""
    return dt.date(int(game_id[:4]), int(game_id[4:6]), int(game_id[6:8]))


@dataclass(frozen=True)
class GameFileLimits:
    """How much of one game file is read at most. A real one is about 8 KB and 35 rows: the defaults are far
    above that and keep a runaway delivery (or a link to an endless device) from taking the run's memory."""

    max_bytes: int = 5 * 1024 * 1024  # on disk, and again once decompressed
    max_rows: int = 1_000


class NotALandedFile(ValueError):
    """A landing entry that is not a regular file inside the landing directory; it was not opened."""


class LandedFileTooLarge(ValueError):
    """A landed file over its size or row limit; it was not read (further)."""


class LandingFileError(ValueError):
    """The schedule or registry cannot be used; the message names the file (relative to the landing directory)
    and, where one is at fault, the row."""


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


def game_day_folder(name: str) -> dt.date | None:
    """The date a `gamebook/` folder stands for, if its name is a strict `YYYY-MM-DD` date."""
    if not DAY_FOLDER_NAME.match(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None  # 2023-02-30


def landed_game_files(landing_dir: Path, start: dt.date, end: dt.date) -> list[LandedGameFile]:
    """Entries named like game files in the day folders of `[start, end)`, in date then name order.

    Listed by name only: whether an entry is a regular file it may read is the reader's check
    (`open_landed_file`), so a directory or FIFO named like a game file is reported, not skipped.
    """
    files: list[LandedGameFile] = []
    root = landing_dir / GAMEBOOK_DIR
    if not root.is_dir():
        return files
    for day_dir in sorted(root.iterdir()):
        day = game_day_folder(day_dir.name)
        if day is None or not (start <= day < end) or not day_dir.is_dir():
            continue  # not a day folder of this window: nothing of ours
        for path in sorted(day_dir.iterdir()):
            if name := GAME_FILE_NAME.match(path.name):
                files.append(LandedGameFile(day, name["game_id"], path))
    return files


def is_gzip_name(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str:
    kind = next((name for is_kind, name in _NOT_REGULAR if is_kind(mode)), "a special file")
    return f"{kind}, not a regular file"


def checked_landed_file(landing_dir: Path, path: Path) -> tuple[Path, int]:
    """The real path and size of `path` if it is a regular file inside `landing_dir`, else `NotALandedFile`.

    Decided with `lstat`/`stat` alone, before anything is opened: opening a FIFO blocks until a writer
    comes, and a device such as /dev/zero never ends. A symlink is followed only to a target inside the
    landing directory; the target is not named (it may be anyone's path).
    """
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(landing_dir)):
        raise NotALandedFile("a symlink to a target outside the landing directory")  # the entry or a folder above it
    try:
        status = os.stat(real)
    except FileNotFoundError:
        if os.path.islink(path):
            raise NotALandedFile("a symlink to a target that does not exist") from None
        raise
    if not stat.S_ISREG(status.st_mode):
        raise NotALandedFile(_not_regular(status.st_mode))
    return real, status.st_size


@contextmanager
def open_landed_file(landing_dir: Path, path: Path, max_bytes: int | None = None) -> Iterator[BinaryIO]:
    """`path` opened for binary reading once `checked_landed_file` allows it and its size is within `max_bytes`.

    Opened without following a symlink and without blocking, then checked again on the open descriptor: an
    entry swapped for a FIFO or a link between the check and the open is refused, not waited on.
    """
    real, size = checked_landed_file(landing_dir, path)
    if max_bytes is not None and size > max_bytes:
        raise LandedFileTooLarge(f"{size} bytes, over the limit of {max_bytes} bytes")
    try:
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as error:
        raise NotALandedFile(f"changed since it was checked ({error.strerror})") from None
    handle = os.fdopen(descriptor, "rb")
    with handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotALandedFile(f"{_not_regular(mode)} (changed since it was checked)")
        yield handle


# What reading a schedule or registry can raise for a bad file (as opposed to a bug), besides its parser's own errors.
_UNREADABLE_FILE = (NotALandedFile, OSError, EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError)
# A schedule game_date as pandas' "%Y-%m-%d" reads it: a four-digit year, a month and a day of one or two digits, a
# real day within pandas' Timestamp range.
_GAME_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_GAME_DATE_RANGE = (dt.date(1677, 9, 22), dt.date(2262, 4, 11))


@contextmanager
def _landed_table(landing_dir: Path, relative: Path, what: str, parse_errors: tuple[type[Exception], ...]) -> Iterator[BinaryIO]:
    """The landed CSV `relative`, open for the block to parse; `LandingFileError` naming it when it has not landed or
    cannot be read (`parse_errors`: what the block's parser raises for a bad file)."""
    try:
        with open_landed_file(landing_dir, landing_dir / relative) as handle:
            yield handle
    except FileNotFoundError:
        raise LandingFileError(f"{relative.as_posix()}: the {what} has not landed (no such file in {landing_dir})") from None
    except (*_UNREADABLE_FILE, *parse_errors) as error:
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise LandingFileError(f"{relative.as_posix()}: the {what} cannot be read ({type(error).__name__}: {detail})") from None


def _check_columns(relative: Path, what: str, present: Collection[str], columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in present]
    if missing:
        raise LandingFileError(f"{relative.as_posix()}: the {what} lacks columns {missing}")


def _read_landed_table(landing_dir: Path, relative: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    """A landed CSV as text with its contract `columns`; row `i` of the frame is line `i + 2` of the file.

    Blank lines are read as empty rows and then dropped, so the index keeps counting them.
    """
    import pandas as pd

    with _landed_table(landing_dir, relative, what, (pd.errors.ParserError, pd.errors.EmptyDataError)) as handle:
        compression = "gzip" if is_gzip_name(relative) else None
        table = pd.read_csv(handle, dtype=str, keep_default_na=False, skip_blank_lines=False, compression=compression)
    _check_columns(relative, what, table.columns, columns)
    return table[(table != "").any(axis=1)]


def _game_date(value: str) -> dt.date | None:
    match = _GAME_DATE.fullmatch(value)
    if match is None:
        return None
    try:
        day = dt.date(*map(int, match.groups()))
    except ValueError:
        return None  # 2023-02-30
    return day if _GAME_DATE_RANGE[0] <= day <= _GAME_DATE_RANGE[1] else None


def _game_dates(rows: Sequence[tuple[int, str]]) -> list[dt.date]:
    """The game dates of the schedule's rows given as (row, game_date), row `i` being line `i + 2` of the file;
    `LandingFileError` naming the first line whose game_date is not a date."""
    dates = [_game_date(value) for _, value in rows]
    undated = [(row, value) for (row, value), day in zip(rows, dates) if day is None]
    if undated:
        (row, value), others = undated[0], f" (and {len(undated) - 1} more rows)" if len(undated) > 1 else ""
        raise LandingFileError(f"{SCHEDULE_FILE} line {row + 2}: game_date {value!r} is not a YYYY-MM-DD date{others}")
    return dates


def read_schedule(landing_dir: Path) -> pd.DataFrame:
    """The landed schedule, `game_date` as dates; `LandingFileError` naming the file and row when it cannot be used."""
    schedule = _read_landed_table(landing_dir, Path(SCHEDULE_FILE), SCHEDULE_COLUMNS, "schedule")
    dates = _game_dates(list(zip(schedule.index, schedule["game_date"])))
    return schedule.assign(game_date=dates).reset_index(drop=True)


def schedule_game_dates(landing_dir: Path) -> list[dt.date]:
    """`read_schedule(landing_dir)["game_date"]` read with the csv module, for the partitions made when the code location
    loads (which needs no pandas): the same dates, or a `LandingFileError` where `read_schedule` raises one."""
    relative = Path(SCHEDULE_FILE)
    with _landed_table(landing_dir, relative, "schedule", (csv.Error,)) as handle:
        # "utf-8-sig": a byte order mark is no part of the first column's name, as for pandas.
        with gzip.open(handle, "rt", encoding="utf-8-sig", newline="") as text:
            rows = list(csv.reader(text))
    header, records = (rows[0], rows[1:]) if rows else ([], [])
    _check_columns(relative, "schedule", header, SCHEDULE_COLUMNS)
    column = header.index("game_date")
    dated = []
    for row, values in enumerate(records):
        if len(values) > len(header):  # a row pandas cannot parse either
            raise LandingFileError(f"{SCHEDULE_FILE} line {row + 2}: {len(values)} fields where the header has {len(header)}")
        if any(values):  # pandas reads a short row's missing fields as empty; read_schedule drops blank rows
            dated.append((row, values[column] if column < len(values) else ""))
    return _game_dates(dated)


def read_registry(landing_dir: Path) -> pd.DataFrame:
    """The landed registry's contract columns; `LandingFileError` naming the file when it cannot be read."""
    registry = _read_landed_table(landing_dir, REGISTRY_FILE, REGISTRY_COLUMNS, "registry")
    return registry.loc[:, list(REGISTRY_COLUMNS)]
