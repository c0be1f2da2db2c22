"""The production instance's storage (deploy/dagster.yaml): dagster-postgres, its event log's connections kept open
and its batches committed once.

dagster-postgres opens a new connection (TCP and authentication) for every event it stores, so that an instance
holds no connection while idle. Only the webserver gets a pool (`optimize_for_webserver`). A season backfill stores
about 7,900 events: on a local server the whole command took 142 s that way and 55 s with a pool. Here every process
of the instance (run workers, CLI backfills, the daemon) keeps one connection for its events, and opens a few more
only while its threads write at once.

Its engine commits every statement: an event is two to four commits (its row, a notification, its asset's entry,
its check's row), each waiting for the server to sync its log to disk. `PooledPostgresEventLogStorage` stores a
batch that Dagster's own would store event by event (a run's planned materializations, a step's check results) in
one transaction, and takes the local event log's answers kept and text written once (`event_log`).

Needs the `deploy` extra (dagster-postgres); nothing imports this module but Dagster, when dagster.yaml names it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from dagster._core.events import BATCH_WRITABLE_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import Connection

from nba_failures.event_log import BatchedEventLog, EventTextOnce, KnownSchema

# A kept connection is replaced after an hour, so a long-lived daemon survives a server's idle-connection limits.
POOL_RECYCLE_SECONDS = 3600
# Connections beyond the kept one while several threads of a process write events at once.
MAX_OVERFLOW = 4


class PooledPostgresEventLogStorage(EventTextOnce, BatchedEventLog, KnownSchema, PostgresEventLogStorage):
    """dagster-postgres's event log with the webserver's pool, storing a batch of events in one transaction."""

    def __init__(self, *args, **kwargs) -> None:
        # The thread storing a batch and the connection its transaction is on: other threads write on their own.
        self._batch: tuple[int, Connection] | None = None
        self._batch_lock = threading.Lock()
        super().__init__(*args, **kwargs)
        # The pooled engine Dagster gives the webserver, with no statement timeout: a run's writes must not be cut off.
        self.optimize_for_webserver(statement_timeout=0, pool_recycle=POOL_RECYCLE_SECONDS, max_overflow=MAX_OVERFLOW)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        batch = self._batch
        if batch is not None and batch[0] == threading.get_ident():
            yield batch[1]
            return
        with super()._connect() as connection:
            yield connection

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """The events stored as Dagster stores them, in one transaction: a batch of materializations as one INSERT,
        any other batch event by event. A failed write rolls the whole batch back; Dagster then stores its events
        one by one."""
        with self._batch_lock, super()._connect() as connection:
            # The engine commits each statement; READ COMMITTED for this connection only, as Dagster's index
            # transactions do (the pool resets it when the connection is returned).
            connection = connection.execution_options(isolation_level="READ COMMITTED")
            with connection.begin():
                self._batch = (threading.get_ident(), connection)
                try:
                    if {event.dagster_event_type for event in events} <= BATCH_WRITABLE_EVENTS:
                        super().store_event_batch(events)
                    else:  # check results, which Dagster's own batch refuses
                        for event in events:
                            self.store_event(event)
                finally:
                    self._batch = None


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
