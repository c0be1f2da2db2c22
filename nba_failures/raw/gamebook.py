"""Extraction of landed game files: rows as text, file-level problems as typed outcomes."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nba_failures.failures.records import DATE_LEVEL_ENTITY_ID, EntityType, FailureCategory, usable_entity_id
from nba_failures.landing.contract import (
    GAMEBOOK_COLUMNS,
    GameFileLimits,
    LandedFileTooLarge,
    LandedGameFile,
    NotALandedFile,
    is_gzip_name,
    open_landed_file,
)


@dataclass(frozen=True)
class FileProblem:
    entity_id: str  # the game id; DATE_LEVEL_ENTITY_ID for a file whose name holds none
    game_date: dt.date
    category: FailureCategory
    reason: str
    source_file: str | None
    rejected_rows: int = 0
    source_line: int | None = None
    entity_type: EntityType = EntityType.GAME


@dataclass
class Extraction:
    rows: pd.DataFrame
    problems: list[FileProblem] = field(default_factory=list)
    rows_read: int = 0
    extra_columns: dict[str, list[str]] = field(default_factory=dict)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read as CSV text; the message names the line where it can."""


_UNREADABLE = (UnreadableFile, csv.Error, gzip.BadGzipFile, zlib.error, EOFError, OSError)


@dataclass
class GameFileRows:
    header: list[str]  # column names, stripped
    rows: list[list[str]]  # text values, one field per header column
    lines: list[int]  # file line (1 = header) where each of `rows` starts
    bad_rows: list[tuple[int, str]]  # (line, why) for rows that cannot be split into the header's fields


def read_game_file(landing_dir: Path, path: Path, limits: GameFileLimits) -> GameFileRows:
    """Rows of one landed game file as text, with the line each starts on.

    Read with the csv module rather than `pandas.read_csv`, which silently shifts every column when the first
    row has one field too many (it takes the first column as the index), pads short rows with blanks, and
    skips blank lines (so row numbers drift). Here a row with too many or too few fields is returned in
    `bad_rows`, blank lines keep their numbers, a UTF-8 BOM and CRLF line endings are accepted.

    Only a regular file inside `landing_dir` is opened (`NotALandedFile` otherwise), and at most
    `limits.max_bytes` of it, on disk and decompressed, and `limits.max_rows` rows are read
    (`LandedFileTooLarge` beyond): memory stays bounded whatever was delivered.
    """
    with open_landed_file(landing_dir, path, limits.max_bytes) as handle:
        stream = gzip.GzipFile(fileobj=handle, mode="rb") if is_gzip_name(path) else handle
        data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise LandedFileTooLarge(f"over the limit of {limits.max_bytes} bytes once decompressed")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(f"line {line}: byte 0x{data[error.start]:02x} is not UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    next_line = 1
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(field.strip() for field in record):
                continue  # blank or whitespace-only line
            if header is None:
                header = [name.strip() for name in record]
            elif len(rows) + len(bad) == limits.max_rows:
                raise LandedFileTooLarge(f"more than {limits.max_rows} rows, over the limit")
            elif len(record) != len(header):
                bad.append((line, f"{len(record)} fields, the header has {len(header)}"))
            else:
                rows.append(record)
                lines.append(line)
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num}: {error}") from None
    if header is None:
        raise UnreadableFile("empty file: no header")
    return GameFileRows(header, rows, lines, bad)


