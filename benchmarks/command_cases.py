"""Cases e–h: the commands users run, timed as whole processes (see benchmarks.commands), with where the time went.

e  `nba-failures backfill`, the season from an empty warehouse, and the plain-SQL yardstick of its core
   computation (benchmarks.yardstick): the ratio between them
f  `nba-failures backfill --start D --end D`, one day again after the season
g  `python -c 'import nba_failures.definitions'`, loading the code location
h  a retry run of one day launched as the sensor launches it (benchmarks.sensor_launch)
p  e and f on the production instance's storage: deploy/dagster.yaml over a PostgreSQL server on loopback
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.commands import (
    CommandTiming,
    EventStorageTime,
    RunEvents,
    backfill_breakdown,
    breakdown_text,
    command_env,
    fmt_spread,
    fresh_home,
    import_profile,
    newest_run_events,
    spread,
    time_command,
    time_event_storage,
)
from benchmarks.plan import Plan
from benchmarks.report import fmt_seconds, met
from benchmarks.scenarios import RESULT_PREFIX

PROJECT_DIR = Path(__file__).resolve().parent.parent
NBA_FAILURES = str(Path(sys.executable).with_name("nba-failures"))
GOALS_S = {"e": 20.0, "f": 4.0, "g": 1.0, "h": 5.0}
HEADER = ["whole command", "what runs", "median wall (s)", "min–max (s)", "runs", "CPU (s)", "peak RSS (MB)", "goal", "met"]


@dataclass
class CaseReport:
    """Table rows and notes of the cases run so far."""

    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, case: str, what: str, walls: list[float], timings: list[CommandTiming], goal_s: float | None) -> None:
        figures = spread(walls)
        cpu = fmt_seconds(statistics.median(timing.cpu_s for timing in timings)) if timings else ""
        rss = f"{max(timing.peak_rss_mb for timing in timings):.0f}" if timings else ""
        goal = f"≤ {goal_s:.0f} s" if goal_s is not None else ""
        done = met(figures["median"] <= goal_s) if goal_s is not None else ""
        low_high = f"{fmt_seconds(figures['min'])}–{fmt_seconds(figures['max'])}"
        self.rows.append([case, what, fmt_seconds(figures["median"]), low_high, str(len(walls)), cpu, rss, goal, done])


@dataclass(frozen=True)
class SeasonState:
    """The warehouse and DAGSTER_HOME right after the season's backfill: where (f) and (h) start from."""

    database: Path
    home: Path


