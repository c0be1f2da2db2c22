"""`nba-failures`: build landing directories, run backfills, print failure summaries."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path


def _progress(label: str):
    def report(done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            print(f"\r{label}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

    return report


def _landing_build(args: argparse.Namespace) -> int:
    from nba_failures.landing.build import build_landing_from_bundle

    games = build_landing_from_bundle(Path(args.out), progress=_progress("game files"))
    print(f"landing directory {args.out}: {games} game files, schedule, registry")
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from nba_failures.backfill import run_backfill
    from nba_failures.partitions import daily_partitions

    keys = daily_partitions.get_partition_keys()
    start = args.start or dt.date.fromisoformat(keys[0])
    last = args.end or dt.date.fromisoformat(keys[-1])
    print(f"backfilling every asset for {start} .. {last} in one run", file=sys.stderr)
    began = time.perf_counter()
    result = run_backfill(start, last, selection=args.select)
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} in {time.perf_counter() - began:.1f}s", file=sys.stderr)
    _summary(args)
    return 0 if result.success else 1


def _summary(args: argparse.Namespace) -> int:
    from nba_failures.backfill import configured_warehouse, failure_summary

    with configured_warehouse() as warehouse:
        summary = failure_summary(warehouse)
    print("\nFailures per processor and category (stored, not resolved; by failure type)")
    print(summary.to_string(index=False) if not summary.empty else "(none)")
    total = int(summary["failures"].sum()) if not summary.empty else 0
    correctable = int(summary["correctable"].sum()) if not summary.empty else 0
    print(f"total: {total} failures, {correctable} correctable")
    return 0


def _docs_tables(args: argparse.Namespace) -> int:
    from nba_failures.catalog import readme_with_tables, tables_markdown

    if args.readme:
        args.readme.write_text(readme_with_tables(args.readme.read_text()))
    else:
        print(tables_markdown())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nba-failures", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    landing = commands.add_parser("landing", help="landing directories").add_subparsers(dest="landing_command", required=True)
    build = landing.add_parser("build", help="lay the bundled real season out as a landing directory")
    build.add_argument("--out", required=True)
    build.set_defaults(handler=_landing_build)

    backfill = commands.add_parser("backfill", help="materialize every asset for a date range in one run, then summarize")
    backfill.add_argument("--start", type=dt.date.fromisoformat, help="first day (default: season start)")
    backfill.add_argument("--end", type=dt.date.fromisoformat, help="last day, inclusive (default: season end)")
    backfill.add_argument("--select", help="Dagster asset selection (default: every asset)")
    backfill.set_defaults(handler=_backfill)

    summary = commands.add_parser("summary", help="print failures per processor and category")
    summary.set_defaults(handler=_summary)

    docs = commands.add_parser("docs", help="documentation generated from the code").add_subparsers(dest="docs_command", required=True)
    tables = docs.add_parser("tables", help="markdown of every warehouse table, from the one schema definition")
    tables.add_argument("--readme", type=Path, help="rewrite the generated table section of this README in place")
    tables.set_defaults(handler=_docs_tables)

    from nba_failures import reporting

    reporting.add_commands(commands)
    from nba_failures.scenarios import cli as scenarios_cli

    scenarios_cli.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
