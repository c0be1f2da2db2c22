"""Run every benchmark and write `benchmarks/results.md`: `python -m benchmarks` (or `python benchmarks/run.py`).

    python -m benchmarks                 # the real season, 3 and 10 seasons, 1k/10k/100k failures (~7 min)
    python -m benchmarks --quick         # a tiny input (4 game days, 100 failures): checks that it all runs
    python -m benchmarks --only a,c      # a subset: a backfill, b one day, c classification, d seasons

Each scenario runs in a child process (`benchmarks.scenarios`) with its own landing directory and DuckDB
file under the work directory (default `.local/benchmarks`); generated landing directories are kept for
the next run. Timings are wall and CPU time (CPU = `time.process_time` of the child, every thread); peak
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
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks.scenarios import RESULT_PREFIX
from benchmarks.seasons import build_landing

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results.md"
DEFAULT_WORK = PROJECT_DIR / ".local" / "benchmarks"

TARGETS = {
    "a": 30.0,  # s, full-season single-run backfill
    "b": 3.0,  # s, one daily partition
    "c_seconds": 1.0,  # s, 100k failures
    "c_speedup": 100.0,  # × the per-entity loop
    "d_ratio": 12.0,  # 10 seasons / 1 season
}


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

    header = ["benchmark", "input", "wall (s)", "CPU (s)", "peak RSS (MB)", "target", "met"]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(row) + " |" for row in rows]
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
            "Wall and CPU are seconds inside the measured call (interpreter start and imports excluded); CPU is "
            "`time.process_time()` of the child process (all its threads). Where a case was repeated the minimum is shown. "
            "Peak RSS is `ru_maxrss` of the child process that ran the case (the whole process, imports included).",
            "",
            *(f"- {note}" for note in notes),
        ]
    )
    out.write_text(text + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny input: 4 game days, 100 failures, 1 and 2 season copies")
    parser.add_argument("--only", default="a,b,c,d", help="comma-separated subset of a,b,c,d")
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
