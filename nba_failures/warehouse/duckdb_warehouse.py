"""The embedded default warehouse: one DuckDB file, datasets as schemas."""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.schema import TableSpec, check_inside_slice

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# DuckDB allows one writing process per file; concurrent runs wait for the lock instead of failing.
_LOCK_WAIT_SECONDS = 120.0


class WarehouseLockTimeout(RuntimeError):
    pass


@dataclass
class _Session:
    connection: duckdb.DuckDBPyConnection
    # The file's tables and their columns, read once in the session (None: not read yet, or dropped by a rollback).
    catalog: dict[str, set[str]] | None = None
    in_transaction: bool = False


_local = threading.local()


@dataclass
class _AttachedFile:
    catalog: str  # the name it is attached under
    users: int = 0


class _ProcessDuckDB:
    """This process's DuckDB: one in-memory instance, each warehouse file attached to it while a connection uses it.

    Starting an instance costs ~20 ms (it registers every built-in function), which opening the file with its own
    instance paid each time; attaching a file to the running one costs ~3 ms. Detaching, when its last connection
    closes, checkpoints the file and releases its lock, as closing its own instance did: other processes get in
    between. Connections are cursors of the instance, one per user, each with the file as its default catalog.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._instance: duckdb.DuckDBPyConnection | None = None
        self._files: dict[str, _AttachedFile] = {}
        self._attached = 0

    def open(self, path: str) -> duckdb.DuckDBPyConnection:
        """A connection to `path`; raises DuckDB's IOException while another process holds the file's lock."""
        import duckdb

        path = os.path.realpath(path)  # one attachment per file, however its path is written
        with self._lock:
            if self._pid != os.getpid():  # first use here, or a forked child: the parent's instance is not this one's
                self._instance, self._files, self._pid = duckdb.connect(":memory:"), {}, os.getpid()
            attached = self._files.get(path)
            if attached is None:
                attached = _AttachedFile(f"warehouse_{self._attached}")
                self._instance.execute(f"ATTACH ? AS {attached.catalog}", [path])
                self._attached += 1
                self._files[path] = attached
            attached.users += 1
            connection = self._instance.cursor()
        try:
            connection.execute(f"USE {attached.catalog}")
        except BaseException:
            self.close(path, connection)
            raise
        return connection

    def close(self, path: str, connection: duckdb.DuckDBPyConnection) -> None:
        path = os.path.realpath(path)
        connection.close()
        with self._lock:
            attached = self._files[path]
            attached.users -= 1
            if attached.users == 0:
                self._instance.execute(f"DETACH {attached.catalog}")
                del self._files[path]  # only once detached: a failed detach leaves the file attached, and known


_PROCESS_DUCKDB = _ProcessDuckDB()


def _thread_sessions() -> dict[str, _Session]:
    """Open sessions of this thread, by database path."""
    if not hasattr(_local, "sessions"):
        _local.sessions = {}
    return _local.sessions


class DuckDBWarehouse(Warehouse):
    """One DuckDB file; datasets are schemas. Waits for the single-writer lock rather than failing."""

    path: str = Field(description="Path of the DuckDB database file.")

    @property
    def location(self) -> str:
        return f"DuckDB file {Path(self.path).resolve()}"

    @contextmanager
    def session(self) -> Iterator[None]:
        """One connection for the block (this thread): attaching the file, reading its catalog and checkpointing it
        when it is let go, paid once here instead of per read and write. The file stays locked for the block."""
        sessions = _thread_sessions()
        if self.path in sessions:
            yield
            return
        with self._open() as connection:
            sessions[self.path] = _Session(connection)
            try:
                yield
            finally:
                del sessions[self.path]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One DuckDB transaction for the block's writes (in a session of its own if none is open)."""
        with self.session():
            session = _thread_sessions()[self.path]
            if session.in_transaction:
                yield
                return
            session.connection.execute("BEGIN TRANSACTION")
            session.in_transaction = True
            try:
                yield
            except BaseException:
                session.connection.execute("ROLLBACK")
                session.catalog = None  # tables the transaction made are gone again
                raise
            else:
                session.connection.execute("COMMIT")
            finally:
                session.in_transaction = False

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        session = _thread_sessions().get(self.path)
        if session is not None:
            yield session.connection
            return
        with self._open() as connection:
            yield connection

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        import duckdb  # here, not at load: the code location loads (webserver, daemon, every run) without opening it

        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        delay = 0.05
        while True:
            try:
                connection = _PROCESS_DUCKDB.open(self.path)
                break
            except duckdb.IOException as error:
                if "lock" not in str(error).lower():
                    raise  # not the single-writer lock: waiting will not help, and it is not a timeout
                if time.monotonic() > deadline:
                    raise WarehouseLockTimeout(f"DuckDB file {self.path} stayed locked: {error}") from error
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
        try:
            yield connection
        finally:
            _PROCESS_DUCKDB.close(self.path, connection)

    def _ensure_table(self, connection: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        """Create the table, or add the columns its definition gained since (additive migration).

        The catalog is read once per session: nothing else writes the file while the session holds it.
        """
        session = _thread_sessions().get(self.path)
        if session is not None and session.connection is connection:
            if session.catalog is None:
                session.catalog = _catalog(connection)
            catalog = session.catalog
        else:
            catalog = _catalog(connection)
        existing = catalog.get(table.qualified_name)
        if existing is None:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.dataset}")
            connection.execute(table.duckdb_ddl())
            existing = set(table.column_names)
        for column in table.columns:
            if column.name not in existing:
                # Added columns are nullable whatever the definition says: old rows have no value.
                connection.execute(f"ALTER TABLE {table.qualified_name} ADD COLUMN {column.name} {column.duckdb_type}")
        catalog[table.qualified_name] = existing | set(table.column_names)

    def ensure_tables(self, tables: Sequence[TableSpec]) -> None:
        with self._connect() as connection:
            for table in tables:
                self._ensure_table(connection, table)

    def read(
        self,
        table: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        where_in: Mapping[str, Sequence] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        clauses, params = _window_clauses(table, start, end, where_in)
        selected = table.subset(columns) if columns is not None else table
        sql = f"SELECT {', '.join(selected.column_names)} FROM {table.qualified_name}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        with self._connect() as connection:
            self._ensure_table(connection, table)
            rows = connection.sql(sql, params=params).to_arrow_table()
        return selected.frame_from_arrow(rows)

    def slice_fingerprint(self, table: TableSpec, start: dt.date, end: dt.date) -> str:
        # Each whole row hashed with its row id, the order a read returns rows in: the same rows in another order
        # differ. DuckDB's own hashing, a few ms for a season's raw rows.
        clauses, params = _window_clauses(table, start, end, None)
        row = "hash(rowid, stored)"
        sql = f"SELECT count(*), sum({row}::HUGEINT), bit_xor({row}) FROM {table.qualified_name} AS stored"
        with self._connect() as connection:
            self._ensure_table(connection, table)
            [(count, total, combined)] = connection.execute(f"{sql} WHERE {' AND '.join(clauses)}", params).fetchall()
        return f"{count}:{total}:{combined}"

    def replace(
        self,
        table: TableSpec,
        frame: pd.DataFrame,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None = None,
    ) -> int:
        with self.transaction(), self._connect() as connection:
            self._ensure_table(connection, table)
            return self._replace(connection, table, frame, start, end, where_in)

    def update_slice(
        self,
        table: TableSpec,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None,
        update: Callable[[pd.DataFrame], pd.DataFrame],
    ) -> pd.DataFrame:
        clauses, params = _window_clauses(table, start, end, where_in)
        # One transaction (and the file lock) from read to write: no other writer comes in between.
        with self.transaction(), self._connect() as connection:
            self._ensure_table(connection, table)
            current = table.frame_from_arrow(
                connection.sql(
                    f"SELECT {', '.join(table.column_names)} FROM {table.qualified_name} WHERE {' AND '.join(clauses)}",
                    params=params,
                ).to_arrow_table()
            )
            updated = update(current)
            self._replace(connection, table, updated, start, end, where_in)
        return updated

    def _replace(
        self,
        connection: duckdb.DuckDBPyConnection,
        table: TableSpec,
        frame: pd.DataFrame,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None,
    ) -> int:
        """Delete the slice and insert `frame`: inside the caller's transaction, so both or neither land."""
        conformed = table.conform(frame)
        check_inside_slice(table, conformed, start, end, where_in)
        clauses, params = _window_clauses(table, start, end, where_in)
        casts = ", ".join(f"CAST({c.name} AS {c.duckdb_type}) AS {c.name}" for c in table.columns)
        connection.register("incoming_rows", table.arrow_table(conformed, conformed=True))
        try:
            connection.execute(f"DELETE FROM {table.qualified_name} WHERE {' AND '.join(clauses)}", params)
            # Columns by name: a migrated table has its added columns at the end, not where the spec has them.
            connection.execute(
                f"INSERT INTO {table.qualified_name} ({', '.join(table.column_names)}) SELECT {casts} FROM incoming_rows"
            )
        finally:
            connection.unregister("incoming_rows")
        return len(conformed)


def _window_clauses(
    table: TableSpec, start: dt.date | None, end: dt.date | None, where_in: Mapping[str, Sequence] | None
) -> tuple[list[str], list]:
    clauses: list[str] = []
    params: list = []
    if start is not None:
        clauses.append(f"{table.partition_column} >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{table.partition_column} < ?")
        params.append(end)
    for name, values in (where_in or {}).items():
        column = table.column(name)  # raises for a name not in the schema
        clauses.append(f"list_contains(?, {column.name})")
        params.append(list(values))
    return clauses, params


def _catalog(connection: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Every table of the file (`dataset.name`) and its columns, in one query (the connection's file: other files may
    be attached to the process's instance)."""
    catalog: dict[str, set[str]] = {}
    rows = connection.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_catalog = current_database()"
    ).fetchall()
    for dataset, name, column in rows:
        catalog.setdefault(f"{dataset}.{name}", set()).add(column)
    return catalog
