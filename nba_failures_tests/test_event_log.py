"""The local instance's event log: Dagster's SQLite files, written through connections that stay open, a batch in
one transaction per file, each event's text once.

Each test runs real Dagster runs (a daily-partitioned asset with a partitioned check) on a real instance in a
temporary DAGSTER_HOME, or stores their events into the storage itself, beside Dagster's own storage.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterEventType, DagsterInstance
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.base import EventLogRecord
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import deserialize_value, serialize_value
from dagster_shared.record import replace

from nba_failures.event_log import LocalSqliteEventLogStorage, PooledSqliteEventLogStorage
from nba_failures.instance import local_instance_config
from nba_failures_tests.instance_runs import (
    DAYS,
    backfill_days,
    backfill_range,
    checked_box_score_days,
    engine_events,
    index_rows,
    instance_home,
)


def _sqlite_connections():
    """Every SQLite connection opened in this process while inside, by database file."""
    return engine_events("connect", lambda connection, _record: connection.execute("PRAGMA database_list").fetchone()[2])


def _stored(instance: DagsterInstance) -> tuple[set[str], dict[str, int]]:
    """The materialized days and, per run, the number of events stored."""
    events = {run.run_id: len(instance.all_logs(run.run_id)) for run in instance.get_runs()}
    return instance.get_materialized_partitions(AssetKey("box_scores")), events


def _sync_and_journal(instance: DagsterInstance) -> tuple[int, str]:
    with instance.event_log_storage.index_connection() as connection:
        return tuple(connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("synchronous", "journal_mode"))


def test_local_instance_opens_each_database_once_and_writes_dagsters_own_files(tmp_path):
    local_home = instance_home(tmp_path / "local", local_instance_config())
    default_home = instance_home(tmp_path / "default", {})
    with DagsterInstance.from_config(str(local_home)) as instance:
        with _sqlite_connections() as opened:
            backfill_days(instance)
        local_stored = _stored(instance)
        assert _sync_and_journal(instance) == (1, "wal")  # synchronous=NORMAL: a commit does not wait for the disk
    events = sum(local_stored[1].values())
    assert events > 10 * len(DAYS.get_partition_keys())
    # Each run's file and the index opened once, but for Dagster's set-up of a new file and its first question
    # about a table, which open their own.
    event_log_opens = collections.Counter(Path(path).name for path in opened if "/history/runs/" in path)
    assert len(event_log_opens) == len(DAYS.get_partition_keys()) + 1
    assert max(event_log_opens.values()) <= 3

    with DagsterInstance.from_config(str(default_home)) as instance, _sqlite_connections() as opened:
        backfill_days(instance)
        assert _sync_and_journal(instance) == (2, "wal")  # Dagster's FULL
    assert len([path for path in opened if "/history/runs/" in path]) > events  # Dagster's own: a file per write

    # The same home read by Dagster's default instance, from a copy elsewhere (the home holds no absolute path).
    copy = tmp_path / "copied"
    shutil.copytree(local_home, copy)
    (copy / "dagster.yaml").unlink()
    with DagsterInstance.from_config(str(copy)) as instance:
        assert not isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        assert _stored(instance) == local_stored
        assert local_stored[0] == set(DAYS.get_partition_keys())


def _write_from_forked_child(instance: DagsterInstance, day: str, opened_in_child: multiprocessing.Queue) -> None:
    with _sqlite_connections() as opened:
        instance.report_runless_asset_event(AssetMaterialization("box_scores", partition=day))
    opened_in_child.put(len([path for path in opened if "/history/runs/" in path]))


def test_a_forked_process_writes_through_connections_of_its_own(tmp_path):
    home = instance_home(tmp_path / "home", local_instance_config())
    fork = multiprocessing.get_context("fork")
    with DagsterInstance.from_config(str(home)) as instance:
        for day in ("2023-01-01", "2023-01-02"):  # the parent's connections are open when it forks
            instance.report_runless_asset_event(AssetMaterialization("box_scores", partition=day))
        opened_in_child = fork.Queue()
        child = fork.Process(target=_write_from_forked_child, args=(instance, "2023-01-03", opened_in_child))
        child.start()
        assert opened_in_child.get(timeout=60) >= 1
        child.join(60)
        assert child.exitcode == 0
        instance.report_runless_asset_event(AssetMaterialization("box_scores", partition="2023-01-04"))
        assert instance.get_materialized_partitions(AssetKey("box_scores")) == {f"2023-01-0{day}" for day in range(1, 5)}


@pytest.mark.parametrize("config", [local_instance_config(), {}], ids=["local", "default"])
def test_wiping_the_instance_leaves_no_run_file_open(tmp_path, config):
    home = instance_home(tmp_path / "home", config)
    with DagsterInstance.from_config(str(home)) as instance:
        backfill_days(instance)
        instance.wipe()
        assert list((home / "history" / "runs").glob("*.db")) == [home / "history" / "runs" / "index.db"]
        backfill_days(instance)
        assert instance.get_materialized_partitions(AssetKey("box_scores")) == set(DAYS.get_partition_keys())


def _commits():
    """The database file name of each commit made in this process while inside."""
    return engine_events("commit", lambda connection: Path(connection.engine.url.database).name)


def _latest_materializations(home: Path) -> dict[str, tuple[str, str]]:
    """Per asset, the stored text of its latest materialization and of the event row it names."""
    with contextlib.closing(sqlite3.connect(home / "history" / "runs" / "index.db")) as index:
        latest = index.execute("SELECT asset_key, last_materialization FROM asset_keys").fetchall()
        return {
            key: (
                text,
                index.execute("SELECT event FROM event_logs WHERE id = ?", [deserialize_value(text).storage_id]).fetchone()[0],
            )
            for key, text in latest
            if text
        }


def test_a_range_run_stores_its_event_batches_in_one_transaction_each_with_dagsters_rows(tmp_path):
    local_home = instance_home(tmp_path / "local", local_instance_config())
    default_home = instance_home(tmp_path / "default", {})
    stored = {}
    for name, home in (("local", local_home), ("default", default_home)):
        with DagsterInstance.from_config(str(home)) as instance, _commits() as commits:
            backfill_range(instance)
            [run] = instance.get_runs()
            events = instance.all_logs(run.run_id)
            stored[name] = (
                instance.get_materialized_partitions(AssetKey("box_score_days")),
                collections.Counter(entry.dagster_event_type for entry in events),
            )
            stored[f"{name} index commits"] = commits.count("index.db")
    assert stored["local"] == stored["default"]
    days = len(DAYS.get_partition_keys())
    assert stored["local"][0] == set(DAYS.get_partition_keys())
    assert stored["local"][1][DagsterEventType.ASSET_MATERIALIZATION] == days
    # Dagster's own: a commit to the index per planned event and per materialization (and some); here one per batch.
    assert stored["default index commits"] >= 2 * days
    assert stored["local index commits"] <= stored["default index commits"] - 2 * (days - 1)

    # The asset's latest materialization, which the local storage wraps around the event's text, reads as Dagster's.
    [(text, event_text)] = _latest_materializations(local_home).values()
    record = deserialize_value(text, EventLogRecord)
    assert text == serialize_value(EventLogRecord(storage_id=record.storage_id, event_log_entry=deserialize_value(event_text)))
    assert record.event_log_entry.dagster_event.partition == DAYS.get_last_partition_key()
    with DagsterInstance.from_config(str(local_home)) as instance:
        [run] = instance.get_runs()
        [entry] = instance.get_asset_records([AssetKey("box_score_days")])
        assert entry.asset_entry.last_run_id == run.run_id
        assert entry.asset_entry.last_materialization_record.storage_id == record.storage_id


def _check_rows(storage) -> list[tuple]:
    """The index's asset_check_executions rows in order, ids included, without the time each row was written."""
    return index_rows(storage, AssetCheckExecutionsTable, left_out=("create_timestamp",))


