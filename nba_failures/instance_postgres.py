"""The production instance's storage (deploy/dagster.yaml): dagster-postgres, its event log's connections kept open
and its batches committed once.

dagster-postgres opens a new connection (TCP and authentication) for every event it stores, so that an instance
holds no connection while idle. Only the webserver gets a pool (`optimize_for_webserver`). A season backfill stores
about 7,900 events: on a local server the whole command took 142 s that way and 55 s with a pool. Here every process
of the instance (run workers, CLI backfills, the daemon) keeps one connection for its events, and opens a few more
only while its threads write at once.

Its engine commits every statement: an event is two to four commits (its row, a notification, its asset's entry,
its check's row), each waiting for the server to sync its log to disk. `PooledPostgresEventLogStorage` stores an
event, or a batch, in one transaction, and a batch that Dagster's own stores event by event (a run's planned
events, a step's check results) with its event rows in one INSERT and without a notification per event, as
Dagster's own batch of materializations does (nothing listens to them any more). It takes the local event log's
answers kept and text written once (`event_log`).

Needs the `deploy` extra (dagster-postgres); nothing imports this module but Dagster, when dagster.yaml names it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from dagster import DagsterEventType
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from nba_failures.event_log import BatchedEventLog, EventTextOnce, KnownSchema, keep_last_asset_entry

# A kept connection is replaced after an hour, so a long-lived daemon survives a server's idle-connection limits.
POOL_RECYCLE_SECONDS = 3600
# Connections beyond the kept one while several threads of a process write events at once.
MAX_OVERFLOW = 4


class PooledPostgresEventLogStorage(EventTextOnce, BatchedEventLog, KnownSchema, PostgresEventLogStorage):
    """dagster-postgres's event log with the webserver's pool, storing an event, or a batch of them, in one transaction."""

    def __init__(self, *args, **kwargs) -> None:
        # The thread storing an event or a batch and the connection its transaction is on: other threads write on
        # their own (one transaction at a time; a thread's writes inside it join it).
        self._writing: tuple[int, Connection] | None = None
        self._write_lock = threading.Lock()
        super().__init__(*args, **kwargs)
        # The pooled engine Dagster gives the webserver, with no statement timeout: a run's writes must not be cut off.
        self.optimize_for_webserver(statement_timeout=0, pool_recycle=POOL_RECYCLE_SECONDS, max_overflow=MAX_OVERFLOW)

    def _open_transaction(self) -> Connection | None:
        """The connection of this thread's transaction, if it is in one."""
        writing = self._writing
        return writing[1] if writing is not None and writing[0] == threading.get_ident() else None

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        joined = self._open_transaction()
        with nullcontext(joined) if joined is not None else super()._connect() as connection:
            yield connection

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction for the block's writes of this thread (the enclosing one's, inside a batch)."""
        joined = self._open_transaction()
        with nullcontext(joined) if joined is not None else self._new_transaction() as connection:
            yield connection

    @contextmanager
    def _new_transaction(self) -> Iterator[Connection]:
        with self._write_lock, super()._connect() as connection:
            # The engine commits each statement; READ COMMITTED for this connection only, as Dagster's index
            # transactions do (the pool resets it when the connection is returned).
            connection = connection.execution_options(isolation_level="READ COMMITTED")
            with connection.begin():
                self._writing = (threading.get_ident(), connection)
                try:
                    yield connection
                finally:
                    self._writing = None

    def store_event(self, event: EventLogEntry) -> None:
        """The event's rows as Dagster writes them, in one transaction (Dagster's own commits each of them)."""
        with self._transaction():
            super().store_event(event)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """The events' rows as Dagster writes them, in one transaction: a batch of materializations (or observations)
        as Dagster's own batch does; any other batch (a run's planned events, a step's check results) with its event
        rows in one INSERT, each asset's entry once (from its last event of each type), and each check's rows. A
        failed write rolls the whole batch back; Dagster then stores its events one by one."""
        with self._transaction() as connection:
            types = {event.dagster_event_type for event in events}
            if types <= {DagsterEventType.ASSET_MATERIALIZATION} or types <= {DagsterEventType.ASSET_OBSERVATION}:
                super().store_event_batch(events)
            else:
                self._store_in_one_insert(connection, events)

    def _store_in_one_insert(self, connection: Connection, events: Sequence[EventLogEntry]) -> None:
        rows = [self._event_to_row(event) for event in events]
        ids = _insert_event_rows(connection, rows)
        asset_events = [
            (event, event_id)
            for event, event_id in zip(events, ids)
            if event.dagster_event_type in ASSET_EVENTS and event.get_dagster_event().asset_key
        ]
        if asset_events:
            self._store_asset_event_tags(connection, [event for event, _ in asset_events], [id_ for _, id_ in asset_events])
            entries: dict[tuple, tuple[EventLogEntry, int]] = {}
            for event, event_id in asset_events:
                keep_last_asset_entry(entries, event, event_id)
            for event, event_id in entries.values():
                self._store_asset_event(connection, event, event_id)
        for event, event_id, row in zip(events, ids, rows):
            if event.dagster_event_type in ASSET_CHECK_EVENTS:
                self._wrote(event, row["event"])
                self.store_asset_check_event(event, event_id)


def _insert_event_rows(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """event_logs rows (Dagster's table, its columns as `_event_to_row` names them) in one bound INSERT; their ids in
    the order of the rows, as Dagster's own batch takes them."""
    values = ", ".join(
        f"(:run_id_{index}, :event_{index}, :dagster_event_type_{index}, :timestamp_{index}, :step_key_{index},"
        f" :asset_key_{index}, :partition_{index})"
        for index, _ in enumerate(rows)
    )
    insert = text(
        f"INSERT INTO event_logs (run_id, event, dagster_event_type, timestamp, step_key, asset_key, partition) VALUES {values}"
        " RETURNING id"
    )
    parameters = {f"{column}_{index}": value for index, row in enumerate(rows) for column, value in row.items()}
    return [int(event_id) for (event_id,) in connection.execute(insert, parameters)]


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` (runs, events, schedules in PostgreSQL) with `PooledPostgresEventLogStorage`."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider=None,
    ) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data=inst_data, token_provider=token_provider)
        self._event_log_storage.dispose()  # Dagster's, replaced: it holds no connection, but may watch
        self._event_log_storage = PooledPostgresEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping) -> PooledPostgresStorage:
        return cls(
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )
