"""The production instance's storage on a real PostgreSQL server: deploy/dagster.yaml's pooled event log against
dagster-postgres's own, the same runs of a daily-partitioned asset with a partitioned check, connections and commits
counted; its instance class, which hands the storage Dagster's event batches and a step's check results as one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, AssetRecordsFilter, DagsterEventType, DagsterInstance
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, AssetKeyTable, SqlEventLogStorageTable
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import pg_url_from_config
from sqlalchemy.exc import OperationalError

from nba_failures.instance import EventBatchingInstance, latest_materializations
from nba_failures.instance_postgres import PooledPostgresEventLogStorage, PooledPostgresStorage
from nba_failures.settings import PROJECT_DIR
from nba_failures_tests.instance_runs import (
    DAYS,
    backfill_days,
    backfill_range,
    checked_box_score_days,
    engine_events,
    failing_box_score_days,
    index_rows,
)
from nba_failures_tests.postgres_server import PostgresServer


def _use_database(server: PostgresServer, name: str, monkeypatch) -> None:
    """A new database `name` on `server`, which deploy/dagster.yaml then connects to (it reads the environment)."""
    for variable, value in server.instance_env(server.create_database(name)).items():
        monkeypatch.setenv(variable, value)


def _both_instances(server: PostgresServer, tmp_path: Path, monkeypatch) -> Iterator[tuple[str, DagsterInstance]]:
    """("pooled", the deployed instance) and ("dagsters_own", the same with dagster-postgres's own storage), each on a
    new database, one after the other."""
    for name, dagsters_own in (("pooled", False), ("dagsters_own", True)):
        _use_database(server, name, monkeypatch)
        with DagsterInstance.from_config(str(_deploy_home(tmp_path / name, dagsters_own))) as instance:
            yield name, instance


def _deploy_home(path: Path, dagsters_own: bool, batching: bool = True) -> Path:
    path.mkdir(parents=True)
    config = yaml.safe_load((PROJECT_DIR / "deploy" / "dagster.yaml").read_text())
    if dagsters_own:
        config["storage"] = {"postgres": config["storage"]["custom"]["config"]}
    if not batching:
        del config["instance_class"]
    (path / "dagster.yaml").write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow(seconds=20)
def test_the_deployed_event_log_keeps_its_connection_and_stores_what_dagsters_own_stores(tmp_path, monkeypatch):
    with PostgresServer() as server:
        counted = {}
        for name, instance in _both_instances(server, tmp_path, monkeypatch):
            storage_class = instance.get_ref().storage_data.class_name
            assert (storage_class == PooledPostgresStorage.__name__) == (name == "pooled")
            with engine_events("connect") as opened:
                backfill_days(instance)
            runs = instance.get_runs()
            events = sum(len(instance.all_logs(run.run_id)) for run in runs)
            counted[name] = (len(opened), events, len(runs))
            assert instance.get_materialized_partitions(AssetKey("box_scores")) == set(DAYS.get_partition_keys())
        assert counted["pooled"][1:] == counted["dagsters_own"][1:], "the same runs and events"
        # Dagster's own event log opens a connection for each event it writes (more for an asset event); the pooled
        # one keeps its connection, so at least that many fewer are opened. The run storage opens its own either way.
        assert counted["dagsters_own"][0] - counted["pooled"][0] >= counted["pooled"][1] > 10 * len(DAYS.get_partition_keys())


@pytest.mark.slow(seconds=15)
def test_the_deployed_instance_inserts_a_range_runs_planned_events_and_materializations_at_once(tmp_path, monkeypatch):
    inserted = {}
    with PostgresServer() as server:
        for name, batching in (("batching", True), ("one_by_one", False)):
            _use_database(server, name, monkeypatch)
            with DagsterInstance.from_config(str(_deploy_home(tmp_path / name, False, batching))) as instance:
                assert isinstance(instance, EventBatchingInstance) == batching
                with engine_events("before_cursor_execute", lambda _connection, _cursor, statement, *_: statement) as run:
                    backfill_range(instance)
                inserted[name] = sum(statement.startswith("INSERT INTO event_logs") for statement in run)
                assert instance.get_materialized_partitions(AssetKey("box_score_days")) == set(DAYS.get_partition_keys())
                # What a check result aims at, read from the index columns, is what Dagster's fetch returns.
                fetched = instance.fetch_materializations(AssetRecordsFilter(asset_key=AssetKey("box_score_days")), limit=100)
                targets = latest_materializations(instance, AssetKey("box_score_days"), DAYS.get_partition_keys())
                assert {day: (target.storage_id, target.run_id) for day, target in targets.items()} == {
                    record.partition_key: (record.storage_id, record.run_id) for record in fetched.records
                }
    # One INSERT for the run's planned materializations and one for its materializations, instead of one each.
    assert inserted["one_by_one"] - inserted["batching"] == 2 * (len(DAYS.get_partition_keys()) - 1)


def _postgres_url(server: PostgresServer, database: str) -> str:
    """deploy/dagster.yaml's connection, to `database` on `server`, as a URL."""
    settings = yaml.safe_load((PROJECT_DIR / "deploy" / "dagster.yaml").read_text())["storage"]["custom"]["config"]
    environment = server.instance_env(database)
    resolved = {
        key: environment[value["env"]] if isinstance(value, dict) else value for key, value in settings["postgres_db"].items()
    }
    return pg_url_from_config({"postgres_db": resolved})


def _check_rows(storage) -> list[tuple]:
    return index_rows(storage, AssetCheckExecutionsTable)


@pytest.mark.slow(seconds=25)
def test_the_deployed_event_log_commits_a_batch_once_and_stores_what_dagsters_own_stores(tmp_path, monkeypatch):
    stored = {}
    with PostgresServer() as server:
        for name, instance in _both_instances(server, tmp_path, monkeypatch):
            # Each event row written, and whether it was its own commit (the engine commits every statement).
            describe = lambda _connection, cursor, statement, *_: (statement, cursor.connection.autocommit)  # noqa: E731
            with engine_events("before_cursor_execute", describe) as executed:
                backfill_range(instance, checked_box_score_days)
            [run] = instance.get_runs()
            events = instance.all_logs(run.run_id)
            materialized = instance.fetch_materializations(AssetKey("checked_box_score_days"), limit=100).records
            day_of = {record.storage_id: record.partition_key for record in materialized}
            rows = _check_rows(instance.event_log_storage)
            [record] = instance.get_asset_records([AssetKey("checked_box_score_days")])
            asset_entry = record.asset_entry
            planned = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
            stored[name] = (
                [entry.dagster_event_type for entry in events],
                set(day_of.values()),
                # Per check row: its day, its status, the day of the materialization it is aimed at.
                [(row[2], row[4], day_of.get(row[8])) for row in rows],
                # The asset's entry: this run's, its latest materialization the last day's, and what it says of the
                # run's planned events (dagster-postgres keeps nothing of them there).
                (
                    asset_entry.last_run_id == run.run_id,
                    asset_entry.last_materialization_record.partition_key,
                    asset_entry.last_planned_materialization_run_id == run.run_id,
                    asset_entry.last_planned_materialization_storage_id == max(r.storage_id for r in planned.records),
                ),
            )
            inserts = [autocommit for statement, autocommit in executed if statement.startswith("INSERT INTO event_logs")]
            stored[f"{name} inserts"] = (len(inserts), sum(inserts))
            stored[f"{name} events"] = events

        # The same events stored by each event log itself into a new database: the same asset entry after the run's
        # planned materializations, the same check rows and event rows, column by column.
        def of_type(event_type: DagsterEventType) -> list:
            return [entry for entry in stored["pooled events"] if entry.dagster_event_type == event_type]

        [planned_check] = of_type(DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
        results = of_type(DagsterEventType.ASSET_CHECK_EVALUATION)
        for name, storage_class in (("pooled", PooledPostgresEventLogStorage), ("dagsters_own", PostgresEventLogStorage)):
            storage = storage_class(_postgres_url(server, server.create_database(f"{name}_rows")))
            storage.store_event_batch(of_type(DagsterEventType.ASSET_MATERIALIZATION_PLANNED))
            stored[f"{name} asset entry"] = index_rows(storage, AssetKeyTable)
            storage.store_event(planned_check)
            stored[f"{name} planned rows"] = _check_rows(storage)
            if storage_class is PooledPostgresEventLogStorage:
                storage.store_event_batch(results)
            else:  # Dagster's own refuses check results in a batch
                for result in results:
                    storage.store_event(result)
            stored[f"{name} rows"] = _check_rows(storage)
            stored[f"{name} event rows"] = index_rows(storage, SqlEventLogStorageTable)
            storage.dispose()
    days = DAYS.get_partition_keys()
    # The same events in the same order and materialized days; each day's check row passed, aimed at its own day.
    assert stored["pooled"] == stored["dagsters_own"]
    assert stored["pooled"][0].count(DagsterEventType.ASSET_CHECK_EVALUATION) == len(days)
    assert stored["pooled"][1] == set(days)
    assert stored["pooled"][2] == [(day, AssetCheckExecutionRecordStatus.SUCCEEDED.value, day) for day in days]
    assert stored["pooled"][3][:2] == (True, days[-1])
    assert stored["pooled asset entry"] == stored["dagsters_own asset entry"]
    assert len(stored["pooled asset entry"]) == 1
    assert stored["pooled planned rows"] == stored["dagsters_own planned rows"]
    assert stored["pooled rows"] == stored["dagsters_own rows"]
    assert stored["pooled event rows"] == stored["dagsters_own event rows"]
    assert [row[2] for row in stored["pooled rows"]] == days
    # Dagster's own commits every event row alone; the pooled one writes each event, or batch, in a transaction, and
    # the run's planned events and the step's check results as a batch each: one INSERT.
    assert stored["dagsters_own inserts"][1] == stored["dagsters_own inserts"][0]
    assert stored["pooled inserts"][1] == 0
    assert stored["pooled inserts"][0] <= stored["dagsters_own inserts"][0] - 2 * (len(days) - 1)


def test_a_failed_write_keeps_none_of_the_deployed_event_logs_batch(tmp_path, monkeypatch):
    with PostgresServer() as server:
        _use_database(server, "run", monkeypatch)
        with DagsterInstance.from_config(str(_deploy_home(tmp_path / "run", False))) as instance:
            backfill_range(instance, checked_box_score_days)
            [run] = instance.get_runs()
            results = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
        _use_database(server, "home", monkeypatch)
        with DagsterInstance.from_config(str(_deploy_home(tmp_path / "home", False))) as instance:
            storage = instance.event_log_storage
            store_check = PooledPostgresEventLogStorage.store_asset_check_event
            calls = []

            def fail_on_the_third(self, event, event_id) -> None:
                calls.append(event)
                if len(calls) == 3:
                    raise OperationalError("UPDATE", {}, Exception("server closed the connection"))
                store_check(self, event, event_id)

            # The third result's check row fails, after the batch's event rows were inserted: none of them stays.
            monkeypatch.setattr(PooledPostgresEventLogStorage, "store_asset_check_event", fail_on_the_third)
            with pytest.raises(OperationalError):
                storage.store_event_batch([record.event_log_entry for record in results])
            assert storage.get_logs_for_run(run.run_id) == []
            assert _check_rows(storage) == []

            monkeypatch.setattr(PooledPostgresEventLogStorage, "store_asset_check_event", store_check)
            storage.store_event_batch([record.event_log_entry for record in results])
            assert len(storage.get_logs_for_run(run.run_id)) == len(results) == len(DAYS.get_partition_keys())
            assert len(_check_rows(storage)) == len(results)


def test_the_deployed_event_log_stores_a_failed_range_runs_events_as_dagsters_own_does(tmp_path, monkeypatch):
    stored = {}
    with PostgresServer() as server:
        for name, instance in _both_instances(server, tmp_path, monkeypatch):
            backfill_range(instance, failing_box_score_days, succeeds=False)
            [run] = instance.get_runs()
            stored[name] = [entry.dagster_event_type for entry in instance.all_logs(run.run_id)]
            # An empty batch stores nothing, and is no error.
            instance.event_log_storage.store_event_batch([])
            assert len(instance.all_logs(run.run_id)) == len(stored[name])
    assert stored["pooled"] == stored["dagsters_own"]
    assert DagsterEventType.STEP_FAILURE in stored["pooled"]