def test_check_rows_are_written_as_dagsters_storage_writes_them(tmp_path):
    with DagsterInstance.from_config(str(instance_home(tmp_path / "run", local_instance_config()))) as instance:
        backfill_range(instance, checked_box_score_days)
        [run] = instance.get_runs()
        events = instance.all_logs(run.run_id)
    [planned] = [entry for entry in events if entry.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED]
    results = [entry for entry in events if entry.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
    # The last day's check failed: its row says so.
    evaluation = results[-1].dagster_event.event_specific_data
    failed = replace(evaluation, passed=False)
    results[-1] = results[-1]._replace(dagster_event=results[-1].dagster_event._replace(event_specific_data=failed))
    rows = {}
    for name, storage_class in (("local", LocalSqliteEventLogStorage), ("default", SqliteEventLogStorage)):
        storage = storage_class(str(tmp_path / name))
        storage.store_event(planned)
        rows[name, "planned"] = _check_rows(storage)
        storage.store_event_batch(results)
        rows[name, "results"] = _check_rows(storage)
        storage.dispose()
        # Results with no planned row (a run whose planned event another storage got) are inserted.
        storage = storage_class(str(tmp_path / f"{name} unplanned"))
        storage.store_event_batch(results)
        rows[name, "unplanned"] = _check_rows(storage)
        storage.dispose()
    days = DAYS.get_partition_keys()
    for stage in ("planned", "results", "unplanned"):
        assert rows["local", stage] == rows["default", stage]
        assert [row[3] for row in rows["local", stage]] == days  # a row per day, in order
    statuses = [AssetCheckExecutionRecordStatus(row[5]) for row in rows["local", "results"]]
    assert statuses == [AssetCheckExecutionRecordStatus.SUCCEEDED] * (len(days) - 1) + [AssetCheckExecutionRecordStatus.FAILED]
    assert {row[5] for row in rows["local", "planned"]} == {AssetCheckExecutionRecordStatus.PLANNED.value}


def test_a_batch_with_a_failed_write_keeps_none_of_its_events(tmp_path, monkeypatch):
    with DagsterInstance.from_config(str(instance_home(tmp_path / "run", local_instance_config()))) as instance:
        backfill_range(instance)
        [run] = instance.get_runs()
        materializations = [
            entry for entry in instance.all_logs(run.run_id) if entry.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION
        ]
    with DagsterInstance.from_config(str(instance_home(tmp_path / "home", local_instance_config()))) as instance:
        storage = instance.event_log_storage
        store_tags = PooledSqliteEventLogStorage._store_asset_event_tags
        calls = []

        def fail_on_the_third(self, *args) -> None:
            calls.append(args)
            if len(calls) == 3:
                raise sqlite3.OperationalError("disk I/O error")
            store_tags(self, *args)

        monkeypatch.setattr(PooledSqliteEventLogStorage, "_store_asset_event_tags", fail_on_the_third)
        with pytest.raises(sqlite3.OperationalError):
            storage.store_event_batch(materializations)
        assert storage.get_logs_for_run(run.run_id) == []
        assert instance.get_materialized_partitions(AssetKey("box_score_days")) == set()

        monkeypatch.setattr(PooledSqliteEventLogStorage, "_store_asset_event_tags", store_tags)
        storage.store_event_batch(materializations)
        assert len(storage.get_logs_for_run(run.run_id)) == len(materializations)
        assert instance.get_materialized_partitions(AssetKey("box_score_days")) == set(DAYS.get_partition_keys())
