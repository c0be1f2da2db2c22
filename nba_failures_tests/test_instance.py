"""The project's local Dagster instance: a new home gets it, it stores the events Dagster hands over as a batch as
one (a step's check results held until its next event), and it finds each day's latest materialization.

Each test runs real Dagster runs (a daily-partitioned asset with a partitioned check) on a real instance in a
temporary DAGSTER_HOME.
"""

from __future__ import annotations

import collections

import pytest
import yaml
from dagster import AssetCheckKey, AssetKey, AssetRecordsFilter, DagsterEventType, DagsterInstance

from nba_failures import settings
from nba_failures.event_log import LocalSqliteEventLogStorage, PooledSqliteEventLogStorage
from nba_failures.instance import (
    EVENT_BATCH_SIZE,
    LocalInstance,
    dagster_home,
    latest_materializations,
    local_instance_config,
)
from nba_failures_tests.instance_runs import DAYS, backfill_range, box_score_days, checked_box_score_days, instance_home


def test_a_new_home_gets_the_local_instance_and_one_that_holds_an_instance_keeps_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "new_home"))
    home = dagster_home()
    assert yaml.safe_load((home / "dagster.yaml").read_text()) == local_instance_config()
    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance) is LocalInstance
        assert type(instance.event_log_storage) is LocalSqliteEventLogStorage

    # A home of someone else's that holds an instance, with no dagster.yaml or one that sets nothing.
    used = tmp_path / "used_home"
    (used / "history").mkdir(parents=True)
    monkeypatch.setenv("DAGSTER_HOME", str(used))
    dagster_home()
    assert not (used / "dagster.yaml").exists()
    (used / "dagster.yaml").write_text("# nothing set\n")
    dagster_home()
    assert (used / "dagster.yaml").read_text() == "# nothing set\n"

    # The project's own home, as earlier versions left it: runs in it and a dagster.yaml of comments only.
    monkeypatch.setattr(settings, "LOCAL_DATA_DIR", tmp_path / "project")
    monkeypatch.delenv("DAGSTER_HOME")
    project_home = tmp_path / "project" / "dagster_home"
    (project_home / "history").mkdir(parents=True)
    (project_home / "dagster.yaml").write_text("# The project's local Dagster instance\n")
    assert dagster_home() == project_home
    assert yaml.safe_load((project_home / "dagster.yaml").read_text()) == local_instance_config()

    configured = {"telemetry": {"enabled": False}}
    (project_home / "dagster.yaml").write_text(yaml.safe_dump(configured))
    dagster_home()
    assert yaml.safe_load((project_home / "dagster.yaml").read_text()) == configured


def _check_results(instance: DagsterInstance, run_id: str) -> dict[str, tuple[bool, str | None]]:
    """Per day: whether its check passed, and the day of the materialization the result is aimed at."""
    asset = AssetKey("checked_box_score_days")
    materialized_days = {
        record.storage_id: record.partition_key
        for record in instance.fetch_materializations(AssetRecordsFilter(asset_key=asset), limit=100).records
        if record.run_id == run_id
    }
    check = AssetCheckKey(asset, "day_present")
    results = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(check, limit=100):
        evaluation = record.event.dagster_event.event_specific_data
        target = evaluation.target_materialization_data
        results[evaluation.partition] = (evaluation.passed, materialized_days.get(target.storage_id) if target else None)
    return results


def test_a_steps_check_results_are_held_until_its_next_event_and_stored_as_one_batch(tmp_path, monkeypatch):
    store_batch = PooledSqliteEventLogStorage.store_event_batch
    batches = []

    def recorded(self, events) -> None:
        batches.append(collections.Counter(event.dagster_event_type for event in events))
        store_batch(self, events)

    monkeypatch.setattr(PooledSqliteEventLogStorage, "store_event_batch", recorded)
    stored = {}
    for name, config in (("local", local_instance_config()), ("default", {})):
        with DagsterInstance.from_config(str(instance_home(tmp_path / name, config))) as instance:
            backfill_range(instance, checked_box_score_days)
            [run] = instance.get_runs()
            stored[name] = [entry.dagster_event_type for entry in instance.all_logs(run.run_id)]
            stored[f"{name} results"] = _check_results(instance, run.run_id)
    days = DAYS.get_partition_keys()
    # The same events in the same order as Dagster stores them one by one, each day's result aimed at its own day.
    assert stored["local"] == stored["default"]
    assert stored["local"].count(DagsterEventType.ASSET_CHECK_EVALUATION) == len(days)
    assert stored["local results"] == stored["default results"] == {day: (True, day) for day in days}
    # The check results went to the storage as one batch of their own.
    assert [batch for batch in batches if DagsterEventType.ASSET_CHECK_EVALUATION in batch] == [
        {DagsterEventType.ASSET_CHECK_EVALUATION: len(days)}
    ]


class _NoSqlStorage:
    """Stands for SqlEventLogStorage where a storage must not count as one: no storage is an instance of it."""


@pytest.mark.parametrize(
    ("config", "sql"), [(local_instance_config(), True), ({}, True), (local_instance_config(), False)],
    ids=["local", "default", "storage not SQL"],
)  # fmt: skip
def test_latest_materializations_from_the_index_are_those_dagster_fetches(tmp_path, monkeypatch, config, sql):
    if not sql:  # what a storage that is not SQL gets: Dagster's own fetch of the materializations
        monkeypatch.setattr("nba_failures.instance.SqlEventLogStorage", _NoSqlStorage)
    with DagsterInstance.from_config(str(instance_home(tmp_path / "home", config))) as instance:
        backfill_range(instance, box_score_days)
        backfill_range(instance, box_score_days)  # each day's latest is the second run's
        days = DAYS.get_partition_keys()
        fetched = instance.fetch_materializations(AssetRecordsFilter(asset_key=AssetKey("box_score_days")), limit=100).records
        latest = {}
        for record in fetched:  # newest first
            latest.setdefault(record.partition_key, record)
        targets = latest_materializations(instance, AssetKey("box_score_days"), [*days[:-1], "2099-01-01"])
        second_run = instance.get_runs()[0].run_id  # newest first
        assert latest_materializations(instance, AssetKey("box_score_days"), ["2099-01-01"]) == {}
    assert set(targets) == set(days[:-1])  # what has no materialization has no target
    for day, target in targets.items():
        assert (target.storage_id, target.run_id) == (latest[day].storage_id, latest[day].run_id)
        assert target.run_id == second_run
        assert target.timestamp == pytest.approx(latest[day].timestamp, abs=1e-6)


def test_check_results_still_held_when_the_instance_is_disposed_are_stored(tmp_path):
    with DagsterInstance.from_config(str(instance_home(tmp_path / "run", local_instance_config()))) as instance:
        backfill_range(instance, checked_box_score_days)
        [run] = instance.get_runs()
        results = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    home = instance_home(tmp_path / "home", local_instance_config())
    with DagsterInstance.from_config(str(home)) as instance:
        for record in results:
            instance.handle_new_event(record.event_log_entry)
        assert instance.get_records_for_run(run.run_id).records == []  # held: the run has no later event
    with DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_records_for_run(run.run_id).records) == len(DAYS.get_partition_keys())


def test_the_local_instance_batches_events_unless_dagsters_switch_says_otherwise(tmp_path, monkeypatch):
    with DagsterInstance.from_config(str(instance_home(tmp_path / "home", local_instance_config()))) as instance:
        monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
        assert instance._get_event_batch_size() == EVENT_BATCH_SIZE
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
        assert instance._get_event_batch_size() == 0
