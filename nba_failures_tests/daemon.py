"""A real Dagster daemon (sensors, run queue) in a subprocess, over a temporary DAGSTER_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from nba_failures.settings import PROJECT_DIR


class DagsterDaemon:
    """`dagster-daemon run -w workspace.yaml` with the given environment; stopped on exit."""

    def __init__(self, home: Path, env: dict[str, str], log_path: Path) -> None:
        self.home = home
        self.env = {**os.environ, **env, "DAGSTER_HOME": str(home)}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> DagsterDaemon:
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

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
