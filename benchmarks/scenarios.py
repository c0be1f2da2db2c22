"""One benchmark scenario per child process: `python -m benchmarks.scenarios <name> [options]`.

A child of its own gives each scenario a fresh interpreter (the partitions are read from the landing
directory when `nba_failures` is imported, so a landing directory per process), and a peak memory of its own:
`resource.getrusage(RUSAGE_SELF).ru_maxrss` of the child at its end (peak resident set of the whole process,
interpreter and imports included). The parent sets NBA_FAILURES_LANDING_DIR and NBA_FAILURES_DUCKDB_PATH.
The result is one JSON line on stdout, prefixed with RESULT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Callable

RESULT_PREFIX = "RESULT "


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(function: Callable[[], object]) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def backfill(args: argparse.Namespace) -> dict:
    """Every asset, every partition of the landing directory, one run (`run_backfill`), ephemeral instance."""
    from dagster import DagsterInstance

    from nba_failures.backfill import run_backfill
    from nba_failures.partitions import daily_partitions

    keys = daily_partitions.get_partition_keys()
    with DagsterInstance.ephemeral() as instance:

        def run():
            return run_backfill(dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1]), instance=instance)

        result, wall, cpu = _timed(run)
        materializations = len(result.get_asset_materialization_events())
    return {
        "success": result.success,
        "partitions": len(keys),
        "materializations": materializations,
        "wall_s": wall,
        "cpu_s": cpu,
        "steps_s": _step_seconds(result),
    }


def _step_seconds(result) -> dict[str, float]:
    """Wall seconds of each step of a run (Dagster's own STEP_SUCCESS durations)."""
    return {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS" and event.step_key
    }


def day(args: argparse.Namespace) -> dict:
    """Rerun one daily partition in process, the season's history being present; `--repeat` runs, each timed."""
    from dagster import DagsterInstance, materialize

    from nba_failures.definitions import defs

    kept = list(defs.assets)
    partitioned = [a for a in kept if a.partitions_def is not None]
    runs: dict[str, list[tuple[float, float]]] = {"partitioned": [], "with_dashboard": []}
    with DagsterInstance.ephemeral() as instance:
        for _ in range(args.repeat):
            for label, assets in (("partitioned", partitioned), ("with_dashboard", kept)):
                result, wall, cpu = _timed(
                    lambda assets=assets: materialize(assets, instance=instance, resources=defs.resources, partition_key=args.day)
                )
                if not result.success:
                    raise RuntimeError(f"run of {args.day} failed")
                runs[label].append((wall, cpu))
    return {"day": args.day, "assets": len(partitioned), "runs": runs}


def classify(args: argparse.Namespace) -> dict:
    """Set-based classification of synthetic failures vs the per-entity query loop, on the season warehouse."""
    from benchmarks.entity_loop import classify_one_by_one
    from benchmarks.synthetic import synthetic_failures
    from nba_failures.classified.completeness import CompletenessChecker
    from nba_failures.partitions import daily_partitions
    from nba_failures.settings import duckdb_path
    from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(duckdb_path()))
    start = daily_partitions.start.date()
    end = daily_partitions.get_last_partition_window().end.date()
    checker = CompletenessChecker()
    sizes = [int(size) for size in args.sizes.split(",")]
    pool = synthetic_failures(warehouse, max(sizes), seed=8)
    results: dict[str, dict] = {}
    # One open connection, as classified_failures has in its step (and as the loop below has).
    with warehouse.session():
        for size in sizes:
            failures = pool.head(size).reset_index(drop=True)
            best = None
            for _ in range(args.repeat):
                evidence, read_wall, read_cpu = _timed(
                    lambda failures=failures: checker.evidence(warehouse, failures, start, end)
                )
                classified, wall, cpu = _timed(
                    lambda failures=failures, evidence=evidence: checker.classify_with(failures, evidence)
                )
                timing = {
                    "reads_wall_s": read_wall,
                    "reads_cpu_s": read_cpu,
                    "classify_wall_s": wall,
                    "classify_cpu_s": cpu,
                    "total_wall_s": read_wall + wall,
                    "total_cpu_s": read_cpu + cpu,
                }
                if best is None or timing["total_wall_s"] < best["total_wall_s"]:
                    best = timing
            best["types"] = classified["failure_type"].value_counts().to_dict()
            results[str(size)] = best
    loop_failures = pool.head(args.loop_size).reset_index(drop=True)
    (verdicts, queries), loop_wall, loop_cpu = _timed(
        lambda: classify_one_by_one(str(duckdb_path()), loop_failures, checker.lookback_days, checker.min_history_games)
    )
    set_based = checker.classify(warehouse, loop_failures, start, end)
    agreement = verdicts.merge(set_based.loc[:, ["failure_key", "failure_type"]], on="failure_key", suffixes=("_loop", "_set"))
    return {
        "sizes": results,
        "loop": {
            "failures": args.loop_size,
            "queries": queries,
            "wall_s": loop_wall,
            "cpu_s": loop_cpu,
            "agreement": float((agreement["failure_type_loop"] == agreement["failure_type_set"]).mean()),
        },
    }


SCENARIOS = {"backfill": backfill, "day": day, "classify": classify}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenarios")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--day", default="2023-01-15")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--loop-size", type=int, default=1000)
    args = parser.parse_args(argv)
    for name in ("NBA_FAILURES_LANDING_DIR", "NBA_FAILURES_DUCKDB_PATH"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} must be set (the parent, benchmarks/run.py, sets it)")
    outcome = SCENARIOS[args.scenario](args)
    outcome["peak_rss_mb"] = _peak_rss_mb()
    print(RESULT_PREFIX + json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
