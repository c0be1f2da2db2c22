"""A real Dagster daemon (sensors, run queue) in a subprocess, over a temporary DAGSTER_HOME."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Self

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from nba_failures.settings import PROJECT_DIR


class DagsterDaemon:
    """`dagster-daemon run -w workspace.yaml` with the given environment; stopped on exit."""

    def __init__(self, home: Path, env: dict[str, str], log_path: Path) -> None:
        self.home = home
        self.env = {**os.environ, **env, "DAGSTER_HOME": str(home)}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.home.mkdir(parents=True, exist_ok=True)
        executable = Path(sys.executable).with_name("dagster-daemon")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(executable), "run", "-w", str(PROJECT_DIR / "workspace.yaml")],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()

    def wait_for(self, condition: Callable[[], bool], timeout: float, interval: float = 3.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster-daemon exited ({self.process.returncode}); log:\n{self.log_tail()}")
            if condition():
                return
            time.sleep(interval)
        raise TimeoutError(f"{what} not reached in {timeout:.0f}s; daemon log:\n{self.log_tail()}")

    def wait_until_quiet(self, instance: DagsterInstance, tick_seconds: float, timeout: float = 600) -> None:
        """No run queued or running through several sensor ticks: the sensors have nothing left to launch, and
        nothing they launched is cut short when the daemon stops."""
        quiet_since: float | None = None

        def quiet() -> bool:
            nonlocal quiet_since
            if any(not run.is_finished for run in instance.get_runs()):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            return quiet_since is not None and time.monotonic() - quiet_since >= 4 * tick_seconds

        self.wait_for(quiet, timeout=timeout, interval=1, what="no run in flight for four ticks")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def cli_backfill(env: dict[str, str], first: dt.date, last: dt.date) -> None:
    """`nba-failures backfill` of `[first, last]` in its own process, with the daemon's environment."""
    cli = str(Path(sys.executable).with_name("nba-failures"))
    command = [cli, "backfill", "--start", first.isoformat(), "--end", last.isoformat()]
    backfill = subprocess.run(command, check=False, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert backfill.returncode == 0, backfill.stderr[-3000:]


def materialized_days(instance: DagsterInstance, asset_keys: Iterable[AssetKey], days: Sequence[dt.date]) -> dict[str, set[str]]:
    """For each asset, which of `days` have a materialization in `instance`."""
    partitions = [day.isoformat() for day in days]
    return {
        key.to_user_string(): {
            record.partition_key
            for record in instance.fetch_materializations(
                AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=1000
            ).records
        }
        for key in asset_keys
    }


def daily_asset_keys() -> list[AssetKey]:
    """Every daily-partitioned materializable asset of the code location."""
    from nba_failures.definitions import defs

    graph = defs.resolve_asset_graph()
    return sorted(key for key in graph.materializable_asset_keys if graph.get(key).partitions_def is not None)
