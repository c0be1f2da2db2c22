"""`nba-failures report`: the original system's verification queries over the failure store, as a CLI.

The store is read and viewed by `nba_failures.failures.views`; this module renders the views (table, json or
csv) and registers the command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys

import pandas as pd

from nba_failures.failures.records import FailureCategory, ResolutionStatus
from nba_failures.failures.views import build_report, read_store
from nba_failures.progress import stderr_progress

VIEWS = ("all", "distribution", "recent", "correctable", "permanent")
FORMATS = ("table", "json", "csv")


# A spreadsheet opening a CSV runs a cell starting with one of these as a formula: `=HYPERLINK(...)` in an
# entity id or failure reason (text that came from landed files) would become a live link or worse.
SPREADSHEET_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would take for a formula, prefixed with a single quote so they stay text."""
    neutralized = frame.copy()
    for column in neutralized.columns[neutralized.dtypes == object]:  # noqa: E721 (element-wise, on a Series of dtypes)
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
            progress=stderr_progress("reading failure store", "tables") if sys.stderr.isatty() or args.progress else None,
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
        help=(
            "failures in the store: distribution by processor and category, recent, correctable (and what they wait for), "
            "given up"
        ),
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
    report.add_argument(
        "--limit", type=int, default=20, help="rows of the recent/correctable/permanent lists (0 = all; default 20)"
    )
    report.add_argument("--format", choices=FORMATS, default="table")
    report.add_argument("--progress", action="store_true", help="report read progress on stderr even when it is not a terminal")
    report.set_defaults(handler=_run)