def _median_run(timings: list[CommandTiming]) -> int:
    """Index of the run with the median wall time (the lower middle one of an even count)."""
    return sorted(range(len(timings)), key=lambda index: timings[index].wall_s)[(len(timings) - 1) // 2]


def _copy_state(season: SeasonState, database: Path, home: Path) -> None:
    shutil.copyfile(season.database, database)
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(season.home, home)


def _backfill_notes(case: str, timing: CommandTiming, events: RunEvents, storage: EventStorageTime) -> list[str]:
    counts = ", ".join(f"{kind} {count}" for kind, count in events.event_counts.most_common(6))
    share = storage.seconds / storage.wall_s
    storage_note = (
        f"{case} Dagster's event storage: the run wrote {sum(events.event_counts.values()):,} events ({counts}). "
        f"In one extra run of the same command with a clock on the SQLite event log's and run storage's writes "
        f"({storage.writes:,} writes, a batch of events counted as one), {storage.seconds:.2f} s of its "
        f"{storage.wall_s:.2f} s ({share:.0%}) went to them, "
        "spread over the run creation and the steps above."
    )
    breakdown = breakdown_text(backfill_breakdown(timing, events), timing.wall_s)
    return [f"{case} where the time of the median run went: {breakdown}", storage_note]


def _yardstick(plan: Plan, work: Path) -> list[CommandTiming]:
    command = [sys.executable, "-m", "benchmarks.yardstick", "--database", str(work / f"yardstick_{plan.label}.duckdb")]
    command += ["--last-day", plan.last_day] if plan.last_day else []
    return [
        time_command(command, dict(os.environ), PROJECT_DIR, work / f"yardstick_{plan.label}_{attempt}.log")
        for attempt in range(plan.repeat_short)
    ]


def season_case(plan: Plan, work: Path, landing: Path, report: CaseReport | None) -> SeasonState:
    """(e), or with no report a single untimed season run that leaves the state (f) and (h) start from."""
    season = SeasonState(work / f"cmd_{plan.label}_season.duckdb", work / f"cmd_{plan.label}_season_home")
    runs = plan.repeat_command if report else 1
    timings: list[CommandTiming] = []
    events: list[RunEvents] = []
    for attempt in range(runs):
        print(f"(e) `nba-failures backfill` of the season, whole process, run {attempt + 1}/{runs}", file=sys.stderr)
        season.database.unlink(missing_ok=True)
        env = command_env(landing, season.database, fresh_home(season.home))
        timings.append(
            time_command([NBA_FAILURES, "backfill"], env, PROJECT_DIR, work / f"cmd_season_{plan.label}_{attempt}.log")
        )
        events.append(newest_run_events(season.home))
        if events[-1].status != "SUCCESS":
            raise RuntimeError(f"season backfill run {events[-1].run_id} ended {events[-1].status}")
    if report is None:
        return season
    probe_db, probe_home = work / f"cmd_{plan.label}_season_probe.duckdb", work / f"cmd_{plan.label}_season_probe_home"
    probe_db.unlink(missing_ok=True)
    probe_env = command_env(landing, probe_db, fresh_home(probe_home))
    storage = time_event_storage(["backfill"], probe_env, PROJECT_DIR, work / f"cmd_season_probe_{plan.label}.log")
    yardstick = _yardstick(plan, work)
    walls, yardstick_walls = [timing.wall_s for timing in timings], [timing.wall_s for timing in yardstick]
    ratio = statistics.median(walls) / statistics.median(yardstick_walls)
    what = f"`nba-failures backfill`, fresh DAGSTER_HOME, empty warehouse; {ratio:.0f}× the yardstick"
    report.row("(e) full-season backfill from empty", what, walls, timings, GOALS_S["e"])
    yardstick_what = "`python -m benchmarks.yardstick` (DuckDB SQL, bundled CSVs)"
    report.row("(e) yardstick: the core computation in plain SQL", yardstick_what, yardstick_walls, yardstick, None)
    report.notes.append(
        f"(e) ratio to the yardstick, median / median: {ratio:.1f}× "
        f"({fmt_spread(spread(walls))} s vs {fmt_spread(spread(yardstick_walls))} s)."
    )
    median = _median_run(timings)
    report.notes += _backfill_notes("(e)", timings[median], events[median], storage)
    return season


def day_case(plan: Plan, work: Path, landing: Path, season: SeasonState, report: CaseReport) -> None:
    """(f): every run starts from the state right after the season's backfill."""
    print(f"(f) `nba-failures backfill --start {plan.day} --end {plan.day}`, whole process", file=sys.stderr)
    database, home = work / f"cmd_{plan.label}_day.duckdb", work / f"cmd_{plan.label}_day_home"
    arguments = ["backfill", "--start", plan.day, "--end", plan.day]
    env = command_env(landing, database, home)
    timings: list[CommandTiming] = []
    events: list[RunEvents] = []
    for attempt in range(plan.repeat_command):
        _copy_state(season, database, home)
        timings.append(time_command([NBA_FAILURES, *arguments], env, PROJECT_DIR, work / f"cmd_day_{plan.label}_{attempt}.log"))
        events.append(newest_run_events(home))
    _copy_state(season, database, home)
    storage = time_event_storage(arguments, env, PROJECT_DIR, work / f"cmd_day_probe_{plan.label}.log")
    what = f"`nba-failures backfill --start {plan.day} --end {plan.day}` after the season"
    report.row(f"(f) rerun of one day ({plan.day})", what, [timing.wall_s for timing in timings], timings, GOALS_S["f"])
    median = _median_run(timings)
    report.notes += _backfill_notes("(f)", timings[median], events[median], storage)


def import_case(plan: Plan, work: Path, landing: Path, report: CaseReport) -> None:
    """(g), and what of it the interpreter and Dagster's own import take (importing opens no warehouse)."""
    print("(g) importing the code location, whole process", file=sys.stderr)
    database = work / f"cmd_{plan.label}_import.duckdb"
    env = command_env(landing, database, fresh_home(work / f"cmd_{plan.label}_import_home"))
    cases = (
        ("(g) load the code location", "import nba_failures.definitions", GOALS_S["g"]),
        ("(g) of which: `import dagster` alone", "import dagster", None),
        ("(g) of which: the interpreter alone", "pass", None),
    )
    for number, (case, code, goal_s) in enumerate(cases):
        timings = [
            time_command([sys.executable, "-c", code], env, PROJECT_DIR, work / f"cmd_import_{number}_{plan.label}.log")
            for _ in range(plan.repeat_short)
        ]
        report.row(case, f"`python -c '{code}'`", [timing.wall_s for timing in timings], timings, goal_s)
    total, packages = import_profile(sys.executable, "nba_failures.definitions", env, PROJECT_DIR)
    report.notes.append(
        f"(g) import time by top-level package (self time, one run with `python -X importtime`, {total:.2f} s in all): "
        + ", ".join(f"{package} {seconds:.2f} s" for package, seconds in packages)
    )


def retry_case(plan: Plan, work: Path, landing: Path, season: SeasonState, report: CaseReport) -> None:
    """(h): the launcher process times each run itself, from the start of run creation to RUN_SUCCESS."""
    print(f"(h) sensor-launched retry run of {plan.day}, launch to success", file=sys.stderr)
    database, home = work / f"cmd_{plan.label}_retry.duckdb", work / f"cmd_{plan.label}_retry_home"
    _copy_state(season, database, home)
    log = work / f"cmd_retry_{plan.label}.log"
    command = [sys.executable, "-m", "benchmarks.sensor_launch", "--day", plan.day, "--repeat", str(plan.repeat_command)]
    time_command(command, command_env(landing, database, home), PROJECT_DIR, log)
    line = next(line for line in reversed(log.read_text().splitlines()) if line.startswith(RESULT_PREFIX))
    result = json.loads(line[len(RESULT_PREFIX) :])
    runs = sorted(result["runs"], key=lambda run: run["run_end"] - run["began"])
    what = f"{runs[0]['assets']} assets a {result['processor']} retry reruns; run creation to RUN_SUCCESS"
    walls = [run["run_end"] - run["began"] for run in runs]
    report.row(f"(h) sensor-launched retry run of one day ({plan.day})", what, walls, [], GOALS_S["h"])
    run = runs[(len(runs) - 1) // 2]
    steps = sorted(run["steps"].items(), key=lambda item: -item[1])
    phases = [
        ("job subset and execution plan from the code server, run created", run["created"] - run["began"]),
        ("launch (the run launcher starts the run's process)", run["launched"] - run["created"]),
        ("run process start-up to RUN_START (interpreter, imports, code location)", run["run_start"] - run["launched"]),
        *((f"step {step}", seconds) for step, seconds in steps[:4]),
        (f"the other {max(0, len(steps) - 4)} steps", sum(seconds for _, seconds in steps[4:])),
        ("in the run, between steps", run["run_end"] - run["run_start"] - sum(run["steps"].values())),
    ]
    report.notes.append(
        f"(h) where the time of the median run went ({run['events']} events): "
        + breakdown_text(phases, run["run_end"] - run["began"])
    )


def postgres_case(plan: Plan, work: Path, landing: Path, report: CaseReport) -> None:
    """(e) and (f) with runs, events and schedules in PostgreSQL (deploy/dagster.yaml), as the deployed instance keeps
    them: a server started for the purpose on loopback, with its default durability (fsync on), a new database for
    each season run; the one-day reruns start from a copy of the last season's warehouse, on its database."""
    from nba_failures_tests.postgres_server import PostgresServer

    home, database = work / f"cmd_{plan.label}_pg_home", work / f"cmd_{plan.label}_pg.duckdb"
    fresh_home(home)
    shutil.copy(PROJECT_DIR / "deploy" / "dagster.yaml", home / "dagster.yaml")
    with PostgresServer(durable=True) as server:
        seasons: list[CommandTiming] = []
        for attempt in range(plan.repeat_command):
            print(f"(e) on PostgreSQL, run {attempt + 1}/{plan.repeat_command}", file=sys.stderr)
            database.unlink(missing_ok=True)
            env = {**command_env(landing, database, home), **server.instance_env(server.create_database(f"season_{attempt}"))}
            log = work / f"cmd_pg_season_{plan.label}_{attempt}.log"
            seasons.append(time_command([NBA_FAILURES, "backfill"], env, PROJECT_DIR, log))
        season_copy = work / f"cmd_{plan.label}_pg_season.duckdb"
        shutil.copyfile(database, season_copy)
        arguments = ["backfill", "--start", plan.day, "--end", plan.day]
        days: list[CommandTiming] = []
        for attempt in range(plan.repeat_command):
            print(f"(f) on PostgreSQL, run {attempt + 1}/{plan.repeat_command}", file=sys.stderr)
            shutil.copyfile(season_copy, database)
            days.append(
                time_command([NBA_FAILURES, *arguments], env, PROJECT_DIR, work / f"cmd_pg_day_{plan.label}_{attempt}.log")
            )
    what = "`nba-failures backfill`, deploy/dagster.yaml (PostgreSQL), a new database, empty warehouse"
    report.row(
        "(e) on PostgreSQL: full-season backfill from empty", what, [timing.wall_s for timing in seasons], seasons, GOALS_S["e"]
    )
    what = f"`nba-failures backfill --start {plan.day} --end {plan.day}` after the season, deploy/dagster.yaml (PostgreSQL)"
    report.row(f"(f) on PostgreSQL: rerun of one day ({plan.day})", what, [timing.wall_s for timing in days], days, GOALS_S["f"])


def run_commands(plan: Plan, only: set[str], work: Path, landing: Path) -> CaseReport:
    """The cases of `only` among e–h and p; f and h start from the season's state, which (e) leaves (or one untimed run)."""
    report = CaseReport()
    if only & {"e", "f", "h"}:
        season = season_case(plan, work, landing, report if "e" in only else None)
    if "f" in only:
        day_case(plan, work, landing, season, report)
    if "g" in only:
        import_case(plan, work, landing, report)
    if "h" in only:
        retry_case(plan, work, landing, season, report)
    if "p" in only:
        postgres_case(plan, work, landing, report)
    return report
