"""Run every benchmark and write `benchmarks/results.md`: `python -m benchmarks` (or `python benchmarks/run.py`).

    python -m benchmarks                 # every case below, full inputs (~20 min)
    python -m benchmarks --quick         # a tiny input (4 game days, 100 failures): checks that it all runs
    python -m benchmarks --only e,f      # a subset of the cases

In process (the measured call only):
    a  single-run backfill of the season        c  classification vs the per-entity loop
    b  rerun of one day                         d  growth with the number of seasons
Whole commands, as a user runs them (benchmarks.commands: subprocess wall time, median of several runs,
where the time went from the run's events in the fresh DAGSTER_HOME):
    e  `nba-failures backfill`, the season from an empty warehouse, and the plain-SQL yardstick
       (benchmarks.yardstick) of its core computation: the ratio between them
    f  `nba-failures backfill --start D --end D`, one day again after the season
    g  `python -c 'import nba_failures.definitions'`, loading the code location
    h  a retry run of one day launched as the sensor launches it (benchmarks.sensor_launch)

Each in-process scenario runs in a child process (`benchmarks.scenarios`) with its own landing directory and
DuckDB file under the work directory (default `.local/benchmarks`); generated landing directories are kept
for the next run. Timings are wall and CPU time (CPU = `time.process_time` of the child, every thread); peak
memory is the child's `ru_maxrss`. The machine's load average is recorded before and after: other
processes on a shared machine inflate wall times, CPU times much less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks.commands import (
    CommandTiming,
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
)
from benchmarks.scenarios import RESULT_PREFIX
from benchmarks.seasons import build_landing, season_frames

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results.md"
DEFAULT_WORK = PROJECT_DIR / ".local" / "benchmarks"

TARGETS = {
    "a": 30.0,  # s, full-season single-run backfill
    "b": 3.0,  # s, one daily partition
    "c_seconds": 1.0,  # s, 100k failures
    "c_speedup": 100.0,  # × the per-entity loop
    "d_ratio": 12.0,  # 10 seasons / 1 season
    "e": 20.0,  # s, whole `nba-failures backfill` of the season from empty
    "f": 4.0,  # s, whole `nba-failures backfill` of one day
    "g": 1.0,  # s, whole process importing the code location
    "h": 5.0,  # s, a sensor-launched retry run of one day, launch to success
}
NBA_FAILURES = str(Path(sys.executable).with_name("nba-failures"))

IN_PROCESS_NOTE = (
    "Wall and CPU are seconds inside the measured call (interpreter start and imports excluded); CPU is "
    "`time.process_time()` of the child process (all its threads). Where a case was repeated the minimum is shown. "
    "Peak RSS is `ru_maxrss` of the child process that ran the case (the whole process, imports included)."
)
WHOLE_COMMAND_NOTE = (
    "Whole commands: wall seconds from just before the process starts to its exit (interpreter, imports, run planning, "
    "event storage, the printed summary), median of the runs; each backfill with a fresh DAGSTER_HOME (the default SQLite "
    "instance) and, for the season, an empty warehouse; the one-day rerun and the retry start from the season's warehouse "
    "and instance. CPU (median) and peak RSS (largest) are the process's and its waited-for children's, from `wait4`. "
    "(h) is timed inside its launcher, from the start of run creation to the run's RUN_SUCCESS event (the launched run "
    "is a process of its own)."
)


class Plan:
    """Inputs of a run: the full benchmark, or the tiny one of `--quick`."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.days = 4 if quick else None  # game days per season copy
        self.day = "2022-10-20" if quick else "2023-01-15"
        self.sizes = [100] if quick else [1000, 10000, 100000]
        self.loop_size = 100 if quick else 1000
        self.seasons = [1, 2] if quick else [1, 3, 10]
        self.repeat = 1 if quick else 3
        self.repeat_backfill = 1 if quick else 2
        self.repeat_command = 1 if quick else 3  # whole commands that run a pipeline
        self.repeat_short = 1 if quick else 5  # whole commands of a few seconds at most
        # The yardstick reads the bundled CSVs: in quick mode it stops where the tiny landing directory does.
        self.last_day = max(season_frames(1, self.days)[0]["game_date"]) if quick else None


