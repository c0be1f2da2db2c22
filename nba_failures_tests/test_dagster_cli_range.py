"""Dagster's own CLI runs a partition range of every asset in one run, the dashboard included."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetsDefinition, DagsterInstance, DagsterRunStatus

from nba_failures.definitions import defs
from nba_failures.settings import PROJECT_DIR
from nba_failures_tests import faults

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 11)


@pytest.mark.slow(seconds=10)
def test_dagster_asset_materialize_runs_a_partition_range_of_every_asset(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NBA_FAILURES_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "NBA_FAILURES_DASHBOARD_PATH": str(tmp_path / "dashboard.html"),
    }
    command = [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "nba_failures.definitions",
               "--select", "*", "--partition-range", f"{FIRST}...{LAST}"]  # fmt: skip
    materialized = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert materialized.returncode == 0, materialized.stderr[-3000:]

    instance = DagsterInstance.from_config(str(home))
    [run] = instance.get_runs()
    assert run.status == DagsterRunStatus.SUCCESS
    days = [(FIRST + dt.timedelta(days=n)).isoformat() for n in range((LAST - FIRST).days + 1)]
    # Every materializable asset; the landed files are observed, not materialized.
    for assets_def in (asset for asset in defs.assets if isinstance(asset, AssetsDefinition)):
        events = instance.fetch_materializations(assets_def.key, limit=10).records
        expected = [None] if assets_def.partitions_def is None else days
        assert sorted(event.partition_key or "" for event in events) == sorted(day or "" for day in expected), assets_def.key
        assert {event.run_id for event in events} == {run.run_id}
    assert (tmp_path / "dashboard.html").stat().st_size > 0
    runs = faults.read_table(tmp_path / "warehouse.duckdb", "nba_processing.processor_runs")
    assert sorted(pd.to_datetime(runs["analysis_date"]).dt.date.map(str).unique()) == days and set(runs["run_id"]) == {run.run_id}
    instance.dispose()
