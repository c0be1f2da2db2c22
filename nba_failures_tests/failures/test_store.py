"""The failure store's lifecycle: one row per key, updated in place, resolved (never deleted) when fixed."""

import datetime as dt

import pandas as pd
import pytest

from nba_failures.classified.completeness import CompletenessChecker
from nba_failures.failures.classification import CompletenessEvidence, classify_failures
from nba_failures.failures.prerequisites import RECORDED_FAILURE_COLUMNS
from nba_failures.failures.recorder import FailureRecorder, ProcessorSpec
from nba_failures.failures.records import EntityType, FailureCategory, Phase, ResolutionStatus
from nba_failures.failures.store import (
    ANALYTICS_FAILURES,
    FAILURE_STORES,
    MergeCounts,
    merge_failures,
    store_for,
    write_classified,
)
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY

DAY = dt.date(2023, 1, 15)
PROCESSOR = ProcessorSpec("player_game_summary", Phase.ANALYTICS, EntityType.PLAYER, PLAYER_GAME_SUMMARY)
NO_EVIDENCE = CompletenessEvidence(
    schedule=pd.DataFrame(columns=["game_id", "game_date", "home_abbr", "away_abbr"]),
    player_games=pd.DataFrame(columns=["player_lookup", "game_id", "game_date", "team_abbr"]),
    raw_rows=pd.DataFrame(columns=["game_id", "game_date", "entity_id", "team_abbr", "player_status", "minutes", "dnp_reason"]),
    recorded_failures=pd.DataFrame(columns=list(RECORDED_FAILURE_COLUMNS)),
)
T0 = pd.Timestamp("2023-01-16 06:00", tz="UTC")


def classified(*failures: tuple[str, FailureCategory], run_id: str = "run-1") -> pd.DataFrame:
    recorder = FailureRecorder(PROCESSOR, run_id)
    for entity_id, category in failures:
        recorder.record(DAY, entity_id, category, f"{entity_id} failed: {category.value}")
    return CompletenessChecker().classify_with(recorder.frame(), NO_EVIDENCE)


def empty_store() -> pd.DataFrame:
    return pd.DataFrame(columns=[c for c in ANALYTICS_FAILURES.column_names])


RAN = {(PROCESSOR.name, DAY)}


