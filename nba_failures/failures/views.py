"""The failure store as people read it: one canonical frame of the three store tables, and views of it.

`read_store` sends every filter to the warehouse as `where_in` / date-window parameters (no SQL strings), so
the same code runs on DuckDB and BigQuery. Everything after that is a pure function of DataFrames:
`outcome_of` (what each failure means for whoever reads it), `distribution` (failures by processor and
category), `recent_failures`, `correctable_failures` (the original's view of that name, with what each waits
for) and `permanent_failures` (with why each was given up). The CLI's `report` and the dashboard both use them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nba_failures.failures.records import OPEN_STATUSES, FailureType, ResolutionStatus
from nba_failures.failures.store import FAILURE_STORES, read_failures
from nba_failures.frames import by_distinct_value
from nba_failures.progress import Progress
from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.schema import utc_timestamps

# The canonical store columns every report and the dashboard read (date as `analysis_date` in all three).
STORE_COLUMNS = (
    "store_table", "failure_key", "processor_name", "phase", "run_id", "analysis_date", "entity_id", "entity_type",
    "failure_category", "failure_reason", "failure_type", "classification_reason", "is_correctable", "can_retry",
    "expected_count", "actual_count", "resolution_status", "resolved_at", "created_at", "first_seen_at", "last_seen_at",
    "occurrences", "retry_attempts", "last_retry_at", "permanent_reason", "permanent_cause", "waiting_for",
)  # fmt: skip
TIMESTAMP_COLUMNS = ("resolved_at", "created_at", "first_seen_at", "last_seen_at", "last_retry_at")
RECENT_COLUMNS = (
    "analysis_date", "processor_name", "entity_type", "entity_id", "failure_category", "failure_type",
    "resolution_status", "retry_attempts", "failure_reason",
)  # fmt: skip
DISTRIBUTION_COLUMNS = (
    "phase", "processor_name", "failure_category", "failures", "correctable", "open", "resolved", "permanent", "expected",
    "first_date", "last_date",
)  # fmt: skip
# What the open correctable ones wait for, and why the given-up ones were given up (the two causes apart).
CORRECTABLE_COLUMNS = (
    "analysis_date", "processor_name", "entity_type", "entity_id", "failure_category", "failure_type", "resolution_status",
    "retry_attempts", "waiting_for",
)  # fmt: skip
PERMANENT_COLUMNS = (
    "analysis_date", "processor_name", "entity_type", "entity_id", "failure_category", "failure_type", "retry_attempts",
    "permanent_cause", "permanent_reason",
)  # fmt: skip
# What each failure means for whoever reads the summary, in print order: (column, explanation).
OUTCOMES = (
    ("expected", "describe reality, nothing to do: players who did not play, too little history early in the season"),
    ("to_fix", "correctable and open: data our pipeline lacks; the retry sensor reruns them once it has landed"),
    ("bad_input", "the delivered input is wrong (unparsable row, bad file, totals that disagree): needs a corrected delivery"),
    ("other_open", "open and neither of those (the check could not run, or a stale failure a rerun clears)"),
    ("given_up", "PERMANENT: retried the most times allowed with the data there, or its data never arrived in time"),
    ("fixed", "resolved: a later run no longer found them"),
)


def outcome_of(failures: pd.DataFrame) -> pd.Series:
    """Each stored failure's outcome, one of `OUTCOMES`."""
    # Statuses and types are compared once per distinct value (a few), not row by row.
    status = by_distinct_value(
        failures["resolution_status"],
        lambda statuses: pd.DataFrame(
            {
                "open": statuses.isin(OPEN_STATUSES),
                "expected": statuses == ResolutionStatus.EXPECTED.value,
                "fixed": statuses == ResolutionStatus.RESOLVED.value,
                "given_up": statuses == ResolutionStatus.PERMANENT.value,
            }
        ),
    )
    bad_input = by_distinct_value(failures["failure_type"], lambda types: types == FailureType.BAD_INPUT.value)
    is_open = status["open"].to_numpy()
    outcomes = {
        "expected": status["expected"].to_numpy(),
        "fixed": status["fixed"].to_numpy(),
        "given_up": status["given_up"].to_numpy(),
        "to_fix": is_open & failures["is_correctable"].astype(bool).to_numpy(),
        "bad_input": is_open & bad_input.to_numpy(),
    }
    names = np.array([*outcomes, "other_open"], dtype=object)
    chosen = np.select(list(outcomes.values()), range(len(outcomes)), default=len(outcomes))
    return pd.Series(names[chosen], index=failures.index)


