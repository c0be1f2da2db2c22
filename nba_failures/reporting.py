"""`nba-failures report`: the original system's verification queries over the failure store, as a CLI.

One reader (`read_store`) turns the three store tables into one canonical frame, with every filter sent
to the warehouse as `where_in` / date-window parameters (no SQL strings), so the same code runs on DuckDB
and BigQuery. Everything after that is a pure function of DataFrames: `distribution` (failures by
processor and category), `recent_failures`, `correctable_failures` (the original's view of the same
name) and `render` (table, json or csv).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from nba_failures.failures.records import OPEN_STATUSES, FailureCategory, FailureType, ResolutionStatus
from nba_failures.failures.store import FAILURE_STORES
from nba_failures.warehouse.base import Warehouse

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
    status = failures["resolution_status"]
    is_open = status.isin(OPEN_STATUSES)
    outcomes = {
        "expected": status == ResolutionStatus.EXPECTED.value,
        "fixed": status == ResolutionStatus.RESOLVED.value,
        "given_up": status == ResolutionStatus.PERMANENT.value,
        "to_fix": is_open & failures["is_correctable"].astype(bool),
        "bad_input": is_open & (failures["failure_type"] == FailureType.BAD_INPUT.value),
    }
    return pd.Series(np.select(list(outcomes.values()), list(outcomes), default="other_open"), index=failures.index)


VIEWS = ("all", "distribution", "recent", "correctable", "permanent")
FORMATS = ("table", "json", "csv")

Progress = Callable[[int, int, str], None]


def empty_store_frame() -> pd.DataFrame:
    return normalize(pd.DataFrame({column: pd.Series(dtype=object) for column in STORE_COLUMNS}))


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Types every consumer can rely on: dates as datetime64 (midnight), timestamps UTC, counts as ints."""
    frame = frame.copy()
    frame["analysis_date"] = pd.to_datetime(frame["analysis_date"])
    for column in TIMESTAMP_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True)
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
    frames = []
    for done, store in enumerate(FAILURE_STORES, start=1):
        if progress:
            progress(done - 1, len(FAILURE_STORES), store.table.qualified_name)
        stored = warehouse.read(store.table, since, until, where_in or None)
        if len(stored):
            frame = store.to_canonical(stored)
            frame["store_table"] = store.table.qualified_name
            frames.append(frame[list(STORE_COLUMNS)])
    if progress:
        progress(len(FAILURE_STORES), len(FAILURE_STORES), "done")
    if not frames:
        return empty_store_frame()
    return normalize(pd.concat(frames, ignore_index=True))


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


