"""The code location: every asset, sensor and resource, with resources chosen per environment here."""

from __future__ import annotations

from dagster import Definitions, load_assets_from_modules

from nba_failures import settings
from nba_failures.analytics import assets as analytics_assets
from nba_failures.failures import assets as failures_assets
from nba_failures.failures.completeness import CompletenessChecker
from nba_failures.raw import assets as raw_assets
from nba_failures.resources import LandingZone
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse


def build_resources() -> dict[str, object]:
    return {
        "landing": LandingZone(path=str(settings.landing_dir())),
        "warehouse": DuckDBWarehouse(path=str(settings.duckdb_path())),
        "completeness": CompletenessChecker(),
    }


defs = Definitions(
    assets=load_assets_from_modules([raw_assets, analytics_assets, failures_assets]),
    resources=build_resources(),
)
