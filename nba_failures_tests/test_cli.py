"""The commands a data engineer types, run as subprocesses against temporary files."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nba_failures import settings
from nba_failures_tests import faults, season_data

DAY = dt.date(2023, 1, 15)
BIN = Path(sys.executable).parent


def _env(tmp_path: Path, season_landing: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        settings.DUCKDB_PATH_ENV: str(tmp_path / "cli.duckdb"),
        settings.LANDING_DIR_ENV: str(season_landing),
    }


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=settings.PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_definitions_validate(tmp_path: Path, season_landing: Path) -> None:
    _run([str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"], _env(tmp_path, season_landing))
    # Validation loads code only: it must not create or write the warehouse.
    assert not (tmp_path / "cli.duckdb").exists()


def test_asset_materialize_writes_the_day_into_the_configured_duckdb(tmp_path: Path, season_landing: Path) -> None:
    env = _env(tmp_path, season_landing)
    args = [str(BIN / "dagster"), "asset", "materialize", "-m", "nba_failures.definitions",
            "--select", "+player_game_summary", "--partition", DAY.isoformat()]  # fmt: skip
    _run(args, env)
    rows = faults.read_table(env[settings.DUCKDB_PATH_ENV], "nba_analytics.player_game_summary")
    played = faults.active(faults.boxscores(DAY))
    assert len(rows) == len(played) == 167
    assert set(rows["game_date"].map(pd.Timestamp)) == {pd.Timestamp(DAY)}
    assert sorted(rows["player_lookup"]) == sorted(played["player_lookup"])
    # The run went to the temporary Dagster instance, not to the project's own.
    assert any((tmp_path / "dagster_home").iterdir())


def test_landing_build_lays_out_the_whole_season(tmp_path: Path, season_landing: Path) -> None:
    out = tmp_path / "built"
    done = _run([str(BIN / "nba-failures"), "landing", "build", "--out", str(out)], _env(tmp_path, season_landing))
    assert "1230 game files" in done.stdout

    game_files = sorted((out / "gamebook").glob("*/*.csv.gz"))
    games = season_data.schedule()
    assert len(game_files) == len(games) == 1230
    assert {(p.parent.name, p.name.removesuffix(".csv.gz")) for p in game_files} == {
        (d.isoformat(), g) for d, g in zip(games["game_date"], games["game_id"])
    }
    assert (out / "schedule.csv.gz").read_bytes() == (settings.BUNDLED_SEASON_DIR / "schedule.csv.gz").read_bytes()
    registry = pd.read_csv(out / "registry" / "player_registry.csv", dtype=str, keep_default_na=False)
    assert registry.columns.tolist() == ["player_lookup", "universal_player_id", "player_name", "aliases"]
    assert set(registry["player_lookup"]) == set(season_data.boxscores()["player_lookup"]) - {""}
    assert registry["player_lookup"].is_unique and registry["universal_player_id"].is_unique

    # A game file is that game's box-score rows, every listed player, as in the bundle.
    sample = pd.read_csv(out / "gamebook" / DAY.isoformat() / "202301150BRK.csv.gz", dtype=str, keep_default_na=False)
    bundle = faults.boxscores(DAY).query("game_id == '202301150BRK'")
    assert len(sample) == len(bundle) and sample["player_name"].tolist() == bundle["player_name"].tolist()
    # The build leaves no staging directory behind, and a rebuild gives identical bytes.
    assert not list(tmp_path.glob("built.partial*"))
    first_bytes = game_files[0].read_bytes()
    shutil.rmtree(out / "gamebook" / game_files[0].parent.name)
    _run([str(BIN / "nba-failures"), "landing", "build", "--out", str(out)], _env(tmp_path, season_landing))
    assert game_files[0].read_bytes() == first_bytes


@pytest.mark.slow(seconds=120)
def test_backfill_summary_and_report_on_bigquery(tmp_path: Path, season_landing: Path, bigquery_emulator) -> None:
    """With the BigQuery backend, settings come in as EnvVar: every command resolves them and exits 0."""
    import uuid

    project = f"cli-{uuid.uuid4().hex[:8]}"
    env = {
        **_env(tmp_path, season_landing),
        settings.WAREHOUSE_ENV: "bigquery",
        "NBA_FAILURES_BQ_PROJECT": project,
        "NBA_FAILURES_BQ_API_ENDPOINT": bigquery_emulator.endpoint,
    }
    cli = str(BIN / "nba-failures")
    backfill = _run([cli, "backfill", "--start", DAY.isoformat(), "--end", DAY.isoformat()], env, timeout=900)
    assert "succeeded" in backfill.stderr, backfill.stderr[-3000:]
    summary = _run([cli, "summary"], env)
    assert summary.stdout == backfill.stdout[backfill.stdout.index("\nFailures per processor") :]
    report = json.loads(_run([cli, "report", "--format", "json"], env).stdout)
    total = int(re.search(r"^(\d+) failures:$", summary.stdout, re.MULTILINE).group(1))
    assert report["total_failures"] == total > 0

    client = bigquery_emulator.client(project=project)
    rows = client.query_and_wait(f"SELECT COUNT(*) AS n FROM `{project}.nba_analytics.player_game_summary`")
    assert next(iter(rows))["n"] == len(faults.active(faults.boxscores(DAY)))
    # Nothing went to the DuckDB file: the backend is BigQuery.
    assert not (tmp_path / "cli.duckdb").exists()


_COUNT_CONNECTIONS = """
import sys

from nba_failures.cli import main
from nba_failures.warehouse import duckdb_warehouse

opened = []
process_duckdb = duckdb_warehouse._PROCESS_DUCKDB
open_file = process_duckdb.open


def counting_open(path):
    opened.append(str(path))
    return open_file(path)


process_duckdb.open = counting_open
code = main(sys.argv[1:])
print("connections:", opened, file=sys.stderr)
sys.exit(code)
"""


def _backfill_connections(env: dict[str, str]) -> list[str]:
    """The DuckDB files a one-day `nba-failures backfill` connected to, once per connection, in order."""
    day = ["--start", DAY.isoformat(), "--end", DAY.isoformat()]
    done = _run([sys.executable, "-c", _COUNT_CONNECTIONS, "backfill", *day], env)
    assert "succeeded" in done.stderr and "Failures per processor" in done.stdout
    assert len(faults.read_table(env[settings.DUCKDB_PATH_ENV], "nba_analytics.player_game_summary")) == 167
    return ast.literal_eval(re.search(r"^connections: (.*)$", done.stderr, re.MULTILINE).group(1))


@pytest.mark.slow(seconds=30)
def test_backfill_opens_the_duckdb_file_once_for_its_run_and_summary(tmp_path: Path, season_landing: Path) -> None:
    """The run's steps (in the CLI's process and thread) and the summary after it share one connection: the file's
    catalog is read once, and the file is checkpointed once."""
    env = _env(tmp_path, season_landing)
    assert _backfill_connections(env) == [env[settings.DUCKDB_PATH_ENV]]


@pytest.mark.slow(seconds=30)
def test_backfill_opens_the_duckdb_file_per_step_where_the_instance_limits_its_pool(tmp_path: Path, season_landing: Path) -> None:
    """With the warehouse's pool limited (as on the production instance), a run holding the file between its steps
    would make another run's step wait for the file while holding the pool slot this run waits for: each step and
    the summary open the file themselves."""
    env = _env(tmp_path, season_landing)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text("concurrency:\n  pools:\n    default_limit: 1\n")
    assert _backfill_connections(env) == [env[settings.DUCKDB_PATH_ENV]] * 16  # 15 steps, then the summary
