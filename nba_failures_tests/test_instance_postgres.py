"""The production instance's storage on a real PostgreSQL server: deploy/dagster.yaml's pooled event log against
dagster-postgres's own, the same runs of a daily-partitioned asset with a partitioned check, connections counted;
its instance class, which hands the storage Dagster's event batches."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from nba_failures.instance import EventBatchingInstance, latest_materializations
from nba_failures.instance_postgres import PooledPostgresStorage
from nba_failures.settings import PROJECT_DIR
from nba_failures_tests.instance_runs import DAYS, backfill_days, backfill_range, engine_events
from nba_failures_tests.postgres_server import PostgresServer


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
        for name, dagsters_own in (("pooled", False), ("dagsters_own", True)):
            # deploy/dagster.yaml reads its connection from the environment.
            for variable, value in server.instance_env(server.create_database(name)).items():
                monkeypatch.setenv(variable, value)
            with DagsterInstance.from_config(str(_deploy_home(tmp_path / name, dagsters_own))) as instance:
                storage_class = instance.get_ref().storage_data.class_name
                assert (storage_class == PooledPostgresStorage.__name__) != dagsters_own
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
def test_the_deployed_instance_inserts_a_range_runs_materializations_of_an_asset_at_once(tmp_path, monkeypatch):
    inserted = {}
    with PostgresServer() as server:
        for name, batching in (("batching", True), ("one_by_one", False)):
            for variable, value in server.instance_env(server.create_database(name)).items():
                monkeypatch.setenv(variable, value)
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
    # One INSERT for the run's materializations instead of one each.
    assert inserted["one_by_one"] - inserted["batching"] == len(DAYS.get_partition_keys()) - 1