def empty_store_frame() -> pd.DataFrame:
    return normalize(pd.DataFrame({column: pd.Series(dtype=object) for column in STORE_COLUMNS}))


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Types every consumer can rely on: dates as datetime64 (midnight), timestamps UTC, counts as ints."""
    frame = frame.copy()
    frame["analysis_date"] = pd.to_datetime(frame["analysis_date"])
    for column in TIMESTAMP_COLUMNS:
        frame[column] = utc_timestamps(frame[column])
    for column in ("retry_attempts", "occurrences"):
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
    for column in ("is_correctable", "can_retry"):
        frame[column] = frame[column].astype("boolean").fillna(False).astype(bool)
    return frame


def read_store(
    warehouse: Warehouse,
    since: dt.date | None = None,
    until: dt.date | None = None,
    processors: Sequence[str] = (),
    categories: Sequence[str] = (),
    statuses: Sequence[str] = (),
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Every classified failure of `[since, until)` in the three store tables, as one canonical frame.

    The date window and the `IN` filters are the warehouse's bound parameters; nothing is read twice.
    """
    where_in = {
        column: list(values)
        for column, values in (("processor_name", processors), ("failure_category", categories), ("resolution_status", statuses))
        if values
    }
    failures = read_failures(warehouse, since, until, where_in or None, progress, columns=STORE_COLUMNS)
    if failures.empty:
        return empty_store_frame()
    tables = [store.table.qualified_name for store in FAILURE_STORES]
    return normalize(failures.assign(store_table=failures["store_index"].map(tables.__getitem__))[list(STORE_COLUMNS)])


def filter_failures(
    frame: pd.DataFrame,
    since: dt.date | None = None,
    processors: Sequence[str] = (),
    categories: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> pd.DataFrame:
    """The same filters as `read_store`, on a frame already read (the dashboard's drill-downs use it)."""
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= frame["analysis_date"] >= pd.Timestamp(since)
    for column, values in (("processor_name", processors), ("failure_category", categories), ("resolution_status", statuses)):
        if values:
            keep &= frame[column].isin(list(values))
    return frame[keep]


def distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures per processor and category, with how many are correctable, open, resolved, permanent, expected."""
    if frame.empty:
        return pd.DataFrame(columns=list(DISTRIBUTION_COLUMNS))
    status = frame["resolution_status"]
    counted = frame.assign(
        failures=1,
        correctable=frame["is_correctable"].astype(int),
        open=status.isin(OPEN_STATUSES).astype(int),
        resolved=(status == ResolutionStatus.RESOLVED.value).astype(int),
        permanent=(status == ResolutionStatus.PERMANENT.value).astype(int),
        expected=(status == ResolutionStatus.EXPECTED.value).astype(int),
    )
    grouped = counted.groupby(["phase", "processor_name", "failure_category"], as_index=False).agg(
        failures=("failures", "sum"),
        correctable=("correctable", "sum"),
        open=("open", "sum"),
        resolved=("resolved", "sum"),
        permanent=("permanent", "sum"),
        expected=("expected", "sum"),
        first_date=("analysis_date", "min"),
        last_date=("analysis_date", "max"),
    )
    grouped["first_date"] = grouped["first_date"].dt.date
    grouped["last_date"] = grouped["last_date"].dt.date
    return grouped.sort_values(["phase", "processor_name", "failures"], ascending=[True, True, False], ignore_index=True)[
        list(DISTRIBUTION_COLUMNS)
    ]


def recent_failures(frame: pd.DataFrame, limit: int | None = 20, columns: Sequence[str] = RECENT_COLUMNS) -> pd.DataFrame:
    """The latest failures: newest analysis date first, then the most recently seen."""
    ordered = frame.sort_values(
        ["analysis_date", "last_seen_at", "processor_name", "entity_id"], ascending=[False, False, True, True]
    )
    if limit is not None:
        ordered = ordered.head(limit)
    recent = ordered[list(columns)].reset_index(drop=True)
    recent["analysis_date"] = recent["analysis_date"].dt.date
    return recent


def correctable_failures(frame: pd.DataFrame, limit: int | None = 20) -> pd.DataFrame:
    """The original's `correctable_failures` view: correctable and still open (what a rerun can fix), with what
    each still waits for (nothing: a rerun is due or under way)."""
    still_open = frame[frame["is_correctable"] & frame["resolution_status"].isin(OPEN_STATUSES)]
    return recent_failures(still_open, limit, CORRECTABLE_COLUMNS)


def permanent_failures(frame: pd.DataFrame, limit: int | None = 20) -> pd.DataFrame:
    """Failures given up on, with the cause: reruns with the data present kept failing, or the data never arrived."""
    given_up = frame[frame["resolution_status"] == ResolutionStatus.PERMANENT.value]
    return recent_failures(given_up, limit, PERMANENT_COLUMNS)


def build_report(frame: pd.DataFrame, view: str = "all", limit: int | None = 20) -> dict[str, pd.DataFrame]:
    """The sections of one report, by name, in print order."""
    sections = {
        "distribution": lambda: distribution(frame),
        "recent": lambda: recent_failures(frame, limit),
        "correctable": lambda: correctable_failures(frame, limit),
        "permanent": lambda: permanent_failures(frame, limit),
    }
    names = list(sections) if view == "all" else [view]
    return {name: sections[name]() for name in names}
