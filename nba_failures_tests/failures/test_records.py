"""The typed failure record and the one recorder every processor uses."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.failures.records import (
    DATE_LEVEL_ENTITY_ID,
    MAX_REASON_CHARS,
    EntityType,
    FailureCategory,
    FailureRecord,
    Phase,
)
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY

DAY = dt.date(2023, 1, 15)
PLAYERS = ProcessorSpec("player_game_summary", Phase.ANALYTICS, EntityType.PLAYER, PLAYER_GAME_SUMMARY)
TEAMS = ProcessorSpec("team_offense_game_summary", Phase.ANALYTICS, EntityType.TEAM, TEAM_OFFENSE_GAME_SUMMARY)


def _record(**overrides) -> FailureRecord:
    fields = dict(
        processor_name="player_game_summary",
        run_id="run-1",
        analysis_date=DAY,
        entity_id="joshgiddey",
        entity_type=EntityType.PLAYER,
        failure_category=FailureCategory.REGISTRY_LOOKUP_FAILED,
        failure_reason="not in the registry",
        can_retry=True,
    )
    return FailureRecord(**{**fields, **overrides})


# ---------------------------------------------------------------- FailureRecord


def test_reason_is_truncated_to_1000_characters() -> None:
    long = _record(failure_reason="x" * 5000)
    assert len(long.failure_reason) == MAX_REASON_CHARS == 1000
    assert long.failure_reason.startswith("x" * 999)
    exact = _record(failure_reason="y" * 1000)
    assert exact.failure_reason == "y" * 1000
    assert _record(failure_reason="short").failure_reason == "short"


@pytest.mark.parametrize("placeholder", ["unknown", "UNKNOWN", " Unknown ", "none", "nan", "null", ""])
def test_placeholder_entity_ids_are_rejected(placeholder: str) -> None:
    with pytest.raises(ValidationError):
        _record(entity_id=placeholder)


def test_real_ids_and_the_date_level_id_are_accepted() -> None:
    assert _record(entity_id="unknownson").entity_id == "unknownson"  # a name that merely contains the word
    assert _record(entity_id=DATE_LEVEL_ENTITY_ID, entity_type=EntityType.DATE).entity_id == "DATE_LEVEL"


def test_counts_and_category_are_validated() -> None:
    with pytest.raises(ValidationError):
        _record(expected_count=-1)
    with pytest.raises(ValidationError):
        _record(failure_category="NOT_A_CATEGORY")
    with pytest.raises(ValidationError):
        _record(entity_type="COACH")
    assert _record(failure_category="PROCESSING_ERROR").failure_category is FailureCategory.PROCESSING_ERROR


def test_failure_key_is_stable_across_runs_and_reasons() -> None:
    first = _record(run_id="run-1", failure_reason="first wording", expected_count=3)
    rerun = _record(run_id="run-2", failure_reason="second wording", can_retry=False, source_line=7)
    assert first.failure_key == rerun.failure_key
    assert len(first.failure_key) == 24 and int(first.failure_key, 16) >= 0
    # The key is part of what gets stored.
    assert first.model_dump(mode="json")["failure_key"] == first.failure_key


@pytest.mark.parametrize(
    "change",
    [
        {"failure_category": FailureCategory.PROCESSING_ERROR},
        {"entity_id": "shaigilgeousalexander"},
        {"entity_type": EntityType.TEAM},
        {"analysis_date": DAY + dt.timedelta(days=1)},
        {"processor_name": "upcoming_player_game_context"},
    ],
)
def test_failure_key_differs_across_categories_entities_dates_and_processors(change: dict) -> None:
    assert _record().failure_key != _record(**change).failure_key


def test_every_category_has_one_spelling_and_a_retry_rule() -> None:
    required = {"INCOMPLETE_DATA", "INSUFFICIENT_DATA", "PROCESSING_ERROR", "REGISTRY_LOOKUP_FAILED",
                "MISSING_DEPENDENCY", "STALE_DATA", "MISSING_RAW_DATA"}  # fmt: skip
    assert required <= {c.value for c in FailureCategory}
    assert {e.value for e in EntityType} == {"PLAYER", "TEAM", "GAME", "DATE"}
    assert FailureCategory.REGISTRY_LOOKUP_FAILED.retryable and FailureCategory.MISSING_RAW_DATA.retryable
    assert not FailureCategory.PROCESSING_ERROR.retryable and not FailureCategory.INSUFFICIENT_DATA.retryable


# ---------------------------------------------------------------- FailureRecorder


def test_entity_type_defaults_to_the_processors() -> None:
    players, teams = FailureRecorder(PLAYERS, "run-1"), FailureRecorder(TEAMS, "run-1")
    assert players.record(DAY, "joshgiddey", FailureCategory.PROCESSING_ERROR, "bad").entity_type is EntityType.PLAYER
    assert teams.record(DAY, "OKC", FailureCategory.MISSING_RAW_DATA, "no rows").entity_type is EntityType.TEAM
    game = players.record(DAY, "202301150BRK", FailureCategory.PROCESSING_ERROR, "nameless row", entity_type=EntityType.GAME)
    assert game.entity_type is EntityType.GAME
    assert players.records[0].processor_name == "player_game_summary" and players.records[0].run_id == "run-1"


def test_can_retry_defaults_to_the_category_and_can_be_overridden() -> None:
    recorder = FailureRecorder(PLAYERS, "run-1")
    assert recorder.record(DAY, "a", FailureCategory.REGISTRY_LOOKUP_FAILED, "r").can_retry is True
    assert recorder.record(DAY, "b", FailureCategory.PROCESSING_ERROR, "r").can_retry is False
    assert recorder.record(DAY, "c", FailureCategory.PROCESSING_ERROR, "r", can_retry=True).can_retry is True


def test_same_key_is_folded_into_one_failure_saying_both() -> None:
    recorder = FailureRecorder(PLAYERS, "run-1")
    recorder.record(DAY, "joshgiddey", FailureCategory.PROCESSING_ERROR, "points 'abc' is not an integer", source_line=4)
    folded = recorder.record(DAY, "joshgiddey", FailureCategory.PROCESSING_ERROR, "minutes 'DNP' is not a number")
    assert len(recorder) == 1
    assert folded.failure_reason == "points 'abc' is not an integer; minutes 'DNP' is not a number"
    assert folded.source_line == 4
    # A different category, entity or day is a different failure.
    recorder.record(DAY, "joshgiddey", FailureCategory.REGISTRY_LOOKUP_FAILED, "unknown to the registry")
    recorder.record(DAY, "luguentzdort", FailureCategory.PROCESSING_ERROR, "bad")
    recorder.record(DAY + dt.timedelta(days=1), "joshgiddey", FailureCategory.PROCESSING_ERROR, "bad")
    assert len(recorder) == 4
    assert recorder.counts_by_category() == {"PROCESSING_ERROR": 3, "REGISTRY_LOOKUP_FAILED": 1}


def test_folding_keeps_the_reason_within_the_limit() -> None:
    recorder = FailureRecorder(PLAYERS, "run-1")
    for _ in range(30):
        recorder.record(DAY, "joshgiddey", FailureCategory.PROCESSING_ERROR, "r" * 100)
    assert len(recorder) == 1 and len(recorder.records[0].failure_reason) == MAX_REASON_CHARS


def test_missing_dependency_is_date_level() -> None:
    record = FailureRecorder(PLAYERS, "run-1").record_missing_dependency(DAY, "nba_raw.nbac_gamebook_player_stats")
    assert (record.entity_id, record.entity_type, record.failure_category) == (
        "DATE_LEVEL", EntityType.DATE, FailureCategory.MISSING_DEPENDENCY
    )  # fmt: skip
    assert record.upstream_table == "nba_raw.nbac_gamebook_player_stats" and record.can_retry


def test_record_frame_takes_pandas_values_and_optional_columns() -> None:
    recorder = FailureRecorder(TEAMS, "run-1")
    frame = pd.DataFrame(
        {
            "analysis_date": [DAY, DAY],
            "entity_id": ["OKC", "BKN"],
            "failure_category": ["MISSING_RAW_DATA", "VALIDATION_ERROR"],
            "reason": ["no rows", "scored 100 but 102"],
            "expected_count": [np.int64(1), pd.NA],
            "actual_count": pd.array([0, 100], dtype="Int64"),
            "missing_game_ids": [["202301150BRK"], []],
            "source_line": [np.nan, np.nan],
        }
    )
    recorder.record_frame(frame)
    okc, bkn = recorder.records
    assert (okc.entity_type, okc.failure_category, okc.expected_count, okc.actual_count) == (
        EntityType.TEAM,
        FailureCategory.MISSING_RAW_DATA,
        1,
        0,
    )
    assert okc.missing_game_ids == ("202301150BRK",) and okc.source_line is None
    assert (bkn.expected_count, bkn.actual_count, bkn.missing_game_ids) == (None, 100, ())
    with pytest.raises(ValueError):
        FailureRecorder(TEAMS, "run-1").record_frame(frame.drop(columns="failure_category"))


def test_frame_has_the_stored_columns_and_the_phase() -> None:
    recorder = FailureRecorder(PLAYERS, "run-9")
    empty = recorder.frame()
    assert empty.empty and {"failure_key", "phase", "entity_id", "missing_game_ids"} <= set(empty.columns)
    recorder.record(DAY, "joshgiddey", FailureCategory.PROCESSING_ERROR, "bad", source_file="gamebook/x.csv.gz", source_line=5)
    row = recorder.frame().iloc[0]
    assert row["phase"] == "ANALYTICS" and row["run_id"] == "run-9"
    assert row["failure_key"] == recorder.records[0].failure_key
    assert (row["source_file"], row["source_line"]) == ("gamebook/x.csv.gz", 5)
