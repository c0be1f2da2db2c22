"""`nba-failures`: build landing directories, run backfills, print failure summaries."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import logging
import os
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nba_failures.warehouse.base import Warehouse


def _landing_build(args: argparse.Namespace) -> int:
    from nba_failures.landing.build import build_landing_from_bundle
    from nba_failures.progress import stderr_progress

    games = build_landing_from_bundle(Path(args.out), progress=stderr_progress("writing", "game files"))
    print(f"landing directory {args.out}: {games} game files, schedule, registry")
    return 0


def _quiet() -> None:
    """Keep Dagster's event stream, its warnings and third-party warnings off the console (`--verbose` shows them)."""
    warnings.simplefilter("ignore")
    logging.getLogger("dagster").setLevel(logging.ERROR)


def _telemetry_notice() -> None:
    """Dagster prints a 20-line telemetry notice the first time it runs in a DAGSTER_HOME: say it in one line."""
    from dagster_shared import telemetry

    if not telemetry.get_telemetry_enabled_from_dagster_yaml():
        return
    notice = io.StringIO()
    with contextlib.redirect_stderr(notice):
        telemetry.get_or_set_instance_id()  # prints the notice when it creates the id
    if notice.getvalue():
        print(
            "note: Dagster keeps anonymized usage statistics for this instance; opt out with 'telemetry: enabled: false' "
            f"in {os.environ['DAGSTER_HOME']}/dagster.yaml",
            file=sys.stderr,
        )


def _step_printer():
    """One line per finished step: its number, name and time; a failure's message under it."""
    from nba_failures.backfill import StepEvent

    started: dict[str, float] = {}

    def report(event: StepEvent) -> None:
        if event.event_type == "STEP_START":
            started[event.step_key] = time.perf_counter()
            return
        took = time.perf_counter() - started.get(event.step_key, time.perf_counter())
        width = len(str(event.total_steps))
        outcome = "done" if event.event_type == "STEP_SUCCESS" else "FAILED"
        line = f"[{len(started):>{width}}/{event.total_steps}] {event.step_key:<34} {outcome} in {took:.1f}s"
        print(line, file=sys.stderr, flush=True)
        if event.error:
            print(textwrap.indent(event.error, "      "), file=sys.stderr, flush=True)

    return report


def _backfill(args: argparse.Namespace) -> int:
    if not args.verbose:
        _quiet()
    from nba_failures.backfill import backfill_warehouse, run_backfill
    from nba_failures.instance import dagster_home, dagster_instance
    from nba_failures.partitions import daily_partitions

    keys = daily_partitions.get_partition_keys()
    start = args.start or dt.date.fromisoformat(keys[0])
    last = args.end or dt.date.fromisoformat(keys[-1])
    dagster_home()
    if not args.verbose:
        _telemetry_notice()
    instance = dagster_instance()
    print(f"backfilling {'every asset' if not args.select else args.select} for {start} .. {last} in one run", file=sys.stderr)
    began = time.perf_counter()
    on_step = None if args.verbose else _step_printer()
    with backfill_warehouse(instance) as warehouse:  # the run's steps and the summary in one session where safe
        result = run_backfill(start, last, instance=instance, selection=args.select, on_step=on_step, raise_on_error=False)
        print(
            f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} in {time.perf_counter() - began:.1f}s",
            file=sys.stderr,
        )
        _print_summary(warehouse)
    return 0 if result.success else 1


def _summary(args: argparse.Namespace) -> int:
    from nba_failures.backfill import configured_warehouse

    with configured_warehouse() as warehouse:
        _print_summary(warehouse)
    return 0


def _print_summary(warehouse: Warehouse) -> None:
    from nba_failures.backfill import OUTCOMES, failure_summary

    summary = failure_summary(warehouse)
    print("\nFailures per processor and category in the store, by what they mean")
    print(summary.to_string(index=False) if not summary.empty else "(none)")
    totals = summary[[name for name, _ in OUTCOMES]].sum() if not summary.empty else {name: 0 for name, _ in OUTCOMES}
    print(f"\n{int(summary['failures'].sum()) if not summary.empty else 0} failures:")
    for name, meaning in OUTCOMES:
        print(f"  {int(totals[name]):>7}  {name.replace('_', ' '):<10} {meaning}")


