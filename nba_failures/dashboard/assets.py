"""`failure_dashboard`: the failure store rendered as one self-contained HTML page, after every classification."""

import time
from pathlib import Path

from dagster import AssetExecutionContext, BackfillPolicy, MaterializeResult, MetadataValue, asset

from nba_failures.classified.assets import classified_failures
from nba_failures.resources import DashboardOutput
from nba_failures.settings import warehouse_pool
from nba_failures.warehouse.base import Warehouse


@asset(
    group_name="failures",
    deps=[classified_failures],
    # Unpartitioned, rendered once per run: a range run of every asset (CLI or UI) includes it.
    backfill_policy=BackfillPolicy.single_run(),
    pool=warehouse_pool(),
    kinds={"plotly", "html"},
    description="Self-contained HTML dashboard of nba_processing.*_failures: where failures come from, DNP vs DATA_GAP, "
    "the correctable backlog, retry outcomes, top entities and a sortable drill-down table.",
)
def failure_dashboard(context: AssetExecutionContext, warehouse: Warehouse, dashboard: DashboardOutput) -> MaterializeResult:
    # Plotly is imported by the page's modules, pandas by the store's: where they are used, not by every process that
    # loads the code location.
    import pandas as pd

    from nba_failures.dashboard.figures import summary
    from nba_failures.dashboard.html import render_dashboard, summary_markdown, write_atomically
    from nba_failures.failures.views import read_store

    began = time.perf_counter()
    frame = read_store(warehouse)
    generated_at = pd.Timestamp.now(tz="UTC")
    path = Path(dashboard.path).resolve()
    page = render_dashboard(frame, generated_at, source=warehouse.location, table_limit=dashboard.table_limit)
    write_atomically(path, page)
    numbers = summary(frame)
    context.log.info(
        f"dashboard of {numbers['failures']} failures written to {path} "
        f"({len(page) / 1e6:.1f} MB, {time.perf_counter() - began:.1f}s)"
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "url": MetadataValue.url(path.as_uri()),
            "summary": MetadataValue.md(summary_markdown(numbers, path)),
            "failures": numbers["failures"],
            "open_correctable": numbers["open_correctable"],
            "bad_input": numbers["bad_input"],
            "resolved": numbers["resolved"],
            "permanent": numbers["permanent"],
            "page_bytes": len(page.encode()),
        }
    )
