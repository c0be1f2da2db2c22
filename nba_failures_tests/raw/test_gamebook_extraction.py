"""`extract_games` on real landed files, each damaged one way: the outcome is a typed file problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from nba_failures.failures.records import FailureCategory
from nba_failures.landing.contract import GameFileLimits, landed_game_files
from nba_failures.raw.gamebook import extract_games
from nba_failures_tests import faults

DAY = dt.date(2023, 1, 15)
NEXT = DAY + dt.timedelta(days=1)
GAME = "202301150BRK"


@pytest.fixture
def scheduled() -> pd.DataFrame:
    """The day's schedule as the raw asset reads it back: `game_id`, `game_date` (a date)."""
    frame = faults.schedule(DAY).loc[:, ["game_id", "game_date"]]
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def _extract(landing: Path, scheduled: pd.DataFrame):
    return extract_games(landing, landed_game_files(landing, DAY, NEXT), scheduled, GameFileLimits())


def _rows_of(game_id: str) -> int:
    return int((faults.boxscores(DAY)["game_id"] == game_id).sum())


def test_clean_day_has_every_row_and_no_problem(landing: Path, scheduled: pd.DataFrame) -> None:
    extraction = _extract(landing, scheduled)
    assert extraction.problems == []
    assert extraction.rows_read == len(extraction.rows) == len(faults.boxscores(DAY))
    assert set(extraction.rows["landing_date"]) == {DAY}
    assert extraction.extra_columns == {}


def test_unreadable_gzip_is_extraction_failed(landing: Path, scheduled: pd.DataFrame) -> None:
    faults.write_raw_bytes(landing, DAY, GAME, b"this is not gzip at all\n")
    extraction = _extract(landing, scheduled)
    [problem] = extraction.problems
    assert (problem.entity_id, problem.category) == (GAME, FailureCategory.EXTRACTION_FAILED)
    assert problem.source_file == f"gamebook/{DAY.isoformat()}/{GAME}.csv.gz"
    assert problem.source_file in problem.reason and "unreadable" in problem.reason
    assert GAME not in set(extraction.rows["game_id"])
    assert extraction.rows_read == len(extraction.rows) == len(faults.boxscores(DAY)) - _rows_of(GAME)


def test_missing_columns_is_schema_drift_and_rows_are_rejected(landing: Path, scheduled: pd.DataFrame) -> None:
    faults.rewrite_game_file(landing, DAY, GAME, lambda frame: frame.drop(columns=["points", "minutes"]))
    extraction = _extract(landing, scheduled)
    [problem] = extraction.problems
    assert (problem.entity_id, problem.category) == (GAME, FailureCategory.SCHEMA_DRIFT)
    assert "'points'" in problem.reason and "'minutes'" in problem.reason
    assert problem.rejected_rows == _rows_of(GAME)
    # Rows read = rows kept + rows rejected.
    assert extraction.rows_read == len(extraction.rows) + problem.rejected_rows


def test_header_only_file_is_extraction_failed(landing: Path, scheduled: pd.DataFrame) -> None:
    faults.rewrite_game_file(landing, DAY, GAME, lambda frame: frame.iloc[0:0])
    extraction = _extract(landing, scheduled)
    [problem] = extraction.problems
    assert (problem.entity_id, problem.category) == (GAME, FailureCategory.EXTRACTION_FAILED)
    assert "header only" in problem.reason
    assert problem.rejected_rows == 0
    assert extraction.rows_read == len(extraction.rows) == len(faults.boxscores(DAY)) - _rows_of(GAME)


def test_game_not_in_schedule_is_validation_error(landing: Path, scheduled: pd.DataFrame) -> None:
    stray = "202301150ZZZ"
    source = faults.game_file(landing, DAY, GAME)
    (source.parent / f"{stray}.csv.gz").write_bytes(source.read_bytes())
    extraction = _extract(landing, scheduled)
    [problem] = extraction.problems
    assert (problem.entity_id, problem.category) == (stray, FailureCategory.VALIDATION_ERROR)
    assert "not in the schedule" in problem.reason
    assert problem.rejected_rows == _rows_of(GAME)
    assert stray not in set(extraction.rows["game_id"])
    assert len(extraction.rows) == len(faults.boxscores(DAY))


def test_scheduled_game_without_file_is_missing_raw_data(landing: Path, scheduled: pd.DataFrame) -> None:
    faults.remove_game_file(landing, DAY, GAME)
    extraction = _extract(landing, scheduled)
    [problem] = extraction.problems
    assert (problem.entity_id, problem.game_date, problem.category) == (GAME, DAY, FailureCategory.MISSING_RAW_DATA)
    assert problem.source_file is None


def test_extra_columns_are_reported_and_dropped(landing: Path, scheduled: pd.DataFrame) -> None:
    faults.rewrite_game_file(landing, DAY, GAME, lambda frame: frame.assign(shoe_size="15"))
    extraction = _extract(landing, scheduled)
    assert extraction.problems == []
    assert extraction.extra_columns == {f"gamebook/{DAY.isoformat()}/{GAME}.csv.gz": ["shoe_size"]}
    assert "shoe_size" not in extraction.rows.columns
    assert len(extraction.rows) == len(faults.boxscores(DAY))


def test_uncompressed_csv_lands_too(landing: Path, scheduled: pd.DataFrame) -> None:
    gz = faults.game_file(landing, DAY, GAME)
    faults.read_game_file(landing, DAY, GAME).to_csv(gz.with_name(f"{GAME}.csv"), index=False)
    gz.unlink()
    extraction = _extract(landing, scheduled)
    assert extraction.problems == []
    assert set(extraction.rows.loc[extraction.rows["game_id"] == GAME, "source_file"]) == {
        f"gamebook/{DAY.isoformat()}/{GAME}.csv"
    }
    assert len(extraction.rows) == len(faults.boxscores(DAY))
