"""The instance's event logs: Dagster's own tables and files, written with fewer connections, commits and serializations.

Dagster's `SqliteEventLogStorage` builds a SQLAlchemy engine without a pool for every write and throws it away:
each event opens its database file, compiles its INSERT afresh (the compiled-statement cache lives on the engine)
and closes the file again, two or three times for an asset event (its run's file and the cross-run index). A season
backfill writes about 7,900 events (a planned event, a materialization and a check result per asset and day), and
those writes were most of the whole command's time.

- `PooledSqliteEventLogStorage` keeps one engine, with its connection pool, per database file, and writes a batch of
  events (what `instance.EventBatchingInstance` hands over as one) in one transaction per file, each asset's entry
  once per batch.
- `LocalSqliteEventLogStorage` also writes each event's text once (`EventTextOnce`): Dagster serializes a
  materialization and a check result again for their second row, and a planned check again for each of its
  partitions. The production instance's PostgreSQL event log (`instance_postgres`) takes the same mixins.

Rows, files and schema are Dagster's own: a home written here opens with Dagster's default instance and the other
way round.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetCheckKey
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from dagster._time import datetime_from_timestamp
from sqlalchemy import DateTime, bindparam, create_engine, event, text
from sqlalchemy.engine import Connection, Engine

# A run writes to its own file and to the index; a webserver or daemon reads many runs' files. Beyond this many files
# the least recently used engine is closed, so a long-lived process does not keep every run's file open.
MAX_OPEN_DATABASES = 8


@dataclass
class _Batch:
    """What a batch being stored holds until it ends: a transaction per file, and what decides each asset's entry."""

    files: ExitStack
    connections: dict[str, Connection] = field(default_factory=dict)
    # Per asset and event type, the batch's last event and its id, in the order of those last events.
    asset_entries: dict[tuple, tuple[EventLogEntry, int]] = field(default_factory=dict)


class BatchedEventLog:
    """An event log that stores any batch of events in one transaction, check results too: the instance hands it a
    step's check results as one batch (`instance.EventBatchingInstance`)."""


class KnownSchema:
    """Answers kept to Dagster's questions about the schema, which it asks before every asset event and check result,
    each time on a connection of its own: whether the index has a table, or the asset index columns, that a migration
    adds. Migrations add them and nothing removes them: once seen they are there for good; not seen yet, they are
    asked about again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._tables_present: set[str] = set()
        self._asset_key_index_cols: bool | None = None
        super().__init__(*args, **kwargs)

    def has_table(self, table_name: str) -> bool:
        if table_name not in self._tables_present and super().has_table(table_name):
            self._tables_present.add(table_name)
        return table_name in self._tables_present

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        if not self._asset_key_index_cols:
            self._asset_key_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return self._asset_key_index_cols


class PooledSqliteEventLogStorage(BatchedEventLog, KnownSchema, SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log with one engine (and its pool of connections) per database file."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._batch: _Batch | None = None  # the batch being stored (`store_event_batch`)
        super().__init__(base_dir, inst_data=inst_data)
        # Reentrant: a batch holds it while each of its events takes it again, as a single event does.
        self._db_lock = threading.RLock()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # The parent's lock, held for the whole transaction as there: one process's threads (a run's steps, the
        # webserver's event watcher) take turns on a file.
        with self._db_lock:
            if self._batch is not None:
                yield self._batch_connection(shard)
                return
            with self._engine(shard).connect() as connection, connection.begin():
                yield connection

    def _batch_connection(self, shard: str) -> Connection:
        connection = self._batch.connections.get(shard)
        if connection is None:
            connection = self._batch.files.enter_context(self._engine(shard).connect())
            self._batch.files.enter_context(connection.begin())
            self._batch.connections[shard] = connection
        return connection

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """The events stored as `store_event` stores each, in one transaction per file instead of one per write.

        A failed write rolls the whole batch back; Dagster then stores its events one by one."""
        with self._db_lock, ExitStack() as files:
            self._batch = batch = _Batch(files)
            try:
                for event in events:
                    self.store_event(event)
                with self.index_transaction() as connection:
                    for event, event_id in batch.asset_entries.values():
                        super()._store_asset_event(connection, event, event_id)
            finally:
                self._batch = None

    def _store_asset_event(self, conn: Connection, event: EventLogEntry, event_id: int) -> None:
        # An asset's entry (its latest materialization, run and event time) is overwritten by each of its events:
        # in a batch, by the last of each type. Those are written once, in order, when the batch ends.
        if self._batch is None or not event.get_dagster_event().asset_key:
            super()._store_asset_event(conn, event, event_id)
            return
        keep_last_asset_entry(self._batch.asset_entries, event, event_id)

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():
            # A forked process must not use its parent's open connections: it opens its own.
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        # A file database gets SQLAlchemy's default pool (kept connections, usable from any thread).
        engine = create_engine(self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > MAX_OPEN_DATABASES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def _close_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close_engines()  # wiping deletes the run files: nothing may keep them open
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_engines()


def keep_last_asset_entry(entries: dict[tuple, tuple[EventLogEntry, int]], event: EventLogEntry, event_id: int) -> None:
    """`entries`, per asset and event type, the last event and its id, in the order of those last events: each event
    overwrites its asset's entry, so a batch writes only these, in this order."""
    key = (event.get_dagster_event().asset_key, event.dagster_event_type)
    entries.pop(key, None)  # moved to the end
    entries[key] = (event, event_id)