def test_new_failures_are_inserted_with_status_by_type():
    incoming = classified(
        ("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED), ("joelembiid", FailureCategory.INSUFFICIENT_DATA)
    )
    merged, counts = merge_failures(empty_store(), incoming, RAN, T0, "classify-1")
    status = dict(zip(merged["entity_id"], merged["resolution_status"]))
    assert status == {"lebronjames": ResolutionStatus.UNRESOLVED.value, "joelembiid": ResolutionStatus.EXPECTED.value}
    assert counts.new == 2 and counts.resolved == 0
    assert set(merged["occurrences"]) == {1} and set(merged["retry_attempts"]) == {0}
    assert (merged["first_seen_at"] == T0).all() and merged["resolved_at"].isna().all()


def test_rerun_updates_in_place_and_resolves_what_is_gone():
    first, _ = merge_failures(
        empty_store(),
        classified(
            ("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED), ("anthonydavis", FailureCategory.REGISTRY_LOOKUP_FAILED)
        ),
        RAN,
        T0,
        "c1",
    )
    later = T0 + pd.Timedelta(hours=1)
    second, counts = merge_failures(
        first, classified(("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED), run_id="run-2"), RAN, later, "c2"
    )

    assert len(second) == 2 and second["failure_key"].is_unique
    rows = second.set_index("entity_id")
    assert rows.loc["lebronjames", "occurrences"] == 2
    assert rows.loc["lebronjames", "first_seen_at"] == T0 and rows.loc["lebronjames", "last_seen_at"] == later
    assert rows.loc["lebronjames", "run_id"] == "run-2"
    assert rows.loc["anthonydavis", "resolution_status"] == ResolutionStatus.RESOLVED.value
    assert rows.loc["anthonydavis", "resolved_at"] == later
    assert (counts.new, counts.still_open, counts.resolved) == (0, 1, 1)


def test_failures_of_a_processor_that_did_not_rerun_stay_open():
    first, _ = merge_failures(empty_store(), classified(("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED)), RAN, T0, "c1")
    second, counts = merge_failures(first, classified(), ran=set(), now=T0, dagster_run_id="c2")
    assert second["resolution_status"].tolist() == [ResolutionStatus.UNRESOLVED.value]
    assert counts.resolved == 0


def test_a_resolved_failure_that_comes_back_is_reopened_and_retry_state_is_kept():
    first, _ = merge_failures(empty_store(), classified(("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED)), RAN, T0, "c1")
    resolved, _ = merge_failures(first, classified(), RAN, T0, "c2")
    reopened, counts = merge_failures(
        resolved, classified(("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED)), RAN, T0, "c3"
    )
    assert reopened["resolution_status"].tolist() == [ResolutionStatus.UNRESOLVED.value]
    assert reopened["resolved_at"].isna().all() and counts.reopened == 1

    reopened.loc[:, "resolution_status"] = ResolutionStatus.RETRY_REQUESTED.value
    reopened.loc[:, "retry_attempts"] = 1
    held, _ = merge_failures(reopened, classified(("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED)), RAN, T0, "c4")
    assert held["resolution_status"].tolist() == [ResolutionStatus.RETRY_REQUESTED.value]
    assert held["retry_attempts"].tolist() == [1]


def test_store_tables_keep_the_original_column_names():
    names = {store.table.name: store.table.column_names for store in FAILURE_STORES}
    assert {"analysis_date", "expected_record_count", "actual_record_count"} <= set(names["analytics_failures"])
    assert {"expected_game_count", "missing_game_dates", "raw_data_checked"} <= set(names["precompute_failures"])
    assert {"prediction_date", "missing_upstream_tables", "cache_age_hours"} <= set(names["prediction_failures"])
    assert store_for(Phase.RAW) is store_for(Phase.ANALYTICS)
    for store in FAILURE_STORES:
        assert store.table.cluster_columns == ("processor_name", "failure_category", "can_retry")


@pytest.mark.parametrize("reruns", [3])
def test_writing_the_same_day_again_leaves_one_row_per_key(warehouse, reruns):
    incoming = classified(
        ("lebronjames", FailureCategory.REGISTRY_LOOKUP_FAILED), ("joelembiid", FailureCategory.INSUFFICIENT_DATA)
    )
    runs = pd.DataFrame({"processor_name": [PROCESSOR.name], "phase": [Phase.ANALYTICS.value], "analysis_date": [DAY]})
    end = DAY + dt.timedelta(days=1)
    snapshots = []
    for attempt in range(reruns):
        write_classified(warehouse, incoming, DAY, end, runs, f"classify-{attempt}")
        snapshots.append(warehouse.read(ANALYTICS_FAILURES, DAY, end).sort_values("failure_key", ignore_index=True))
    final = snapshots[-1]
    assert len(final) == 2 and final["failure_key"].is_unique
    assert final["occurrences"].tolist() == [reruns, reruns]
    stable = ["failure_key", "entity_id", "failure_category", "failure_type", "resolution_status", "first_seen_at", "created_at"]
    for snapshot in snapshots:
        pd.testing.assert_frame_equal(snapshot[stable], final[stable])

    write_classified(warehouse, incoming[incoming["entity_id"] == "joelembiid"], DAY, end, runs, "classify-fixed")
    after = warehouse.read(ANALYTICS_FAILURES, DAY, end).set_index("entity_id")
    assert len(after) == 2
    assert after.loc["lebronjames", "resolution_status"] == ResolutionStatus.RESOLVED.value
    assert pd.notna(after.loc["lebronjames", "resolved_at"])


def test_missing_upstream_failures_inherit_the_upstream_verdict_along_the_chain():
    def record(processor: str, category: FailureCategory, entity: str, upstream: str | None = None) -> pd.DataFrame:
        recorder = FailureRecorder(ProcessorSpec(processor, Phase.PRECOMPUTE, EntityType.PLAYER, PLAYER_GAME_SUMMARY), "run-1")
        recorder.record(DAY, entity, category, "why", upstream_table=upstream)
        return recorder.frame()

    failures = pd.concat(
        [
            record("player_daily_cache", FailureCategory.INSUFFICIENT_DATA, "rookie"),
            record("player_composite_factors", FailureCategory.MISSING_DATA, "rookie", "nba_precompute.player_daily_cache"),
            record("ml_feature_store", FailureCategory.UPSTREAM_INCOMPLETE, "rookie", "nba_precompute.player_composite_factors"),
            record("ml_feature_store", FailureCategory.UPSTREAM_INCOMPLETE, "veteran", "nba_precompute.player_composite_factors"),
        ],
        ignore_index=True,
    )
    result = classify_failures(failures, NO_EVIDENCE, lookback_days=14, min_history_games=5).set_index(
        ["processor_name", "entity_id"]
    )
    assert result.loc[("ml_feature_store", "rookie"), "failure_type"] == "INSUFFICIENT_HISTORY"
    assert result.loc[("player_composite_factors", "rookie"), "failure_type"] == "INSUFFICIENT_HISTORY"
    assert "player_composite_factors" in result.loc[("ml_feature_store", "rookie"), "classification_reason"]
    assert not result.loc[("ml_feature_store", "rookie"), "is_correctable"]
    # Nothing upstream explains the veteran's missing row: a gap that a rerun may fill.
    assert result.loc[("ml_feature_store", "veteran"), "failure_type"] == "DATA_GAP"
    assert "no failure recorded upstream" in result.loc[("ml_feature_store", "veteran"), "classification_reason"]


def test_merge_counts_add_up_and_log_as_counts_not_keys() -> None:
    total = MergeCounts(1, 2, 3, 0, frozenset({"a" * 24})) + MergeCounts(4, 0, 1, 1, frozenset({"b" * 24, "a" * 24}))
    assert (total.new, total.still_open, total.resolved, total.reopened) == (5, 2, 4, 1)
    assert total.failing_keys == {"a" * 24, "b" * 24}
    assert total.summary() == "store: 5 new, 2 still open, 4 resolved, 1 reopened"