# A spreadsheet opening a CSV runs a cell starting with one of these as a formula: `=HYPERLINK(...)` in an
# entity id or failure reason (text that came from landed files) would become a live link or worse.
SPREADSHEET_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would take for a formula, prefixed with a single quote so they stay text."""
    neutralized = frame.copy()
    for column in neutralized.columns[neutralized.dtypes == object]:
        neutralized[column] = neutralized[column].map(
            lambda value: "'" + value if isinstance(value, str) and value.startswith(SPREADSHEET_FORMULA_STARTS) else value
        )
    return neutralized


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def render(sections: dict[str, pd.DataFrame], fmt: str, total: int, filters: dict[str, object] | None = None) -> str:
    """`table` for people, `json` (one object: filters, total, one list per section) or `csv` (one section, safe to
    open in a spreadsheet: text cells that would run as formulas are neutralized)."""
    if fmt == "json":
        payload = {"filters": filters or {}, "total_failures": total}
        payload.update({name: _records(frame) for name, frame in sections.items()})
        return json.dumps(payload, indent=2, default=str)
    if fmt == "csv":
        if len(sections) != 1:
            raise ValueError("csv holds one section: pass --view distribution, recent, correctable or permanent")
        buffer = io.StringIO()
        # CRLF rows (RFC 4180): the writer then quotes any cell holding a CR or LF, so a stray CR in a reason
        # cannot start a new row whose first cell a spreadsheet would evaluate.
        neutralize_formulas(next(iter(sections.values()))).to_csv(buffer, index=False, lineterminator="\r\n")
        return buffer.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: expected one of {FORMATS}")
    titles = {
        "distribution": "Failures by processor and category",
        "recent": "Recent failures",
        "correctable": "Open correctable failures (DATA_GAP / MIXED) and what each waits for",
        "permanent": "Failures given up on (RETRIES_EXHAUSTED: reruns with the data present kept failing; DATA_NEVER_ARRIVED)",
    }
    out = [f"failures in the store matching the filters: {total}"]
    for name, frame in sections.items():
        out.append(f"\n{titles[name]} ({len(frame)} rows)")
        if frame.empty:
            out.append("(none)")
            continue
        shown = frame.copy()
        for text in ("failure_reason", "waiting_for", "permanent_reason"):
            if text in shown:
                shown[text] = shown[text].fillna("").str.slice(0, 70)
        out.append(shown.to_string(index=False))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- CLI


def _stderr_progress() -> Progress:
    """One updating line on a terminal, one line per table otherwise; the total time at the end."""
    began = time.perf_counter()
    terminal = sys.stderr.isatty()

    def report(done: int, total: int, label: str) -> None:
        line = f"reading failure store: {done}/{total} tables"
        line += f" ({label})" if done < total else f" in {time.perf_counter() - began:.1f}s"
        if terminal:
            print(f"\r{line:<90}", end="" if done < total else "\n", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    return report


def _run(args: argparse.Namespace) -> int:
    from nba_failures.backfill import configured_warehouse

    view = args.view or ("distribution" if args.format == "csv" else "all")
    if args.format == "csv" and view == "all":
        print("--format csv holds one section: pass --view distribution, recent, correctable or permanent", file=sys.stderr)
        return 2
    with configured_warehouse() as warehouse:
        frame = read_store(
            warehouse,
            since=args.since,
            processors=args.processor,
            categories=args.category,
            statuses=args.status,
            progress=_stderr_progress() if sys.stderr.isatty() or args.progress else None,
        )
    filters = {
        "since": args.since.isoformat() if args.since else None,
        "processor": args.processor,
        "category": args.category,
        "status": args.status,
    }
    limit = None if args.limit == 0 else args.limit
    sys.stdout.write(render(build_report(frame, view, limit), args.format, len(frame), filters))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `report` on the `nba-failures` parser."""
    report = subparsers.add_parser(
        "report",
        help="failures in the store: distribution by processor and category, recent, correctable (and what they wait for), given up",
        description="The verification queries over nba_processing.*_failures, on DuckDB or BigQuery (NBA_FAILURES_WAREHOUSE).",
    )
    report.add_argument("--since", type=dt.date.fromisoformat, help="first analysis date (YYYY-MM-DD)")
    report.add_argument("--processor", action="append", default=[], help="processor name (repeatable)")
    report.add_argument(
        "--category", action="append", default=[], type=str.upper, choices=[c.value for c in FailureCategory], metavar="CATEGORY",
        help="failure category (repeatable)",
    )  # fmt: skip
    report.add_argument(
        "--status", action="append", default=[], type=str.upper, choices=[s.value for s in ResolutionStatus], metavar="STATUS",
        help="resolution status (repeatable): " + ", ".join(s.value for s in ResolutionStatus),
    )  # fmt: skip
    report.add_argument("--view", choices=VIEWS, help="section to print (default: all; csv default: distribution)")
    report.add_argument("--limit", type=int, default=20, help="rows of the recent/correctable/permanent lists (0 = all; default 20)")
    report.add_argument("--format", choices=FORMATS, default="table")
    report.add_argument("--progress", action="store_true", help="report read progress on stderr even when it is not a terminal")
    report.set_defaults(handler=_run)
