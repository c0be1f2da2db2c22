"""The failure store: classified failures written once per key, with their lifecycle.

A classification run owns the slice (store table, analysis dates, processors that ran for them). The new
state of the slice is computed from the stored slice and the incoming failures by one pure function, and
written back as one replace (DuckDB: one transaction; BigQuery: one MERGE), so reruns never append:
a failure still present is updated in place, a new one inserted, one that is gone marked RESOLVED.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from nba_failures.failures.records import RETRIED_TYPES, FailureType, Phase, ResolutionStatus
from nba_failures.landing.contract import game_date_of
from nba_failures.progress import Progress
from nba_failures.tables.failures import ANALYTICS_FAILURES, PRECOMPUTE_FAILURES, PREDICTION_FAILURES
from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.schema import TableSpec, utc_timestamps

# Fields that describe the failure as last seen; everything else on a stored row is history.
_REFRESHED = (
    "processor_name", "phase", "run_id", "entity_id", "entity_type", "failure_category", "failure_reason", "failure_type",
    "classification_reason", "is_correctable", "expected_count", "actual_count", "missing_game_ids", "gap_game_ids",
    "gap_game_dates", "dnp_reasons", "can_retry", "upstream_table", "upstream_entity_id", "source_file", "source_line",
    "raw_data_checked", "cache_age_hours", "prerequisite_game_ids", "prerequisite_players", "root_failure_keys",
)  # fmt: skip
# What the retry sensor owns on a row; a classification run starts a new failure with none of it.
_RETRY_STATE = ("last_retry_run_id", "permanent_reason", "permanent_cause", "waiting_for", "prerequisites_state")


@dataclass(frozen=True)
class FailureStoreTable:
    """One store table, and how the canonical failure columns are named in it (the original's names)."""

    table: TableSpec
    phases: tuple[Phase, ...]
    date_column: str
    expected_column: str
    actual_column: str

    @property
    def _renames(self) -> dict[str, str]:
        return {"analysis_date": self.date_column, "expected_count": self.expected_column, "actual_count": self.actual_column}

    def to_table(self, canonical: pd.DataFrame) -> pd.DataFrame:
        frame = canonical.rename(columns=self._renames)
        if "missing_game_dates" in self.table.column_names:
            frame["missing_game_dates"] = frame["missing_game_ids"].map(lambda ids: [game_date_of(g) for g in ids])
        if "missing_upstream_tables" in self.table.column_names:
            frame["missing_upstream_tables"] = frame["upstream_table"]
        return frame

    def stored_columns(self, canonical: Sequence[str] | None) -> list[str] | None:
        """This table's names of the canonical columns it has (None: all of them)."""
        if canonical is None:
            return None
        return [name for name in (self._renames.get(column, column) for column in canonical) if name in self.table.column_names]

    def to_canonical(self, stored: pd.DataFrame) -> pd.DataFrame:
        frame = stored.rename(columns={table: canonical for canonical, table in self._renames.items()})
        for column in ("raw_data_checked", "cache_age_hours"):
            if column not in frame.columns:
                frame[column] = None
        return frame


FAILURE_STORES = (
    FailureStoreTable(
        ANALYTICS_FAILURES, (Phase.RAW, Phase.ANALYTICS), "analysis_date", "expected_record_count", "actual_record_count"
    ),
    FailureStoreTable(PRECOMPUTE_FAILURES, (Phase.PRECOMPUTE,), "analysis_date", "expected_game_count", "actual_game_count"),
    FailureStoreTable(PREDICTION_FAILURES, (Phase.PREDICTION,), "prediction_date", "expected_count", "actual_count"),
)


def store_for(phase: Phase) -> FailureStoreTable:
    return next(store for store in FAILURE_STORES if phase in store.phases)


def read_failures(
    warehouse: Warehouse,
    since: dt.date | None = None,
    until: dt.date | None = None,
    where_in: Mapping[str, Sequence] | None = None,
    progress: Progress | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of `[since, until)` of the three store tables as one canonical frame; `store_index` says which table
    each lives in. The window and the `IN` filters are the warehouse's bound parameters. `columns` (canonical
    names): only those are read, which spares a reader that needs no list column most of the read's time."""
    frames = []
    with warehouse.session():  # the three reads on one connection
        for index, store in enumerate(FAILURE_STORES):
            if progress:
                progress(index, len(FAILURE_STORES))
            stored = warehouse.read(store.table, since, until, where_in, store.stored_columns(columns))
            frames.append(store.to_canonical(stored).assign(store_index=index))
    if progress:
        progress(len(FAILURE_STORES), len(FAILURE_STORES))
    read_columns = list(dict.fromkeys(column for frame in frames for column in frame.columns))
    # A column with no value in one table (cache_age_hours of raw failures) says nothing about its type: left out
    # before the concat, so pandas takes the types from the tables that have values.
    present = [frame.drop(columns=[name for name in frame if _all_missing(frame[name])]) for frame in frames if len(frame)]
    if not present:
        return frames[0].reindex(columns=read_columns)
    return pd.concat(present, ignore_index=True).reindex(columns=read_columns)


def _all_missing(column: pd.Series) -> bool:
    """Whether a column of at least one row has no value: most have one in their first row, which settles it."""
    return bool(column.iloc[:1].isna().iat[0]) and not column.notna().any()


@dataclass(frozen=True)
class MergeCounts:
    new: int = 0
    still_open: int = 0
    resolved: int = 0
    reopened: int = 0
    # Keys of the rows left failing (not RESOLVED) in the written slices: what a run's input must match.
    failing_keys: frozenset[str] = frozenset()

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(
            self.new + other.new,
            self.still_open + other.still_open,
            self.resolved + other.resolved,
            self.reopened + other.reopened,
            self.failing_keys | other.failing_keys,
        )

    def summary(self) -> str:
        """The counts, for a log line (the failing keys can number thousands)."""
        return f"store: {self.new} new, {self.still_open} still open, {self.resolved} resolved, {self.reopened} reopened"


def initial_status(failure_type: str) -> str:
    return ResolutionStatus.EXPECTED.value if FailureType(failure_type).expected else ResolutionStatus.UNRESOLVED.value


def merge_failures(
    existing: pd.DataFrame, incoming: pd.DataFrame, ran: set[tuple[str, dt.date]], now: pd.Timestamp, dagster_run_id: str
) -> tuple[pd.DataFrame, MergeCounts]:
    """New state of a slice: `existing` stored rows (canonical), `incoming` classified failures of the rerun.

    A stored failure is resolved only if its processor ran again for its date (`ran`) without it: a
    processor that has not rerun yet says nothing about its old failures.
    """
    incoming = incoming.drop_duplicates("failure_key")
    old = existing.set_index("failure_key")
    new = incoming.set_index("failure_key")
    seen = new.index.intersection(old.index)
    fresh = new.index.difference(old.index)
    absent = old.loc[old.index.difference(new.index)]
    rerun = pd.Series(
        [(p, d) in ran for p, d in zip(absent["processor_name"], absent["analysis_date"])], index=absent.index, dtype=bool
    )
    gone = absent.index[rerun]
    untouched = absent.loc[~rerun]

    updated = old.loc[seen].copy()
    for column in _REFRESHED:
        updated[column] = new.loc[seen, column]
    was_resolved = updated["resolution_status"] == ResolutionStatus.RESOLVED.value
    expected_now = updated["failure_type"].map(lambda t: FailureType(t).expected)
    # The sensor's states hold while the failure is still one it reruns; re-typed (e.g. to BAD_INPUT), a
    # requested retry ends here instead of waiting forever for a rerun nobody will plan.
    status = updated["resolution_status"]
    held = (status == ResolutionStatus.PERMANENT.value) | (
        (status == ResolutionStatus.RETRY_REQUESTED.value) & updated["failure_type"].isin(RETRIED_TYPES)
    )
    updated["resolution_status"] = status.where(held, ResolutionStatus.UNRESOLVED.value)
    updated.loc[expected_now, "resolution_status"] = ResolutionStatus.EXPECTED.value
    updated["resolved_at"] = pd.NaT
    updated["last_seen_at"] = now
    updated["occurrences"] = updated["occurrences"] + 1
    updated["dagster_run_id"] = dagster_run_id

    inserted = new.loc[fresh].copy()
    inserted["resolution_status"] = inserted["failure_type"].map(initial_status)
    inserted["resolved_at"] = pd.NaT
    for column in ("created_at", "first_seen_at", "last_seen_at"):
        inserted[column] = now
    inserted["occurrences"] = 1
    inserted["retry_attempts"] = 0
    inserted["last_retry_at"] = pd.NaT
    for column in _RETRY_STATE:
        inserted[column] = None
    inserted["dagster_run_id"] = dagster_run_id

    kept = old.loc[gone].copy()
    kept["resolved_at"] = utc_timestamps(kept["resolved_at"])
    closing = kept["resolution_status"] != ResolutionStatus.RESOLVED.value
    kept.loc[closing, "resolution_status"] = ResolutionStatus.RESOLVED.value
    kept.loc[closing, "resolved_at"] = now
    kept.loc[closing, "dagster_run_id"] = dagster_run_id

    merged = pd.concat([frame for frame in (updated, inserted, kept, untouched) if len(frame)] or [updated], sort=False)
    merged = merged.reset_index()
    failing = frozenset(merged.loc[merged["resolution_status"] != ResolutionStatus.RESOLVED.value, "failure_key"])
    counts = MergeCounts(len(fresh), int((~was_resolved).sum()), int(closing.sum()), int(was_resolved.sum()), failing)
    return merged, counts


def write_classified(
    warehouse: Warehouse,
    classified: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    processor_runs: pd.DataFrame,
    dagster_run_id: str,
    now: pd.Timestamp | None = None,
) -> MergeCounts:
    """Merge `classified` into each store table's slice of `[start, end)` for the processors that ran.

    `processor_runs` rows (processor_name, phase, analysis_date) say which processor ran for which date.
    """
    now = now or pd.Timestamp.now(tz="UTC")
    # The store tables together: a run's failures are never half written across phases.
    with warehouse.transaction():
        return _merge_each_store(warehouse, classified, start, end, processor_runs, dagster_run_id, now)


def _merge_each_store(
    warehouse: Warehouse,
    classified: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    processor_runs: pd.DataFrame,
    dagster_run_id: str,
    now: pd.Timestamp,
) -> MergeCounts:
    total = MergeCounts()
    for store in FAILURE_STORES:
        runs = processor_runs[processor_runs["phase"].isin([phase.value for phase in store.phases])]
        if runs.empty:
            continue
        processors = sorted(set(runs["processor_name"]))
        ran = set(zip(runs["processor_name"], runs["analysis_date"]))
        incoming = classified[classified["processor_name"].isin(processors)]
        outcome: dict[str, MergeCounts] = {}

        def update(
            current: pd.DataFrame, store: FailureStoreTable = store, incoming: pd.DataFrame = incoming, ran: set = ran
        ) -> pd.DataFrame:
            merged, outcome["counts"] = merge_failures(store.to_canonical(current), incoming, ran, now, dagster_run_id)
            return store.to_table(merged)

        warehouse.update_slice(store.table, start, end, {"processor_name": processors}, update)
        total = total + outcome["counts"]
    return total
