"""What the UI shows for one day partition after a range run is that day's own numbers.

A three-day single-run backfill on a real instance and a real DuckDB file, then the GraphQL queries the UI's
partition page and check views make: a day's materialization metadata must equal that day's rows and
failure-store counts, and each day's check entry must be that day's evaluation, not SKIPPED.
"""

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetsDefinition
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from nba_failures.analytics import assets as analytics
from nba_failures.definitions import defs
from nba_failures.failures.recorder import ProcessorSpec
from nba_failures.precompute import assets as precompute
from nba_failures.predictions import assets as predictions
from nba_failures.raw import assets as raw
from nba_failures.resources import DashboardOutput
from nba_failures.settings import PROJECT_DIR
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures.warehouse.schema import Mode
from nba_failures_tests import faults
from nba_failures_tests.dashboard.store_data import STORE_TABLES, persistent_instance
from nba_failures_tests.harness import copy_landing, run_assets

FIRST, DAY, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 10), dt.date(2023, 1, 11)
UNREGISTERED_PLAYER = "joshgiddey"

# The queries of the UI's partition page (its metadata table) and of a check's per-partition history.
PARTITION_EVENTS = """
query PartitionEvents($assetKey: AssetKeyInput!, $partitionKey: String!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      assetMaterializations(partitions: [$partitionKey]) { partition runId metadataEntries { ...Entry } }
      assetObservations(partitions: [$partitionKey]) { partition }
    }
  }
}
fragment Entry on MetadataEntry {
  label
  ... on IntMetadataEntry { intValue }
  ... on FloatMetadataEntry { floatValue }
  ... on TextMetadataEntry { text }
  ... on JsonMetadataEntry { jsonString }
  ... on BoolMetadataEntry { boolValue }
  ... on TableMetadataEntry { table { records } }
}
"""
CHECK_EXECUTIONS = """
query CheckExecutions($assetKey: AssetKeyInput!, $checkName: String!, $partition: String) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, partition: $partition, limit: 10) {
    runId status partition evaluation { metadataEntries { ...Entry } }
  }
}
fragment Entry on MetadataEntry {
  label
  ... on IntMetadataEntry { intValue }
  ... on TextMetadataEntry { text }
  ... on BoolMetadataEntry { boolValue }
}
"""

# The check's partition bar: a day's status counts only if its evaluation targets the day's latest materialization.
CHECK_PARTITION_STATUSES = """
query CheckPartitionStatuses($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks { name partitionStatuses { ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } } } }
        }
      }
    }
  }
}
"""


def _values(entries: list[dict]) -> dict[str, object]:
    values: dict[str, object] = {}
    for entry in entries:
        if "jsonString" in entry:
            values[entry["label"]] = json.loads(entry["jsonString"])
        elif "table" in entry:
            values[entry["label"]] = [json.loads(record) for record in entry["table"]["records"]]
        else:
            values[entry["label"]] = next((value for key, value in entry.items() if key != "label"), None)  # None: a null entry
    return values


def _by(frame: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    counts = frame.groupby([column, "failure_type"]).size()
    return {str(value): {str(t): int(n) for t, n in group.droplevel(0).items()} for value, group in counts.groupby(level=0)}


@pytest.fixture(scope="module")
def range_run(tmp_path_factory, season_landing: Path):
    root = tmp_path_factory.mktemp("partition_truth")
    landing = copy_landing(season_landing, root / "landing")
    # A player missing from the registry gives every day registry failures of its own.
    faults.remove_from_registry(landing, UNREGISTERED_PLAYER)
    warehouse = DuckDBWarehouse(path=str(root / "warehouse.duckdb"))
    instance = persistent_instance(root / "dagster_home")
    dashboard = DashboardOutput(path=str(root / "dashboard.html"))
    result = run_assets(warehouse, landing, FIRST, LAST, instance=instance, resources={"dashboard": dashboard})
    assert result.success
    workspace = WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(PROJECT_DIR / "workspace.yaml")]))
    with workspace:
        yield Path(warehouse.path), result.run_id, workspace.create_request_context()
    instance.dispose()


def _query(context, query: str, variables: dict) -> dict:
    result = execute_dagster_graphql(context, query, variables)
    assert not result.errors, result.errors
    return result.data


def _partition_metadata(context, asset: str, day: dt.date) -> dict[str, object]:
    node = _query(context, PARTITION_EVENTS, {"assetKey": {"path": [asset]}, "partitionKey": day.isoformat()})["assetNodeOrError"]
    [materialization] = node["assetMaterializations"]
    assert materialization["partition"] == day.isoformat() and node["assetObservations"] == []
    return _values(materialization["metadataEntries"])


def test_each_day_of_a_range_run_shows_its_own_failure_store_counts(range_run) -> None:
    path, _, context = range_run
    stored = pd.concat(
        [faults.read_table(path, name).rename(columns={"prediction_date": "analysis_date"}) for name in STORE_TABLES]
    )
    totals = []
    for day in (FIRST, DAY, LAST):
        of_day = stored[stored["analysis_date"].map(pd.Timestamp) == pd.Timestamp(day)]
        shown = _partition_metadata(context, "classified_failures", day)
        assert shown["failures_classified"] == len(of_day) > 0
        assert shown["by_category_and_type"] == _by(of_day, "failure_category")
        assert shown["by_processor_and_type"] == _by(of_day, "processor_name")
        assert shown["correctable"] == int(of_day["is_correctable"].sum())
        # The store merge is one for the whole run: shown as the range's, never as the day's.
        assert shown["partition_range"] == f"{FIRST}..{LAST}" and "new" not in shown
        totals.append(shown["range_failures_classified"])
    assert set(totals) == {len(stored)} and len(stored) > max(
        len(stored[stored["analysis_date"].map(pd.Timestamp) == pd.Timestamp(d)]) for d in (FIRST, DAY, LAST)
    )


