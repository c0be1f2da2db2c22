"""Whole commands, timed as a user runs them, and where their time went by the run's events in DAGSTER_HOME.

A command runs as a subprocess; its wall time is from just before the process starts to its exit, so the
interpreter, the imports, run planning, Dagster's event storage and the printed summary are all in it. The
lines it writes to stderr are timestamped as they arrive: the CLI's own lines mark where start-up ends and
where the run returned. After it exits, the run's events in the DAGSTER_HOME instance (SQLite)
give the rest: when the run was created (its first event, the planned materializations), started, each step
and when it succeeded. The event storage's share is measured in one extra, untimed run of the same command
with a clock on the storage's writes (`benchmarks.storage_probe`).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.storage_probe import PROBE_PREFIX


@dataclass
class CommandTiming:
    """One whole-process run of a command: epoch seconds at launch and exit, its CPU seconds and peak memory
    (of the process and every child it waited for), and its stderr lines as they arrived."""

    launched: float
    exited: float
    cpu_s: float
    peak_rss_mb: float
    lines: list[tuple[float, str]] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return self.exited - self.launched

    def line_time(self, starts_with: str) -> float | None:
        return next((at for at, line in self.lines if line.startswith(starts_with)), None)


def time_command(command: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> CommandTiming:
    """Run `command`, stdout and stderr to `log` (stderr lines timestamped on arrival); fail on a non-zero exit."""
    lines: list[tuple[float, str]] = []
    with log.open("w") as out:
        launched = time.time()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE, text=True, bufsize=1)
        for line in process.stderr:
            lines.append((time.time(), line.rstrip("\n")))
            out.write(line)
        # wait4, not wait: the resource usage of this child alone.
        _, status, usage = os.wait4(process.pid, 0)
        exited = time.time()
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    return CommandTiming(launched, exited, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines)


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def fmt_spread(figures: dict[str, float]) -> str:
    """'52.6 (51.9–54.0, 3 runs)'."""
    return f"{figures['median']:.2f} ({figures['min']:.2f}–{figures['max']:.2f}, {figures['runs']:.0f} runs)"


@dataclass
class RunEvents:
    """The newest run of a DAGSTER_HOME instance, by its events."""

    run_id: str
    status: str
    first_event: float
    run_start: float
    run_end: float
    steps: dict[str, float]  # step key -> wall seconds
    event_counts: Counter

    @property
    def steps_s(self) -> float:
        return sum(self.steps.values())


def newest_run_events(home: Path) -> RunEvents:
    """Events of the newest run in the instance at `home`."""
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        entries = instance.all_logs(run.run_id)
        by_type = {}
        for entry in entries:
            if entry.dagster_event is not None:
                by_type.setdefault(entry.dagster_event.event_type, entry.timestamp)
        end_type = DagsterEventType.RUN_SUCCESS if DagsterEventType.RUN_SUCCESS in by_type else DagsterEventType.RUN_FAILURE
        steps = {
            stats.step_key: stats.end_time - stats.start_time
            for stats in instance.get_run_step_stats(run.run_id)
            if stats.end_time
        }
        counts = Counter(entry.dagster_event.event_type_value if entry.dagster_event else "log message" for entry in entries)
        return RunEvents(
            run_id=run.run_id,
            status=run.status.value,
            first_event=entries[0].timestamp,
            run_start=by_type[DagsterEventType.RUN_START],
            run_end=by_type[end_type],
            steps=steps,
            event_counts=counts,
        )


@dataclass
class EventStorageTime:
    """Seconds one run of a command spent writing to Dagster's event log and run storage, of its wall seconds."""

    seconds: float
    writes: int
    wall_s: float


def time_event_storage(arguments: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> EventStorageTime:
    """Run `nba-failures <arguments>` once under `benchmarks.storage_probe` (not one of the timed runs)."""
    timing = time_command([sys.executable, "-m", "benchmarks.storage_probe", *arguments], env, cwd, log)
    line = next(line for _, line in reversed(timing.lines) if line.startswith(PROBE_PREFIX))
    probe = json.loads(line[len(PROBE_PREFIX) :])
    return EventStorageTime(probe["seconds"], probe["writes"], timing.wall_s)


def fresh_home(path: Path) -> Path:
    """An empty DAGSTER_HOME: the CLI gives it the project's local SQLite instance (`nba_failures.instance`)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def command_env(landing: Path, database: Path, home: Path) -> dict[str, str]:
    """The environment of a benchmarked command: its landing directory, warehouse file and DAGSTER_HOME."""
    env = {
        **os.environ,
        "NBA_FAILURES_LANDING_DIR": str(landing),
        "NBA_FAILURES_DUCKDB_PATH": str(database),
        "NBA_FAILURES_DASHBOARD_PATH": str(database.with_suffix(".html")),
        "DAGSTER_HOME": str(home),
    }
    env.pop("NBA_FAILURES_WAREHOUSE", None)
    return env


def backfill_breakdown(timing: CommandTiming, events: RunEvents, top_steps: int = 6) -> list[tuple[str, float]]:
    """(phase, seconds) of one `nba-failures backfill` process, in order; the phases add up to its wall time.

    Marks: the CLI's first line ('backfilling …', printed once its imports and the partitions are loaded),
    the run's first event (the run is planned and being created), RUN_START, the steps, RUN_SUCCESS, the
    CLI's 'run … succeeded' line (the result returned), exit (after the failure summary).
    """
    started = timing.line_time("backfilling") or timing.launched
    returned = timing.line_time("run ") or events.run_end
    phases = [
        ("interpreter start-up, CLI imports, partitions", started - timing.launched),
        ("code location import and run planning", events.first_event - started),
        ("run creation (planned events) to RUN_START", events.run_start - events.first_event),
    ]
    ordered = sorted(events.steps.items(), key=lambda item: -item[1])
    phases += [(f"step {step}", seconds) for step, seconds in ordered[:top_steps]]
    if len(ordered) > top_steps:
        phases.append((f"the other {len(ordered) - top_steps} steps", sum(seconds for _, seconds in ordered[top_steps:])))
    phases += [
        ("in the run, between steps", (events.run_end - events.run_start) - events.steps_s),
        ("RUN_SUCCESS to the run's result", returned - events.run_end),
        ("failure summary and exit", timing.exited - returned),
    ]
    return phases


def breakdown_text(phases: list[tuple[str, float]], wall_s: float) -> str:
    return "; ".join(f"{name} {seconds:.2f} s ({seconds / wall_s:.0%})" for name, seconds in phases)


def import_profile(
    python: str, module: str, env: dict[str, str], cwd: Path, top: int = 8
) -> tuple[float, list[tuple[str, float]]]:
    """Import time by top-level package (self time, seconds) from one `python -X importtime -c 'import <module>'`."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    by_package: Counter = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if self_us.isdigit():
            by_package[name.split(".")[0]] += int(self_us) / 1e6
    total = sum(by_package.values())
    return total, [(package, seconds) for package, seconds in by_package.most_common(top)]
