"""The project's local Dagster instance: Dagster's SQLite storage, the same files, with its event log's connections
kept open (`event_log.LocalSqliteEventLogStorage`) and the events Dagster hands over as a batch stored as one
(`EventBatchingInstance`, which also holds a step's check results until its next event).

A new `DAGSTER_HOME` gets a dagster.yaml naming `LocalInstance` (`dagster_home`): Dagster builds the instance's
storage from the home's own path, so a home can be copied or moved. A `storage:` section in that file (PostgreSQL, as in
deploy/dagster.yaml) takes precedence over it.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from dagster import AssetKey, AssetRecordsFilter, DagsterEventType, DagsterInstance
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData
from dagster._core.events import DagsterEventBatchMetadata, generate_event_batch_id
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from dagster._time import utc_datetime_from_naive
from sqlalchemy import DateTime, bindparam, text

from nba_failures import settings
from nba_failures.event_log import BatchedEventLog, LocalSqliteEventLogStorage

# Events Dagster hands over as a batch (a run's planned materializations, a range run's materializations of one
# asset) are stored this many at a time, in one transaction per file. DAGSTER_EVENT_BATCH_SIZE, Dagster's own
# switch (0: one at a time), takes precedence.
EVENT_BATCH_SIZE = 1000


class LocalSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, events, schedules under one folder) with the local event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = LocalSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping) -> LocalSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


class EventBatchingInstance(DagsterInstance):
    """Dagster's instance, storing the events Dagster hands over as a batch `EVENT_BATCH_SIZE` at a time.

    Dagster stores every event alone unless DAGSTER_EVENT_BATCH_SIZE is set; its PostgreSQL event log inserts a
    batch of materializations in one statement. The project's event logs (`event_log.BatchedEventLog`: the local
    SQLite one and the production PostgreSQL one) store any batch in one transaction.

    With those, a step's check results (a range run evaluates a check for each of its days: 2,784 results in a
    season backfill) are held too, and stored as one batch just before the run's next event of any other kind (the
    step's output or success, at the latest), or when `EVENT_BATCH_SIZE` are held. Every event is stored in the order
    it came, before any later event of its run; readers of other processes see a step's results when the step ends.
    Dagster's own event logs take no check results in a batch: there they are stored one by one as they come.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_check_results: defaultdict[str, list[EventLogEntry]] = defaultdict(list)  # by run
        self._held_lock = threading.Lock()

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        return InstanceRef.config_defaults(base_dir)

    def _get_event_batch_size(self) -> int:
        return int(os.getenv("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE)))

    def handle_new_event(self, event: EventLogEntry, *, batch_metadata: DagsterEventBatchMetadata | None = None) -> None:
        if batch_metadata is None and self._holds(event):
            with self._held_lock:
                held = self._held_check_results[event.run_id]
                held.append(event)
                full = len(held) >= self._get_event_batch_size()
            if full:
                self._store_held(event.run_id)
            return
        self._store_held(event.run_id)
        super().handle_new_event(event, batch_metadata=batch_metadata)

    def _holds(self, event: EventLogEntry) -> bool:
        return (
            event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION
            and self._get_event_batch_size() > 1
            and isinstance(self._event_storage_impl, BatchedEventLog)
        )

    def _store_held(self, run_id: str) -> None:
        """The run's held check results, handed to Dagster as one batch (it stores them when told the batch ends)."""
        with self._held_lock:
            held = self._held_check_results.pop(run_id, None)
        if not held:
            return
        batch_id = generate_event_batch_id()
        for position, entry in enumerate(held, start=1):
            batch = DagsterEventBatchMetadata(batch_id, is_end=position == len(held))
            super().handle_new_event(entry, batch_metadata=batch)

    def dispose(self) -> None:
        for run_id in list(self._held_check_results):  # a step that stopped without its closing event
            self._store_held(run_id)
        super().dispose()


class LocalInstance(EventBatchingInstance):
    """The batching instance whose storage, unless dagster.yaml configures one, is `LocalSqliteStorage` in its home."""

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        storage = ConfigurableClassData(__name__, LocalSqliteStorage.__name__, yaml.safe_dump({"base_dir": base_dir}))
        return {**EventBatchingInstance.config_defaults(base_dir), "storage": storage}


def latest_materializations(
    instance: DagsterInstance, asset_key: AssetKey, partitions: Sequence[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Per partition, its latest materialization as a check result aims at it: storage id, run and time.

    Every event log knows each partition's latest storage id. Dagster's `fetch_materializations` then deserializes
    each materialization, metadata and all (for a season's 2,437, a second of the backfill): a SQL event log
    (SQLite, PostgreSQL) answers from its index columns instead; another gets the records of those ids."""
    storage = instance.event_log_storage
    ids = storage.get_latest_storage_id_by_partition(asset_key, DagsterEventType.ASSET_MATERIALIZATION, set(partitions))
    if not ids:
        return {}
    if not isinstance(storage, SqlEventLogStorage):
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=asset_key, storage_ids=list(ids.values())), limit=len(ids)
        ).records
        latest = {record.partition_key: (record.storage_id, record.run_id, record.timestamp) for record in records}
    else:
        # Dagster's event_logs table (SQLite and PostgreSQL alike); the ids are a bound, expanding parameter.
        query = (
            text("SELECT id, run_id, timestamp FROM event_logs WHERE id IN :ids")
            .bindparams(bindparam("ids", expanding=True))
            .columns(timestamp=DateTime)
        )
        with storage.index_connection() as connection:
            rows = connection.execute(query, {"ids": list(ids.values())})
            stored = {id_: (run_id, utc_datetime_from_naive(at).timestamp()) for id_, run_id, at in rows}
        latest = {partition: (id_, *stored[id_]) for partition, id_ in ids.items()}
    return {
        partition: AssetCheckEvaluationTargetMaterializationData(storage_id=storage_id, run_id=run_id, timestamp=timestamp)
        for partition, (storage_id, run_id, timestamp) in latest.items()
    }


def local_instance_config() -> dict:
    """The dagster.yaml settings that make a home's instance a `LocalInstance`."""
    return {"instance_class": {"module": __name__, "class": LocalInstance.__name__}}


def dagster_home() -> Path:
    """`DAGSTER_HOME`, set to the project's local one when unset (so `dagster dev` sees CLI runs) and created.

    A new home (still empty) and the project's own home get a dagster.yaml naming `LocalInstance` when theirs sets
    nothing (none, or comments only: what earlier versions wrote in the project's home); a home that already holds
    an instance or configures one keeps what it has."""
    default = (settings.LOCAL_DATA_DIR / "dagster_home").resolve()
    # Dagster accepts only an absolute DAGSTER_HOME; a relative one is taken from the working directory.
    home = Path(os.environ.get("DAGSTER_HOME") or default).resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    # Only the project's home and an empty one are ours to configure: another home's file is not even read.
    ours = home == default or not any(home.iterdir())
    if ours and (not config.exists() or yaml.safe_load(config.read_text()) is None):
        comment = "# The project's local Dagster instance: runs, events and schedules are stored in this folder.\n"
        config.write_text(comment + yaml.safe_dump(local_instance_config()))
    return home


def dagster_instance() -> DagsterInstance:
    """The instance of `DAGSTER_HOME` (see `dagster_home`)."""
    dagster_home()
    return DagsterInstance.get()