def test_each_day_of_a_range_run_shows_its_own_rows_and_failures(range_run) -> None:
    path, _, context = range_run
    rows = faults.read_table(path, "nba_analytics.player_game_summary")
    failures = faults.processor_failures(path, "player_game_summary")
    assert len(failures) > 0
    for day in (FIRST, DAY, LAST):
        shown = _partition_metadata(context, "player_game_summary", day)
        failures_of_day = failures[failures["analysis_date"].map(pd.Timestamp) == pd.Timestamp(day)]
        assert shown["rows_written"] == int((rows["game_date"].map(pd.Timestamp) == pd.Timestamp(day)).sum()) > 0
        assert shown["failures"] == len(failures_of_day)
        assert shown["failures_by_category"] == failures_of_day["failure_category"].value_counts().to_dict()
        preview = shown["failures_preview"]
        assert len(preview) == min(len(failures_of_day), 20) and {row["analysis_date"] for row in preview} <= {day.isoformat()}
        assert shown["range_rows_written"] == len(rows) and shown["range_failures"] == len(failures)


@pytest.mark.parametrize(
    ("asset", "check"), [("classified_failures", "failures_accounted_for"), ("player_game_summary", "rows_accounted_for")]
)
def test_each_day_of_a_range_run_has_its_own_check_result(range_run, asset: str, check: str) -> None:
    path, run_id, context = range_run
    stored = pd.concat(
        [faults.read_table(path, name).rename(columns={"prediction_date": "analysis_date"}) for name in STORE_TABLES]
    )
    for day in (FIRST, DAY, LAST):
        variables = {"assetKey": {"path": [asset]}, "checkName": check, "partition": day.isoformat()}
        [execution] = _query(context, CHECK_EXECUTIONS, variables)["assetCheckExecutions"]
        assert (execution["runId"], execution["partition"], execution["status"]) == (run_id, day.isoformat(), "SUCCEEDED")
        shown = _values(execution["evaluation"]["metadataEntries"])
        if check == "failures_accounted_for":
            assert (
                shown["recorded"]
                == shown["stored_open"]
                == int((stored["analysis_date"].map(pd.Timestamp) == pd.Timestamp(day)).sum())
            )
        else:
            # Input rows are counted per run: the balance shown is the range's, and says so.
            assert shown["partition_range"] == f"{FIRST}..{LAST}" and shown["range_input_rows"] > 0
    checks = _query(context, CHECK_PARTITION_STATUSES, {"assetKey": {"path": [asset]}})["assetNodeOrError"]["assetChecksOrError"][
        "checks"
    ]
    [statuses] = [entry["partitionStatuses"]["ranges"] for entry in checks if entry["name"] == check]
    assert statuses == [{"startKey": FIRST.isoformat(), "endKey": LAST.isoformat(), "status": "SUCCEEDED"}]
    # Nothing recorded for no partition.
    unpartitioned = {"assetKey": {"path": [asset]}, "checkName": check, "partition": ""}
    assert _query(context, CHECK_EXECUTIONS, unpartitioned)["assetCheckExecutions"] == []


# What the UI's asset page reads of a processor asset's definition: its kinds, its column schema, its checks.
ASSET_DEFINITION = """
query AssetDefinition($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      kinds
      metadataEntries {
        label
        ... on TableSchemaMetadataEntry { schema { columns { name type description constraints { nullable } } } }
      }
      assetChecksOrError { ... on AssetChecks { checks { name } } }
    }
  }
}
"""
PROCESSORS = (*raw.PROCESSORS, *analytics.PROCESSORS, *precompute.PROCESSORS, *predictions.PROCESSORS)


def test_every_materialized_asset_but_classification_and_dashboard_is_a_processor() -> None:
    assets = {key.to_user_string() for asset in defs.assets if isinstance(asset, AssetsDefinition) for key in asset.keys}
    assert assets - {processor.name for processor in PROCESSORS} == {"classified_failures", "failure_dashboard"}


@pytest.mark.parametrize("processor", PROCESSORS, ids=lambda processor: processor.name)
def test_every_processor_asset_shows_its_check_column_schema_and_daily_row_count(range_run, processor: ProcessorSpec) -> None:
    path, run_id, context = range_run
    node = _query(context, ASSET_DEFINITION, {"assetKey": {"path": [processor.name]}})["assetNodeOrError"]
    assert "duckdb" in node["kinds"] and "bigquery" not in node["kinds"]  # the configured backend only
    assert [check["name"] for check in node["assetChecksOrError"]["checks"]] == ["rows_accounted_for"]
    [schema] = [entry["schema"]["columns"] for entry in node["metadataEntries"] if entry["label"] == "dagster/column_schema"]
    table = processor.table
    assert [(c["name"], c["type"], c["description"], c["constraints"]["nullable"]) for c in schema] == [
        (c.name, c.duckdb_type, c.description, c.mode is not Mode.REQUIRED) for c in table.columns
    ]
    rows = faults.read_table(path, table.qualified_name)
    for day in (FIRST, DAY, LAST):
        shown = _partition_metadata(context, processor.name, day)
        assert shown["dagster/row_count"] == int((rows[table.partition_column].map(pd.Timestamp) == pd.Timestamp(day)).sum())
        variables = {"assetKey": {"path": [processor.name]}, "checkName": "rows_accounted_for", "partition": day.isoformat()}
        [execution] = _query(context, CHECK_EXECUTIONS, variables)["assetCheckExecutions"]
        assert (execution["runId"], execution["status"]) == (run_id, "SUCCEEDED")