def _replay(args: argparse.Namespace) -> int:
    _quiet()
    import pandas as pd

    from nba_failures import settings
    from nba_failures.backfill import configured_warehouse
    from nba_failures.failures.store import read_failures
    from nba_failures.instance import dagster_instance
    from nba_failures.scenarios import replay
    from nba_failures.scenarios.faults import GameFileFault
    from nba_failures.scenarios.truth import load_ground_truth

    landing = args.landing or os.environ.get(settings.LANDING_DIR_ENV)
    if not landing:
        print(f"replay: name the daemon's landing directory (--landing or {settings.LANDING_DIR_ENV}); it is replaced",
              file=sys.stderr)  # fmt: skip
        return 2
    landing = Path(landing)
    days = replay.prepare_replay(landing, args.seed, args.start, args.end)
    events = replay.replay_timeline(days, load_ground_truth(landing))
    span = events[-1].at_hours
    print(f"replaying {len(days)} game days ({days[0]} .. {days[-1]}, seed {args.seed}) into {landing} at {args.speed:g}x: "
          f"{len(events)} landings over {span:.0f} simulated hours, {span * 3600 / args.speed:.0f} s", flush=True)  # fmt: skip

    def landed_line(item: replay.Landed) -> None:
        fault = item.event.fault
        what = fault.file if isinstance(fault, GameFileFault) else fault.player_lookup if fault else ""
        print(f"  {item.at:%H:%M:%S}  +{item.event.at_hours:5.0f} h  {item.event.kind:<12} {item.event.day}  {what}", flush=True)

    landed = replay.run_replay(landing, events, args.speed, on_event=landed_line)
    instance = dagster_instance()
    classified = replay.wait_until_classified(instance, landed, args.settle_seconds)
    quiet = replay.wait_until_quiet(instance, args.settle_seconds, quiet_seconds=3 * settings.sensor_interval_seconds())
    fresh = replay.freshness(instance, landed, args.speed)
    print("\nfreshness: game files landed -> that day's failures classified and stored")
    clock = {column: lambda at: f"{at:%H:%M:%S}" if pd.notna(at) else "not yet" for column in ("landed_at", "classified_at")}
    print(fresh.to_string(index=False, formatters=clock, float_format="{:.1f}".format))
    measured = fresh["seconds"].dropna()
    if len(measured):
        simulated = measured * args.speed / 3600
        print(f"median {measured.median():.1f} s, max {measured.max():.1f} s "
              f"({simulated.median():.1f} / {simulated.max():.1f} simulated hours)")  # fmt: skip
    with configured_warehouse() as warehouse:
        store = read_failures(warehouse)
    print("\nthe replayed days' failures by resolution status and category")
    print(replay.healed(store, days).to_string(index=False))
    if not (classified and quiet):
        print(f"replay: the daemon had not caught up after {args.settle_seconds:g} s (is it running?)", file=sys.stderr)
        return 1
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
    backfill.add_argument(
        "--verbose", action="store_true", help="print Dagster's event stream and warnings instead of one line per step"
    )
    backfill.set_defaults(handler=_backfill)

    summary = commands.add_parser("summary", help="print failures per processor and category, by what they mean")
    summary.set_defaults(handler=_summary)

    replay = commands.add_parser(
        "replay", help="land a seeded season day by day on an accelerated clock for a running daemon, then report"
    )
    replay.add_argument("--speed", type=float, required=True, help="simulated seconds per real second (3600: a day every 24 s)")
    replay.add_argument("--landing", help="the daemon's landing directory, replaced (default: $NBA_FAILURES_LANDING_DIR)")
    replay.add_argument("--seed", type=int, default=7, help="scenario seed: which files are late or missing, rows malformed")
    replay.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 9), help="first game day (2023-01-09)")
    replay.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2023, 1, 18), help="last game day (2023-01-18)")
    replay.add_argument("--settle-seconds", type=float, default=600, help="how long to wait for the daemon (default 600)")
    replay.set_defaults(handler=_replay)

    docs = commands.add_parser("docs", help="documentation generated from the code").add_subparsers(
        dest="docs_command", required=True
    )
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
