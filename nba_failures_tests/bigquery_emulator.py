"""Run a local BigQuery emulator (PyPI ``local-bigquery``) for tests.

The emulator lives in its own Python 3.13 virtualenv, created by
``.ci/install_bigquery_emulator.sh``.  This module only needs the path of that
venv's python: ``$NBA_FAILURES_BQ_EMULATOR_PYTHON``, else
``${NBA_FAILURES_BQ_EMULATOR_VENV:-~/.cache/nba_failures/bq-emulator-venv}/bin/python``.

It is launched as::

    <python> -c "import sys; from local_bigquery.cli import main; sys.exit(main())" \
        serve --host 127.0.0.1 --port PORT --grpc-port GRPC_PORT \
        --project test-project --data-dir DIR

and serves the BigQuery REST API at ``http://127.0.0.1:PORT`` (the Storage
Read/Write gRPC API at ``127.0.0.1:GRPC_PORT``).  Data are stored in ``DIR``
(DuckDB + DuckLake files), so they survive :meth:`BigQueryEmulator.restart`.

Usage::

    with BigQueryEmulator() as emulator:
        client = emulator.client()
        client.query_and_wait("SELECT 1")
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud import bigquery

__all__ = [
    "INSTALL_SCRIPT",
    "BigQueryEmulator",
    "EmulatorError",
    "EmulatorNotInstalledError",
    "default_emulator_python",
    "find_emulator_python",
]

PYTHON_ENV = "NBA_FAILURES_BQ_EMULATOR_PYTHON"
VENV_ENV = "NBA_FAILURES_BQ_EMULATOR_VENV"
INSTALL_SCRIPT = ".ci/install_bigquery_emulator.sh"
DEFAULT_PROJECT = "test-project"
_LAUNCH = "import sys; from local_bigquery.cli import main; sys.exit(main())"


class EmulatorError(RuntimeError):
    """The emulator failed to start or answer."""


class EmulatorNotInstalledError(EmulatorError):
    """No emulator python was found."""


def default_emulator_python() -> Path:
    venv = os.environ.get(VENV_ENV) or str(Path.home() / ".cache" / "nba_failures" / "bq-emulator-venv")
    return Path(venv) / "bin" / "python"


def duckdb_home(python: Path) -> Path:
    """The home directory the emulator runs with: DuckDB finds the extensions that
    ``.ci/install_bigquery_emulator.sh`` installed in its ``.duckdb/extensions``, inside the venv
    (``<venv>/bin/python`` -> ``<venv>/duckdb_home``), not in the user's ``~/.duckdb``."""
    return python.parent.parent / "duckdb_home"