def extract_games(landing_dir: Path, files: list[LandedGameFile], scheduled: pd.DataFrame, limits: GameFileLimits) -> Extraction:
    """Read each landed file; rows of readable, scheduled, well-formed files are returned as text.

    `scheduled` holds `game_id`, `game_date` of the window's schedule. A scheduled game with no file is
    MISSING_RAW_DATA; a file that cannot be read, or is over a limit, EXTRACTION_FAILED; a file lacking
    contract columns SCHEMA_DRIFT; an entry that is not a regular file inside the landing directory, a file
    for a game the schedule does not have on that date, or a second file for the same game, VALIDATION_ERROR;
    a file whose name holds no game id, a DATE-level VALIDATION_ERROR. A row that does not split into the
    header's fields is EXTRACTION_FAILED naming its line, and the rest of its file goes on. Files are named
    relative to `landing_dir`; each problem is its file's alone, the other files go on.
    """
    # The kept rows of every file, as lists: one frame is built at the end, not one per file.
    kept = _KeptRows()
    problems: list[FileProblem] = []
    extraction = Extraction(rows=pd.DataFrame(columns=["landing_date", *GAMEBOOK_COLUMNS, "source_file", "source_line"]))
    scheduled_keys = set(zip(scheduled["game_id"], scheduled["game_date"]))
    landed_keys = set()
    delivered: dict[tuple[str, dt.date], str] = {}
    for landed in files:
        relative = landed.relative_to(landing_dir)
        if not usable_entity_id(landed.game_id):
            reason = f"{relative}: the file name holds no game id; not read"
            problems.append(
                FileProblem(
                    DATE_LEVEL_ENTITY_ID,
                    landed.game_date,
                    FailureCategory.VALIDATION_ERROR,
                    reason,
                    relative,
                    entity_type=EntityType.DATE,
                )
            )
            continue
        landed_keys.add((landed.game_id, landed.game_date))
        try:
            read = read_game_file(landing_dir, landed.path, limits)
        except NotALandedFile as error:
            problems.append(_problem(landed, FailureCategory.VALIDATION_ERROR, f"{relative}: {error}; not read", relative))
            continue
        except LandedFileTooLarge as error:
            problems.append(_problem(landed, FailureCategory.EXTRACTION_FAILED, f"{relative}: {error}; not read", relative))
            continue
        except _UNREADABLE as error:
            problems.append(
                _problem(landed, FailureCategory.EXTRACTION_FAILED, f"{relative}: unreadable ({_describe(error)})", relative)
            )
            continue
        header, rows = read.header, read.rows
        extraction.rows_read += len(rows) + len(read.bad_rows)
        for line, why in read.bad_rows:
            reason = f"{relative} line {line}: {why}; row rejected"
            problems.append(_problem(landed, FailureCategory.EXTRACTION_FAILED, reason, relative, 1, line))
        missing = [c for c in GAMEBOOK_COLUMNS if c not in header]
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if missing or duplicated:
            drift = "; ".join(
                f"{what} columns {names}" for what, names in (("missing", missing), ("duplicate", duplicated)) if names
            )
            problems.append(_problem(landed, FailureCategory.SCHEMA_DRIFT, f"{relative}: {drift}", relative, len(rows)))
            continue
        if not rows and not read.bad_rows:
            problems.append(
                _problem(landed, FailureCategory.EXTRACTION_FAILED, f"{relative}: header only, no player rows", relative)
            )
            continue
        if (landed.game_id, landed.game_date) not in scheduled_keys:
            reason = f"{relative}: game {landed.game_id} is not in the schedule on {landed.game_date.isoformat()}"
            problems.append(_problem(landed, FailureCategory.VALIDATION_ERROR, reason, relative, len(rows)))
            continue
        first = delivered.setdefault((landed.game_id, landed.game_date), relative)
        if first != relative:
            # The same game as .csv and .csv.gz: its rows once, from the first file; the other is reported.
            reason = f"{relative}: game {landed.game_id} was already delivered as {first}; rows ignored"
            problems.append(_problem(landed, FailureCategory.VALIDATION_ERROR, reason, relative, len(rows)))
            continue
        extra = sorted(set(header) - set(GAMEBOOK_COLUMNS))
        if extra:
            extraction.extra_columns[relative] = extra
        kept.add(landed.game_date, relative, read)
    for game_id, game_date in sorted(scheduled_keys - landed_keys):
        reason = f"scheduled game {game_id} on {game_date.isoformat()} has no landed gamebook file"
        problems.append(FileProblem(game_id, game_date, FailureCategory.MISSING_RAW_DATA, reason, None))
    if kept.values:
        extraction.rows = kept.frame()
    extraction.problems = problems
    return extraction


@dataclass
class _KeptRows:
    """Rows of the files extracted so far, as the contract's columns, with where each came from."""

    values: list[list[str]] = field(default_factory=list)
    landing_dates: list[dt.date] = field(default_factory=list)
    source_files: list[str] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)

    def add(self, landing_date: dt.date, source_file: str, read: GameFileRows) -> None:
        positions = [read.header.index(name) for name in GAMEBOOK_COLUMNS]
        self.values.extend([row[position] for position in positions] for row in read.rows)
        self.landing_dates.extend([landing_date] * len(read.rows))
        self.source_files.extend([source_file] * len(read.rows))
        self.source_lines.extend(read.lines)

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.values, columns=list(GAMEBOOK_COLUMNS), dtype=object)
        frame.insert(0, "landing_date", self.landing_dates)
        frame["source_file"] = self.source_files
        frame["source_line"] = self.source_lines
        return frame


def _describe(error: Exception) -> str:
    """The error without the absolute path an OSError's text carries (the reason names the relative file)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    return f"{type(error).__name__}: {error}"


def _problem(
    landed: LandedGameFile, category: FailureCategory, reason: str, relative: str, rejected: int = 0, line: int | None = None
) -> FileProblem:
    return FileProblem(landed.game_id, landed.game_date, category, reason, relative, rejected, line)
