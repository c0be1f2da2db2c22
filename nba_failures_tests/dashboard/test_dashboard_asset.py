"""`failure_dashboard` as Dagster runs it: alone on a store, and in one single-run backfill with the daily assets."""

import datetime as dt

from dagster import materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_failures.dashboard.assets import failure_dashboard
from nba_failures.dashboard.html import DEFAULT_TABLE_LIMIT
from nba_failures.definitions import defs
from nba_failures.failures.views import read_store
from nba_failures.resources import DashboardOutput, LandingZone
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.dashboard.page_data import embedded_rows


def test_materialization_writes_the_page_and_links_it(failure_store, tmp_path):
    path = tmp_path / "out" / "failure_dashboard.html"
    result = materialize(
        [failure_dashboard],
        resources={"warehouse": failure_store.warehouse, "dashboard": DashboardOutput(path=str(path))},
    )
    assert result.success and path.exists()
    stored = len(read_store(failure_store.warehouse))
    assert len(embedded_rows(path.read_text())) == min(stored, DEFAULT_TABLE_LIMIT)

    values = faults.metadata(result, "failure_dashboard")
    assert values["path"] == str(path.resolve())
    assert values["url"] == path.resolve().as_uri()
    assert values["failures"] == stored and values["resolved"] == 2 and values["open_correctable"] == 5
    assert values["bad_input"] == 0
    assert f"**{stored} failures**" in values["summary"] and str(path.resolve()) in values["summary"]
    assert values["page_bytes"] == path.stat().st_size
    assert not list(path.parent.glob(".*.tmp"))  # written atomically, no leftovers


def test_one_single_run_backfill_materializes_the_daily_assets_then_the_dashboard(season_landing, tmp_path):
    """What `nba-failures backfill` does: every asset, a partition range, one run; the unpartitioned
    dashboard runs once, after the last daily asset it depends on."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    path = tmp_path / "failure_dashboard.html"
    first, last = dt.date(2023, 1, 9), dt.date(2023, 1, 10)
    result = materialize(
        list(defs.assets),
        resources={
            **defs.resources,
            "warehouse": warehouse,
            "landing": LandingZone(path=str(season_landing)),
            "dashboard": DashboardOutput(path=str(path)),
        },
        selection="*failure_dashboard",
        tags={ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()},
    )
    assert result.success
    dashboards = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "failure_dashboard"]
    classified = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "classified_failures"]
    assert len(dashboards) == 1 and dashboards[0].partition is None
    assert sorted(e.partition for e in classified) == [first.isoformat(), last.isoformat()]
    stored = read_store(warehouse)
    assert len(stored) > 0 and faults.metadata(result, "failure_dashboard")["failures"] == len(stored)
    assert len(embedded_rows(path.read_text())) == min(len(stored), DEFAULT_TABLE_LIMIT)
