"""Extraction of landed game files: rows as text, file-level problems as typed outcomes."""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nba_failures.failures.records import FailureCategory
from nba_failures.landing.contract import GAMEBOOK_COLUMNS, LandedGameFile


@dataclass(frozen=True)
class FileProblem:
    game_id: str
    game_date: dt.date
    category: FailureCategory
    reason: str
    source_file: str | None
    rejected_rows: int = 0


@dataclass
class Extraction:
    rows: pd.DataFrame
    problems: list[FileProblem] = field(default_factory=list)
    rows_read: int = 0
    extra_columns: dict[str, list[str]] = field(default_factory=dict)


_UNREADABLE = (
    pd.errors.EmptyDataError,
    pd.errors.ParserError,
    UnicodeDecodeError,
    gzip.BadGzipFile,
    zlib.error,
    EOFError,
    OSError,
)


def extract_games(landing_dir: Path, files: list[LandedGameFile], scheduled: pd.DataFrame) -> Extraction:
    """Read each landed file; rows of readable, scheduled, well-formed files are returned as text.

    `scheduled` holds `game_id`, `game_date` of the window's schedule. A scheduled game with no file is
    MISSING_RAW_DATA; a file that cannot be read EXTRACTION_FAILED; a file lacking contract columns
    SCHEMA_DRIFT; a file for a game the schedule does not have on that date VALIDATION_ERROR.
    """
    frames: list[pd.DataFrame] = []
    problems: list[FileProblem] = []
    extraction = Extraction(rows=pd.DataFrame(columns=["landing_date", *GAMEBOOK_COLUMNS, "source_file", "source_line"]))
    scheduled_keys = set(zip(scheduled["game_id"], scheduled["game_date"]))
    landed_keys = set()
    for landed in files:
        relative = landed.relative_to(landing_dir)
        landed_keys.add((landed.game_id, landed.game_date))
        try:
            frame = pd.read_csv(landed.path, dtype=str, keep_default_na=False, encoding="utf-8")
        except _UNREADABLE as error:
            problems.append(_problem(landed, FailureCategory.EXTRACTION_FAILED, f"{relative}: unreadable ({type(error).__name__}: {error})", relative))
            continue
        extraction.rows_read += len(frame)
        missing = [c for c in GAMEBOOK_COLUMNS if c not in frame.columns]
        if missing:
            problems.append(_problem(landed, FailureCategory.SCHEMA_DRIFT, f"{relative}: missing columns {missing}", relative, len(frame)))
            continue
        if frame.empty:
            problems.append(_problem(landed, FailureCategory.EXTRACTION_FAILED, f"{relative}: header only, no player rows", relative))
            continue
        if (landed.game_id, landed.game_date) not in scheduled_keys:
            reason = f"{relative}: game {landed.game_id} is not in the schedule on {landed.game_date.isoformat()}"
            problems.append(_problem(landed, FailureCategory.VALIDATION_ERROR, reason, relative, len(frame)))
            continue
        extra = sorted(set(frame.columns) - set(GAMEBOOK_COLUMNS))
        if extra:
            extraction.extra_columns[relative] = extra
        frame = frame.loc[:, list(GAMEBOOK_COLUMNS)]
        frame.insert(0, "landing_date", landed.game_date)
        frame["source_file"] = relative
        frame["source_line"] = range(2, len(frame) + 2)
        frames.append(frame)
    for game_id, game_date in sorted(scheduled_keys - landed_keys):
        reason = f"scheduled game {game_id} on {game_date.isoformat()} has no landed gamebook file"
        problems.append(FileProblem(game_id, game_date, FailureCategory.MISSING_RAW_DATA, reason, None))
    if frames:
        extraction.rows = pd.concat(frames, ignore_index=True)
    extraction.problems = problems
    return extraction


def _problem(landed: LandedGameFile, category: FailureCategory, reason: str, relative: str, rejected: int = 0) -> FileProblem:
    return FileProblem(landed.game_id, landed.game_date, category, reason, relative, rejected)
