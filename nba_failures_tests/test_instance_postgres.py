"""The production instance's storage on a real PostgreSQL server: deploy/dagster.yaml's pooled event log against
dagster-postgres's own, the same runs of a daily-partitioned asset with a partitioned check, connections counted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterInstance
from sqlalchemy import event
from sqlalchemy.engine import Engine

from nba_failures.instance_postgres import PooledPostgresStorage
from nba_failures.settings import PROJECT_DIR
from nba_failures_tests.postgres_server import PostgresServer
from nba_failures_tests.test_instance import DAYS, _backfill_days


@contextmanager
def _connections_opened() -> Iterator[list[int]]:
    opened: list[int] = []

    def count(_dbapi_connection, _record) -> None:
        opened.append(1)

    event.listen(Engine, "connect", count)
    try:
        yield opened
    finally:
        event.remove(Engine, "connect", count)


@contextmanager
def _instance(home: Path, env: dict[str, str]) -> Iterator[DagsterInstance]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # deploy/dagster.yaml reads its connection from the environment
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            yield instance
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)


def _deploy_home(path: Path, dagsters_own: bool) -> Path:
    path.mkdir(parents=True)
    config = yaml.safe_load((PROJECT_DIR / "deploy" / "dagster.yaml").read_text())
    if dagsters_own:
        config["storage"] = {"postgres": config["storage"]["custom"]["config"]}
    (path / "dagster.yaml").write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow(seconds=20)
def test_the_deployed_event_log_keeps_its_connection_and_stores_what_dagsters_own_stores(tmp_path):
    with PostgresServer() as server:
        counted = {}
        for name, dagsters_own in (("pooled", False), ("dagsters_own", True)):
            env = server.instance_env(server.create_database(name))
            with _instance(_deploy_home(tmp_path / name, dagsters_own), env) as instance:
                storage_class = instance.get_ref().storage_data.class_name
                assert (storage_class == PooledPostgresStorage.__name__) != dagsters_own
                with _connections_opened() as opened:
                    _backfill_days(instance)
                runs = instance.get_runs()
                events = sum(len(instance.all_logs(run.run_id)) for run in runs)
                counted[name] = (len(opened), events, len(runs))
                assert instance.get_materialized_partitions(AssetKey("box_scores")) == set(DAYS.get_partition_keys())
        assert counted["pooled"][1:] == counted["dagsters_own"][1:], "the same runs and events"
        # Dagster's own event log opens a connection for each event it writes (more for an asset event); the pooled
        # one keeps its connection, so at least that many fewer are opened. The run storage opens its own either way.
        assert counted["dagsters_own"][0] - counted["pooled"][0] >= counted["pooled"][1] > 10 * len(DAYS.get_partition_keys())
