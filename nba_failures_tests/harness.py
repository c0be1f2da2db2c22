"""Running real assets against a real DuckDB file and a real (ephemeral) Dagster instance."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from dagster import DagsterInstance, ExecuteInProcessResult, RunRequest, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_failures.definitions import defs
from nba_failures.resources import LandingZone
from nba_failures.warehouse.base import Warehouse


def run_assets(
    warehouse: Warehouse,
    landing: Path,
    first: dt.date,
    last: dt.date | None = None,
    selection: str | None = None,
    instance: DagsterInstance | None = None,
    raise_on_error: bool = True,
    resources: dict[str, object] | None = None,
) -> ExecuteInProcessResult:
    """Materialize `selection` (default: every asset) for `[first, last]` in one run; `resources` replace the
    code location's (e.g. a dashboard written under the test's own directory)."""
    last = last or first
    resources = {**defs.resources, "warehouse": warehouse, "landing": LandingZone(path=str(landing)), **(resources or {})}
    if first == last:
        tags, partition_key = {}, first.isoformat()
    else:
        tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
        partition_key = None
    return materialize(
        list(defs.assets),
        resources=resources,
        selection=selection,
        partition_key=partition_key,
        tags=tags,
        instance=instance,  # none: materialize makes an ephemeral instance and cleans up its temporary folder
        raise_on_error=raise_on_error,
    )


def execute_request(
    request: RunRequest, warehouse: Warehouse, landing: Path, instance: DagsterInstance
) -> ExecuteInProcessResult:
    """Run what a sensor requested, for real, in `instance`, tagged with its run key as the daemon would."""
    resources = {**defs.resources, "warehouse": warehouse, "landing": LandingZone(path=str(landing))}
    return materialize(
        list(defs.assets),
        resources=resources,
        selection=[key.to_user_string() for key in request.asset_selection],
        partition_key=request.partition_key,
        tags={**request.tags, "dagster/run_key": request.run_key},
        instance=instance,
    )


def copy_landing(source: Path, target: Path) -> Path:
    """A private copy of a landing directory that a test may damage."""
    shutil.copytree(source, target)
    return target
