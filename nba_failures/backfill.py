"""Single-run backfills of every partitioned asset, in process (the CLI and the demo use this)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_failures import settings
from nba_failures.failures.records import Phase, ResolutionStatus
from nba_failures.failures.store import FAILURE_STORES
from nba_failures.warehouse.base import Warehouse


def dagster_instance() -> DagsterInstance:
    """The instance of `DAGSTER_HOME`, defaulting to the project's local one so `dagster dev` sees CLI runs."""
    # Dagster accepts only an absolute DAGSTER_HOME; a relative one is taken from the working directory.
    home = Path(os.environ.get("DAGSTER_HOME") or settings.LOCAL_DATA_DIR / "dagster_home").resolve()
    os.environ["DAGSTER_HOME"] = str(home)
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


def failure_summary(warehouse: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Stored failures per processor and category: still failing, correctable, and by failure type."""
    frames = [store.to_canonical(warehouse.read(store.table, start, end)) for store in FAILURE_STORES]
    failures = pd.concat([frame for frame in frames if len(frame)] or frames, ignore_index=True)
    failing = failures[failures["resolution_status"] != ResolutionStatus.RESOLVED.value]
    if failing.empty:
        return pd.DataFrame(columns=["phase", "processor_name", "failure_category", "failures", "correctable"])
    keys = ["phase", "processor_name", "failure_category"]
    counts = failing.groupby(keys).agg(failures=("failure_key", "size"), correctable=("is_correctable", "sum"))
    by_type = failing.pivot_table(index=keys, columns="failure_type", values="failure_key", aggfunc="size", fill_value=0)
    summary = counts.join(by_type).reset_index()
    phase_order = {phase.value: order for order, phase in enumerate(Phase)}
    summary = summary.sort_values(["phase", "processor_name", "failures"], key=lambda c: c.map(phase_order) if c.name == "phase" else c, ascending=[True, True, False])
    return summary.reset_index(drop=True)