def _run_child(scenario: list[str], landing: Path, database: Path, log: Path) -> dict:
    env = {**os.environ, "NBA_FAILURES_LANDING_DIR": str(landing), "NBA_FAILURES_DUCKDB_PATH": str(database), "NBA_FAILURES_DASHBOARD_PATH": str(database.with_suffix(".html"))}
    env.pop("NBA_FAILURES_WAREHOUSE", None)
    command = [sys.executable, "-m", "benchmarks.scenarios", *scenario]
    print(f"  $ {' '.join(command[1:])}  (log: {log})", file=sys.stderr, flush=True)
    with log.open("w") as errors:
        done = subprocess.run(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(scenario)} failed ({done.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith(RESULT_PREFIX))
    return json.loads(line[len(RESULT_PREFIX):])


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 100 else f"{seconds:.0f}"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _command_row(
    case: str, command: str, walls: list[float], timings: list[CommandTiming], target: str, target_s: float | None
) -> list[str]:
    figures = spread(walls)
    met = _met(figures["median"] <= target_s) if target_s is not None else ""
    cpu = statistics.median(timing.cpu_s for timing in timings) if timings else None
    rss = max(timing.peak_rss_mb for timing in timings) if timings else None
    return [
        case, command, _fmt(figures["median"]), f"{_fmt(figures['min'])}–{_fmt(figures['max'])}", str(len(walls)),
        "" if cpu is None else _fmt(cpu), "" if rss is None else f"{rss:.0f}", target, met,
    ]  # fmt: skip


def _median_run(timings: list[CommandTiming]) -> int:
    """Index of the run with the median wall time (the lower middle one of an even count)."""
    return sorted(range(len(timings)), key=lambda index: timings[index].wall_s)[(len(timings) - 1) // 2]


def _events_note(case: str, events: RunEvents) -> str:
    counts = ", ".join(f"{kind} {count}" for kind, count in events.event_counts.most_common(6))
    return (
        f"{case} Dagster's event storage: the run wrote {sum(events.event_counts.values()):,} events ({counts}); "
        f"storing the same events again into a fresh SQLite instance takes {events.storage_replay_s:.2f} s "
        "(spread over the planning and the steps above)."
    )


def run_commands(plan: Plan, only: set[str], work: Path, landing: Path) -> tuple[list[list[str]], list[str]]:
    """Cases e–h: whole commands, timed as subprocesses; (table rows, notes)."""
    label = "quick" if plan.quick else "full"
    rows: list[list[str]] = []
    notes: list[str] = []
    python = sys.executable

    # (e) also leaves the state f and h start from: the season in the warehouse and its run in DAGSTER_HOME.
    season_db, season_home = work / f"cmd_{label}_season.duckdb", work / f"cmd_{label}_season_home"
    season_runs = plan.repeat_command if "e" in only else 1 if only & {"f", "h"} else 0
    timings: list[CommandTiming] = []
    events: list[RunEvents] = []
    for attempt in range(season_runs):
        print(f"(e) `nba-failures backfill` of the season, whole process, run {attempt + 1}/{season_runs}", file=sys.stderr)
        season_db.unlink(missing_ok=True)
        home = fresh_home(season_home)
        timings.append(
            time_command(
                [NBA_FAILURES, "backfill"],
                command_env(landing, season_db, home),
                PROJECT_DIR,
                work / f"cmd_season_{label}_{attempt}.log",
            )
        )
        events.append(newest_run_events(home, replay_storage=attempt == season_runs - 1))
        if events[-1].status != "SUCCESS":
            raise RuntimeError(f"season backfill run {events[-1].run_id} ended {events[-1].status}")
    if "e" in only:
        yardstick_command = [python, "-m", "benchmarks.yardstick", "--database", str(work / f"yardstick_{label}.duckdb")]
        yardstick_command += ["--last-day", plan.last_day] if plan.last_day else []
        yardstick = [
            time_command(yardstick_command, dict(os.environ), PROJECT_DIR, work / f"yardstick_{label}_{attempt}.log")
            for attempt in range(plan.repeat_short)
        ]
        season_walls = [timing.wall_s for timing in timings]
        yardstick_walls = [timing.wall_s for timing in yardstick]
        ratio = statistics.median(season_walls) / statistics.median(yardstick_walls)
        median = _median_run(timings)
        rows.append(
            _command_row(
                "(e) full-season backfill from empty",
                f"`nba-failures backfill`, fresh DAGSTER_HOME; {ratio:.0f}× the yardstick",
                season_walls,
                timings,
                f"≤ {TARGETS['e']:.0f} s",
                TARGETS["e"],
            )
        )
        rows.append(
            _command_row(
                "(e) yardstick: the core computation in plain SQL",
                "`python -m benchmarks.yardstick` (DuckDB, bundled CSVs)",
                yardstick_walls,
                yardstick,
                "",
                None,
            )
        )
        notes.append(
            f"(e) ratio to the yardstick, median / median: {ratio:.1f}× "
            f"({fmt_spread(spread(season_walls))} s vs {fmt_spread(spread(yardstick_walls))} s)."
        )
        notes.append(
            "(e) where the time of the median run went: "
            + breakdown_text(backfill_breakdown(timings[median], events[median]), timings[median].wall_s)
        )
        notes.append(_events_note("(e)", events[-1]))

    if "f" in only:
        print(f"(f) `nba-failures backfill --start {plan.day} --end {plan.day}`, whole process", file=sys.stderr)
        day_db, day_home = work / f"cmd_{label}_day.duckdb", work / f"cmd_{label}_day_home"
        timings, events = [], []
        for attempt in range(plan.repeat_command):
            # Every run starts from the state right after the season's backfill.
            shutil.copyfile(season_db, day_db)
            shutil.rmtree(day_home, ignore_errors=True)
            shutil.copytree(season_home, day_home)
            command = [NBA_FAILURES, "backfill", "--start", plan.day, "--end", plan.day]
            timings.append(
                time_command(
                    command, command_env(landing, day_db, day_home), PROJECT_DIR, work / f"cmd_day_{label}_{attempt}.log"
                )
            )
            events.append(newest_run_events(day_home, replay_storage=attempt == plan.repeat_command - 1))
        median = _median_run(timings)
        rows.append(
            _command_row(
                f"(f) rerun of one day ({plan.day})",
                f"`nba-failures backfill --start {plan.day} --end {plan.day}` after the season",
                [t.wall_s for t in timings],
                timings,
                f"≤ {TARGETS['f']:.0f} s",
                TARGETS["f"],
            )
        )
        notes.append(
            "(f) where the time of the median run went: "
            + breakdown_text(backfill_breakdown(timings[median], events[median]), timings[median].wall_s)
        )
        notes.append(_events_note("(f)", events[-1]))

    if "g" in only:
        print("(g) importing the code location, whole process", file=sys.stderr)
        env = command_env(landing, season_db, fresh_home(work / f"cmd_{label}_import_home"))
        measured = {}
        for name, code in (
            ("definitions", "import nba_failures.definitions"),
            ("dagster", "import dagster"),
            ("interpreter", "pass"),
        ):
            measured[name] = [
                time_command([python, "-c", code], env, PROJECT_DIR, work / f"cmd_import_{name}_{label}.log")
                for _ in range(plan.repeat_short)
            ]
        walls = {name: [timing.wall_s for timing in timings] for name, timings in measured.items()}
        rows.append(
            _command_row(
                "(g) load the code location",
                "`python -c 'import nba_failures.definitions'`",
                walls["definitions"],
                measured["definitions"],
                f"≤ {TARGETS['g']:.0f} s",
                TARGETS["g"],
            )
        )
        rows.append(
            _command_row(
                "(g) of which: `import dagster` alone",
                "`python -c 'import dagster'`",
                walls["dagster"],
                measured["dagster"],
                "",
                None,
            )
        )
        rows.append(
            _command_row(
                "(g) of which: the interpreter alone", "`python -c pass`", walls["interpreter"], measured["interpreter"], "", None
            )
        )
        total, packages = import_profile(python, "nba_failures.definitions", env, PROJECT_DIR)
        notes.append(
            f"(g) import time by top-level package (self time, one run with the interpreter's import timing, "
            f"{total:.2f} s in all): "
            + ", ".join(f"{package} {seconds:.2f} s" for package, seconds in packages)
        )

    if "h" in only:
        print(f"(h) sensor-launched retry run of {plan.day}, launch to success", file=sys.stderr)
        retry_db, retry_home = work / f"cmd_{label}_retry.duckdb", work / f"cmd_{label}_retry_home"
        shutil.copyfile(season_db, retry_db)
        shutil.rmtree(retry_home, ignore_errors=True)
        shutil.copytree(season_home, retry_home)
        log = work / f"cmd_retry_{label}.log"
        command = [python, "-m", "benchmarks.sensor_launch", "--day", plan.day, "--repeat", str(plan.repeat_command)]
        time_command(command, command_env(landing, retry_db, retry_home), PROJECT_DIR, log)
        result = json.loads(
            next(line for line in reversed(log.read_text().splitlines()) if line.startswith(RESULT_PREFIX))[len(RESULT_PREFIX) :]
        )
        runs = result["runs"]
        walls = [run["run_end"] - run["began"] for run in runs]
        rows.append(
            _command_row(
                f"(h) sensor-launched retry run of one day ({plan.day})",
                f"{runs[0]['assets']} assets a {result['processor']} retry reruns; run creation to RUN_SUCCESS",
                walls,
                [],
                f"≤ {TARGETS['h']:.0f} s",
                TARGETS["h"],
            )
        )
        run = sorted(runs, key=lambda run: run["run_end"] - run["began"])[(len(runs) - 1) // 2]
        steps = sorted(run["steps"].items(), key=lambda item: -item[1])
        phases = [
            ("job subset and execution plan from the code server, run created", run["created"] - run["began"]),
            ("launch (the run launcher starts the run's process)", run["launched"] - run["created"]),
            ("run process start-up to RUN_START (interpreter, imports, code location)", run["run_start"] - run["launched"]),
            *((f"step {step}", seconds) for step, seconds in steps[:4]),
            (f"the other {max(0, len(steps) - 4)} steps", sum(seconds for _, seconds in steps[4:])),
            ("in the run, between steps", run["run_end"] - run["run_start"] - sum(run["steps"].values())),
        ]
        notes.append(
            f"(h) where the time of the median run went ({run['events']} events): "
            + breakdown_text(phases, run["run_end"] - run["began"])
        )
    return rows, notes


def run(plan: Plan, only: set[str], work: Path, out: Path) -> str:
    work.mkdir(parents=True, exist_ok=True)
    label = "quick" if plan.quick else "full"
    began, load_before = time.time(), _load()
    rows: list[list[str]] = []
    notes: list[str] = []

    def landing_for(seasons: int) -> Path:
        return build_landing(work / f"landing_{label}_{seasons}s", seasons=seasons, days=plan.days)

    def backfill(seasons: int) -> tuple[dict, Path]:
        landing = landing_for(seasons)
        tag = f"{label}_{seasons}s"
        best, path = None, None
        for attempt in range(plan.repeat_backfill if seasons == 1 else 1):
            candidate = work / f"{tag}_{attempt}.duckdb"
            candidate.unlink(missing_ok=True)
            result = _run_child(["backfill"], landing, candidate, work / f"backfill_{tag}_{attempt}.log")
            if not result["success"]:
                raise RuntimeError(f"backfill of {seasons} season(s) failed")
            if best is None or result["wall_s"] < best["wall_s"]:
                best, path = result, candidate
        database = work / f"{tag}.duckdb"
        shutil.copyfile(path, database)
        return best, database

    def steps_note(name: str, result: dict) -> str:
        steps = sorted(result["steps_s"].items(), key=lambda item: -item[1])
        return f"{name} steps (wall s, Dagster's step durations): " + ", ".join(f"{step} {seconds:.1f}" for step, seconds in steps)

    season_db, base_result = None, None
    if only & {"a", "b", "c", "d"}:
        print(f"(a) single-run backfill of one season ({label})", file=sys.stderr)
        base_result, season_db = backfill(1)
        a = base_result
        detail = f"every asset: {a['partitions']} daily partitions, {a['materializations']} materializations"
        rows.append(["(a) full-season single-run backfill", detail, _fmt(a["wall_s"]), _fmt(a["cpu_s"]), f"{a['peak_rss_mb']:.0f}", f"≤ {TARGETS['a']:.0f} s", _met(a["wall_s"] <= TARGETS["a"])])
        notes.append(steps_note("(a) every asset", a))
    if "b" in only:
        print("(b) one daily partition", file=sys.stderr)
        database = work / f"{label}_day.duckdb"
        shutil.copyfile(season_db, database)
        b = _run_child(["day", "--day", plan.day, "--repeat", str(plan.repeat)], landing_for(1), database, work / f"day_{label}.log")
        for key, what in (("partitioned", f"{b['assets']} partitioned assets (every group)"), ("with_dashboard", "the same + failure_dashboard (unpartitioned: renders the whole store)")):
            wall = min(w for w, _ in b["runs"][key])
            cpu = min(c for _, c in b["runs"][key])
            target = (f"≤ {TARGETS['b']:.0f} s", _met(wall <= TARGETS["b"])) if key == "partitioned" else ("", "")
            rows.append([f"(b) rerun of one day ({plan.day}), in process", what, _fmt(wall), _fmt(cpu), f"{b['peak_rss_mb']:.0f}" if key == "partitioned" else "", *target])
    if "c" in only:
        print("(c) classification vs per-entity loop", file=sys.stderr)
        sizes = ",".join(str(size) for size in plan.sizes)
        c = _run_child(["classify", "--sizes", sizes, "--loop-size", str(plan.loop_size), "--repeat", str(plan.repeat)], landing_for(1), season_db, work / f"classify_{label}.log")
        loop = c["loop"]
        per_failure = loop["wall_s"] / loop["failures"]
        for size in plan.sizes:
            s = c["sizes"][str(size)]
            loop_estimate = per_failure * size
            measured = size == loop["failures"]
            speedup = loop_estimate / s["total_wall_s"]
            what = f"{size:,} INCOMPLETE_DATA player failures: 4 reads {_fmt(s['reads_wall_s'])} s + classify {_fmt(s['classify_wall_s'])} s"
            target, met = "", ""
            if size == max(plan.sizes):
                target = f"≤ {TARGETS['c_seconds']:.0f} s, ≥ {TARGETS['c_speedup']:.0f}× loop"
                met = _met(s["total_wall_s"] <= TARGETS["c_seconds"] and speedup >= TARGETS["c_speedup"])
            rows.append([f"(c) classify {size:,} failures (set-based)", what, _fmt(s["total_wall_s"]), _fmt(s["total_cpu_s"]), f"{c['peak_rss_mb']:.0f}", target, met])
            rows.append([f"(c) per-entity query loop, {size:,} failures", ("measured" if measured else f"extrapolated from {loop['failures']:,} measured") + f": {speedup:,.0f}× slower than set-based", _fmt(loop_estimate), _fmt(loop["cpu_s"] / loop["failures"] * size), "", "", ""])
        notes.append(
            f"(c) The loop ran on {loop['failures']:,} failures: {loop['queries']:,} queries ({loop['queries'] / loop['failures']:.1f} per failure) "
            f"in {loop['wall_s']:.1f} s on one open DuckDB connection; larger sizes are extrapolated linearly from it. "
            f"Its verdicts agree with the set-based ones for {loop['agreement']:.1%} of those failures (it simplifies a traded player to his latest team). "
            f"Failure types at the largest size: {c['sizes'][str(max(plan.sizes))]['types']}."
        )
    if "d" in only:
        print("(d) growth with the number of seasons", file=sys.stderr)
        for seasons in plan.seasons:
            d = base_result if seasons == 1 else backfill(seasons)[0]
            ratio = d["wall_s"] / base_result["wall_s"]
            cpu_ratio = d["cpu_s"] / base_result["cpu_s"]
            target, met = "", ""
            if seasons == max(plan.seasons):
                target = f"≤ {TARGETS['d_ratio']:.0f}× one season"
                met = _met(ratio <= TARGETS["d_ratio"])
            what = f"every asset; {d['partitions']} partitions; {ratio:.1f}× one season's wall, {cpu_ratio:.1f}× its CPU" + (" (the run of (a))" if seasons == 1 else "")
            rows.append([f"(d) {seasons} season(s), single-run backfill", what, _fmt(d["wall_s"]), _fmt(d["cpu_s"]), f"{d['peak_rss_mb']:.0f}", target, met])
            if seasons == max(plan.seasons):
                notes.append(steps_note(f"(d) {seasons} seasons", d))

    command_rows: list[list[str]] = []
    if only & {"e", "f", "g", "h"}:
        command_rows, command_notes = run_commands(plan, only, work, landing_for(1))
        notes += command_notes

    header = ["benchmark", "input", "wall (s)", "CPU (s)", "peak RSS (MB)", "target", "met"]
    table = _table(header, rows) if rows else []
    command_header = ["whole command", "what runs", "median wall (s)", "min–max (s)", "runs", "CPU (s)", "peak RSS (MB)"]
    command_header += ["target", "met"]
    command_table = _table(command_header, command_rows) if command_rows else []
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("dagster", "pandas", "duckdb", "pyarrow"))
    text = "\n".join(
        [
            f"# Benchmarks ({label})",
            "",
            f"Generated by `python -m benchmarks{' --quick' if plan.quick else ''}` on {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
            f"{os.cpu_count()} CPUs, load average (1/5/15 min) {load_before} before and {_load()} after, "
            f"{time.time() - began:.0f} s in all. Python {platform.python_version()}, {versions}.",
            "",
            *(["**Quick mode: a tiny input that checks the benchmarks run; these are not the benchmark figures.**", ""] if plan.quick else []),
            *table,
            "",
            *([IN_PROCESS_NOTE, ""] if table else []),
            *command_table,
            "",
            *([WHOLE_COMMAND_NOTE, ""] if command_table else []),
            *(f"- {note}" for note in notes),
        ]
    )
    out.write_text(text + "\n")
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(row) + " |" for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny input: 4 game days, 100 failures, 1 and 2 season copies")
    parser.add_argument("--only", default="a,b,c,d,e,f,g,h", help="comma-separated subset of a–h")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK, help="landing directories and DuckDB files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown table to write")
    args = parser.parse_args(argv)
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    text = run(Plan(args.quick), only, args.work_dir, args.out)
    print(text)
    print(f"\nwritten to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