def find_emulator_python() -> Path:
    """Return the emulator's python or raise :class:`EmulatorNotInstalledError`."""
    explicit = os.environ.get(PYTHON_ENV)
    candidate = Path(explicit) if explicit else default_emulator_python()
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        source = f"${PYTHON_ENV}" if explicit else "the default venv"
        raise EmulatorNotInstalledError(
            f"BigQuery emulator python not found at {candidate} (from {source}); "
            f"run `bash {INSTALL_SCRIPT}` and/or set {PYTHON_ENV}"
        )
    return candidate


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BigQueryEmulator:
    """A ``local-bigquery`` emulator subprocess on a free loopback port.

    * :meth:`start` picks free ports (REST and gRPC) and, unless ``data_dir`` is
      given, a fresh temporary data directory; it waits until the REST API
      answers HTTP or raises :class:`EmulatorError` with the tail of the
      emulator's log.
    * :meth:`stop` terminates the process (SIGTERM, then SIGKILL after
      ``stop_timeout``) and keeps the data directory.
    * :meth:`restart` = stop + start on the same ports and data directory.
      The emulator persists datasets, tables, rows and job metadata in its data
      directory (DuckDB/DuckLake), so data survive a restart.  In-flight
      resumable uploads and query sessions do not.
    * :meth:`close` (also ``__exit__``) stops it and removes the temporary data
      directory if this object created it.
    """

    def __init__(
        self,
        project: str = DEFAULT_PROJECT,
        *,
        python: str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.project = project
        self._python = Path(python) if python else None
        self._data_dir = Path(data_dir) if data_dir else None
        self._owns_data_dir = False
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.port: int | None = None
        self.grpc_port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir: Path | None = None
        self._log_path: Path | None = None
        self._log_file: Any = None
        self.startup_seconds: float | None = None
        self._started_once = False

    # ------------------------------------------------------------------ props
    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise EmulatorError("emulator not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_address(self) -> str:
        if self.grpc_port is None:
            raise EmulatorError("emulator not started")
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def data_dir(self) -> Path | None:
        return self._data_dir

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -------------------------------------------------------------- lifecycle
    def start(self) -> BigQueryEmulator:
        if self.running:
            return self
        python = self._python or find_emulator_python()
        if self._data_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="nba-bq-emulator-data-"))
            self._owns_data_dir = True
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="nba-bq-emulator-log-"))
        if self.port is None:
            self.port = _free_port()
        if self.grpc_port is None:
            self.grpc_port = _free_port()
            while self.grpc_port == self.port:
                self.grpc_port = _free_port()

        self._log_path = self._log_dir / "emulator.log"
        self._log_file = open(self._log_path, "ab")
        self._log_file.write(f"\n--- start {time.strftime('%H:%M:%S')} ---\n".encode())
        self._log_file.flush()
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # CLI flags win over these, but keep stray settings from leaking in.
        for name in ("BIGQUERY_PORT", "GRPC_PORT", "DATA_DIR", "DEFAULT_PROJECT_ID"):
            env.pop(name, None)
        # DuckDB looks for extensions under $HOME/.duckdb: the install script put them under the venv's own home.
        env["HOME"] = str(duckdb_home(Path(python)))
        cmd = [
            str(python),
            "-c",
            _LAUNCH,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--grpc-port",
            str(self.grpc_port),
            "--project",
            self.project,
            "--data-dir",
            str(self._data_dir),
        ]
        began = time.monotonic()
        self._process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            self._wait_ready(began)
        except BaseException:
            # The error message already carries the log tail.  Drop the temp
            # dirs unless an earlier successful start may have left data there.
            if self._started_once:
                self.stop()
            else:
                self.close()
            raise
        self._started_once = True
        self.startup_seconds = time.monotonic() - began
        return self

    def _wait_ready(self, began: float) -> None:
        url = f"{self.endpoint}/bigquery/v2/projects/{self.project}/datasets"
        deadline = began + self.startup_timeout
        last_error: object = None
        while time.monotonic() < deadline:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                raise EmulatorError(f"BigQuery emulator exited with code {code} during startup.\n{self.log_tail()}")
            try:
                # Listing datasets opens the DuckDB database (and so loads the
                # icu/ducklake extensions): a 200 means queries will work too.
                with urllib.request.urlopen(url, timeout=5) as response:
                    response.read()
                return
            except urllib.error.HTTPError as error:
                body = error.read().decode("utf-8", "replace")[:2000]
                raise EmulatorError(
                    f"BigQuery emulator answers but is not healthy: GET {url} -> "
                    f"HTTP {error.code}: {body}\n"
                    f"(missing DuckDB extensions? re-run `bash {INSTALL_SCRIPT}`)\n"
                    f"{self.log_tail()}"
                ) from error
            except (urllib.error.URLError, OSError) as error:
                last_error = error
            time.sleep(0.05)
        raise EmulatorError(
            f"BigQuery emulator did not answer at {url} within "
            f"{self.startup_timeout:.0f}s (last error: {last_error}).\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(self.stop_timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def restart(self) -> BigQueryEmulator:
        """Stop and start again on the same ports and data directory (data persist)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        if self._owns_data_dir and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None
            self._owns_data_dir = False
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None

    def __enter__(self) -> BigQueryEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------- helpers
    def log_tail(self, lines: int = 40) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(no emulator log)"
        with open(self._log_path, "rb") as log:
            tail = deque(log, maxlen=lines)
        text = b"".join(tail).decode("utf-8", "replace")
        return f"--- last {lines} lines of {self._log_path} ---\n{text}"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``google.cloud.bigquery.Client`` to reach the emulator."""
        from google.auth.credentials import AnonymousCredentials

        return {
            "project": self.project,
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": self.endpoint},
        }

    def client(self, **kwargs: Any) -> bigquery.Client:
        """A ``google.cloud.bigquery.Client`` talking to the emulator."""
        from google.cloud import bigquery

        os.environ.setdefault("NO_GCE_CHECK", "True")
        return bigquery.Client(**{**self.client_kwargs(), **kwargs})
