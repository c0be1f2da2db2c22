"""A real PostgreSQL server on loopback in a temporary directory, for the production instance's tests and benchmarks.

The binaries come from `NBA_FAILURES_PG_BIN` (set by scripts/test from .ci/install_postgres.sh) or the newest
/usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg2

USER = "dagster"
PASSWORD = "dagster"


def _bindir() -> Path:
    configured = os.environ.get("NBA_FAILURES_PG_BIN")
    if configured:
        return Path(configured)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries: run .ci/install_postgres.sh")
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; stopped and removed on exit."""

    def __init__(self, durable: bool = False) -> None:
        # Tests run without fsync; a benchmark of the production instance (`durable`) keeps PostgreSQL's default.
        self.durable = durable
        self.bindir = _bindir()
        self.port = _free_port()
        self.host = "127.0.0.1"
        # Not under pytest's private temp dir: the server's own user must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="nba_failures_pg_"))
        self.data = self.root / "data"
        self._as_server_user: list[str] = []
        if os.geteuid() == 0:
            server_user = pwd.getpwnam("postgres")
            os.chown(self.root, server_user.pw_uid, server_user.pw_gid)
            self._as_server_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_server_user, *command], check=True, capture_output=True, text=True, timeout=120)

    def __enter__(self) -> PostgresServer:
        password_file = self.root / "password"
        password_file.write_text(PASSWORD)
        if self._as_server_user:
            shutil.chown(password_file, "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
        )
        options = f"-h {self.host} -p {self.port} -k {self.root} -c max_connections=200"
        options += "" if self.durable else " -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start"
        )
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        connection = psycopg2.connect(host=self.host, port=self.port, user=USER, password=PASSWORD, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return name

    def instance_env(self, database: str) -> dict[str, str]:
        """The environment deploy/dagster.yaml reads its connection from."""
        return {
            "NBA_FAILURES_PG_HOST": self.host,
            "NBA_FAILURES_PG_PORT": str(self.port),
            "NBA_FAILURES_PG_USER": USER,
            "NBA_FAILURES_PG_PASSWORD": PASSWORD,
            "NBA_FAILURES_PG_DB": database,
        }