def _commit_without_waiting_for_the_disk(dbapi_connection, _connection_record) -> None:
    # Dagster opens every event-log file in WAL mode. There, synchronous=NORMAL syncs the log to disk at checkpoints
    # instead of on every commit (2.4 commits an event): the file stays consistent whatever happens, and only the
    # last events before a power loss or an OS crash (not a process crash) can be lost. The production instance
    # keeps its events in PostgreSQL.
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class EventTextOnce:
    """An event's text written once: the second row of a materialization (its asset's latest) and of a check result
    (its execution row), and a planned check's row per partition, take the text of the event's own row."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._last_serialized: tuple[EventLogEntry, str] | None = None
        super().__init__(*args, **kwargs)

    def _event_to_row(self, event: EventLogEntry) -> dict[str, Any]:
        row = super()._event_to_row(event)
        self._wrote(event, row["event"])
        return row

    def _wrote(self, event: EventLogEntry, serialized: str) -> None:
        """`event`'s row holds `serialized`: its second row, written next, takes that text (`_serialized`)."""
        self._last_serialized = (event, serialized)

    def _get_asset_entry_values(self, event: EventLogEntry, event_id: int, has_asset_key_index_cols: bool) -> dict:
        # A materialization is also stored as its asset's latest, wrapped in an EventLogRecord that Dagster
        # serializes again, whole. Its text is the one just written to the event's row: wrap that instead.
        serialized = self._serialized(event)
        if not (event.get_dagster_event().is_step_materialization and serialized is not None):
            return super()._get_asset_entry_values(event, event_id, has_asset_key_index_cols)
        record = f'{{"__class__": "EventLogRecord", "event_log_entry": {serialized}, "storage_id": {event_id}}}'
        values: dict[str, Any] = {"last_materialization": record, "last_run_id": event.run_id}
        if has_asset_key_index_cols:
            values["last_materialization_timestamp"] = datetime_from_timestamp(event.timestamp)
        return values

    def _serialized(self, event: EventLogEntry) -> str | None:
        """The event's text if it is the event whose row was just written (`_wrote`), else None."""
        last = self._last_serialized
        return last[1] if last is not None and last[0] is event else None

    def _check_row(
        self, event: EventLogEntry, key: AssetCheckKey, status: AssetCheckExecutionRecordStatus, serialized: str
    ) -> dict[str, Any]:
        """The columns of an asset_check_executions row that a planned check and a check result both set."""
        return {
            "asset_key": key.asset_key.to_string(),
            "check_name": key.name,
            "run_id": event.run_id,
            "execution_status": status.value,
            "evaluation_event": serialized,
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "materialization_event_storage_id": None,
        }

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        # Dagster serializes a planned check's event again for each of its partitions (174 times for a season) into
        # one multi-row INSERT compiled afresh. The same rows here: the event's text once, one statement.
        serialized = self._serialized(event)
        if serialized is None:
            super()._store_asset_check_evaluation_planned(event, event_id)
            return
        planned = event.get_dagster_event().event_specific_data
        partitions = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        row = self._check_row(event, planned.asset_check_key, AssetCheckExecutionRecordStatus.PLANNED, serialized)
        with self.index_connection() as connection:
            _insert_check_rows(
                connection, [{**row, "partition": key, "evaluation_event_storage_id": event_id} for key in partitions]
            )

    def _update_asset_check_evaluation(self, event: EventLogEntry, event_id: int | None) -> None:
        # Dagster's update of the planned row (an insert when there is none), with the result's text from its event's
        # row instead of serializing it again.
        serialized = self._serialized(event)
        evaluation = event.get_dagster_event().event_specific_data
        if serialized is None or evaluation.partition is None:
            super()._update_asset_check_evaluation(event, event_id)
            return
        target = evaluation.target_materialization_data
        status = AssetCheckExecutionRecordStatus.SUCCEEDED if evaluation.passed else AssetCheckExecutionRecordStatus.FAILED
        row = {
            **self._check_row(event, evaluation.asset_check_key, status, serialized),
            "partition": evaluation.partition,
            "evaluation_event_storage_id": event_id,
            "materialization_event_storage_id": target.storage_id if target else None,
        }
        # The planned row of the result's asset, check, run and partition (Dagster's own key for it).
        update = text(
            "UPDATE asset_check_executions SET execution_status = :execution_status, evaluation_event = :evaluation_event,"
            " evaluation_event_timestamp = :evaluation_event_timestamp,"
            " evaluation_event_storage_id = :evaluation_event_storage_id,"
            " materialization_event_storage_id = :materialization_event_storage_id"
            " WHERE asset_key = :asset_key AND check_name = :check_name AND run_id = :run_id AND partition = :partition"
        ).bindparams(bindparam("evaluation_event_timestamp", type_=DateTime))
        with self.index_connection() as connection:
            if not connection.execute(update, row).rowcount:
                _insert_check_rows(connection, [row])


class LocalSqliteEventLogStorage(EventTextOnce, PooledSqliteEventLogStorage):
    """The local instance's event log: pooled, batched, each event's text written once."""


def _insert_check_rows(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """asset_check_executions rows (Dagster's table, its columns named as in its schema) in one statement."""
    insert = text(
        "INSERT INTO asset_check_executions (asset_key, check_name, partition, run_id, execution_status, evaluation_event,"
        " evaluation_event_timestamp, evaluation_event_storage_id, materialization_event_storage_id)"
        " VALUES (:asset_key, :check_name, :partition, :run_id, :execution_status, :evaluation_event,"
        " :evaluation_event_timestamp, :evaluation_event_storage_id, :materialization_event_storage_id)"
    ).bindparams(bindparam("evaluation_event_timestamp", type_=DateTime))
    connection.execute(insert, rows)
