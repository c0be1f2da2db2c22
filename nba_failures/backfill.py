"""Single-run backfills of every partitioned asset, in process (the CLI and the demo use this)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_failures import settings
from nba_failures.failures.tables import PROCESSOR_FAILURES
from nba_failures.warehouse.base import Warehouse


def dagster_instance() -> DagsterInstance:
    """The instance of `DAGSTER_HOME`, defaulting to the project's local one so `dagster dev` sees CLI runs."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.LOCAL_DATA_DIR / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    return DagsterInstance.get()


def run_backfill(start: dt.date, last: dt.date, instance: DagsterInstance | None = None, selection: str | None = None) -> ExecuteInProcessResult:
    """Materialize the selected assets (default: all) for every day of `[start, last]` in one run."""
    from nba_failures.definitions import defs

    assets = list(defs.assets)
    return materialize(
        assets,
        instance=instance or dagster_instance(),
        resources=defs.resources,
        selection=selection,
        tags={ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
    )


def processor_failure_summary(warehouse: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Failures per phase, processor and category, as recorded by the processors' latest runs."""
    failures = warehouse.read(PROCESSOR_FAILURES, start, end)
    if failures.empty:
        return pd.DataFrame(columns=["phase", "processor_name", "failure_category", "failures"])
    summary = failures.groupby(["phase", "processor_name", "failure_category"]).size().rename("failures").reset_index()
    return summary.sort_values(["phase", "processor_name", "failures"], ascending=[True, True, False], ignore_index=True)
