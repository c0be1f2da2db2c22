"""`nba-failures scenario make|deliver`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from nba_failures.scenarios.faults import FaultCounts, FaultKind


def _make(args: argparse.Namespace) -> int:
    from nba_failures.progress import stderr_progress
    from nba_failures.scenarios.make import make_scenario
    from nba_failures.scenarios.truth import GROUND_TRUTH_FILE

    counts = FaultCounts(**{kind.value: getattr(args, kind.value) for kind in FaultKind})
    try:
        truth = make_scenario(
            Path(args.out), args.seed, counts, args.start, args.end, progress=stderr_progress("writing", "game files")
        )
    except ValueError as error:
        print(f"scenario make: {error}", file=sys.stderr)
        return 2
    faults = Counter(fault.fault_kind.value for fault in truth.faults)
    print(f"scenario {args.out} (seed {truth.seed}, faults in {truth.start} .. {truth.end}): "
          + ", ".join(f"{faults[kind.value]} {kind.value}" for kind in FaultKind))  # fmt: skip
    print(f"{len(truth.expected_failures)} expected failures in {Path(args.out) / GROUND_TRUTH_FILE}")
    return 0


def _deliver(args: argparse.Namespace) -> int:
    from nba_failures.scenarios.deliver import deliver_scenario

    delivery = deliver_scenario(Path(args.dir), args.until_hours)
    print(f"landed {len(delivery.landed_files)} late game files, re-added {len(delivery.registry_fixes)} players to the registry "
          f"({len(delivery.already_delivered)} already delivered, {len(delivery.not_yet_due)} not yet due, "
          f"{len(delivery.never_arriving)} never arrive)")  # fmt: skip
    for path in delivery.landed_files:
        print(f"  landed {path}")
    for lookup in delivery.registry_fixes:
        print(f"  registry: {lookup}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `scenario make` and `scenario deliver` on the top-level command parser."""
    scenario = subparsers.add_parser("scenario", help="seeded fault scenarios on the real season")
    commands = scenario.add_subparsers(dest="scenario_command", required=True)

    make = commands.add_parser("make", help="a landing directory with seeded faults and ground_truth.json")
    make.add_argument("--seed", type=int, required=True, help="same seed, same scenario (byte for byte)")
    make.add_argument("--out", required=True, help="scenario (landing) directory to write; replaced if it exists")
    make.add_argument("--start", type=dt.date.fromisoformat, help="first game date to place faults on (default: season start)")
    make.add_argument(
        "--end", type=dt.date.fromisoformat, help="last game date to place faults on, inclusive (default: season end)"
    )
    defaults = FaultCounts()
    for kind in FaultKind:
        make.add_argument(f"--{kind.value.replace('_', '-')}", dest=kind.value, type=int,
                          default=getattr(defaults, kind.value), metavar="N",
                          help=f"number of {kind.value} faults (default {getattr(defaults, kind.value)})")  # fmt: skip
    make.set_defaults(handler=_make)

    deliver = commands.add_parser("deliver", help="land the held-back files and apply the registry fixes")
    deliver.add_argument("dir", help="scenario directory made by `scenario make`")
    deliver.add_argument("--until-hours", type=float, help="deliver only the fixes due by then (default: all of them)")
    deliver.set_defaults(handler=_deliver)
