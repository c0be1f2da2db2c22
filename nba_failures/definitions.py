"""The code location: every asset, sensor and resource, with resources chosen per environment here."""

from __future__ import annotations

import gc
import os

from dagster import Definitions, EnvVar, in_process_executor, load_assets_from_modules

from nba_failures import settings
from nba_failures.analytics import assets as analytics_assets
from nba_failures.automation import automated, pipeline_automation_sensor
from nba_failures.classified import assets as classified_assets
from nba_failures.classified.completeness import CompletenessChecker
from nba_failures.dashboard import assets as dashboard_assets
from nba_failures.precompute import assets as precompute_assets
from nba_failures.precompute.policy import PrecomputePolicy
from nba_failures.predictions import assets as prediction_assets
from nba_failures.predictions.policy import PredictionPolicy
from nba_failures.raw import assets as raw_assets
from nba_failures.raw import landed as landed_files
from nba_failures.resources import DashboardOutput, LandingZone
from nba_failures.sensors.landed import landed_game_files_sensor
from nba_failures.sensors.retry import RetryPolicy, correctable_failures_sensor
from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse

# BigQuery settings come from the environment at run time (EnvVar), so credentials never appear in
# the code location's config, the UI or run logs.
_BIGQUERY_SETTINGS = {
    "project": "NBA_FAILURES_BQ_PROJECT",
    "location": "NBA_FAILURES_BQ_LOCATION",
    "gcp_credentials": "NBA_FAILURES_BQ_CREDENTIALS",
    "api_endpoint": "NBA_FAILURES_BQ_API_ENDPOINT",
}


_RETRY_SETTINGS = {"max_attempts": "NBA_FAILURES_RETRY_MAX_ATTEMPTS", "backoff_seconds": "NBA_FAILURES_RETRY_BACKOFF_SECONDS"}


def build_warehouse() -> Warehouse:
    """`NBA_FAILURES_WAREHOUSE`: `duckdb` (default, the embedded file) or `bigquery`."""
    backend = os.environ.get(settings.WAREHOUSE_ENV, "duckdb").lower()
    if backend == "duckdb":
        return DuckDBWarehouse(path=str(settings.duckdb_path()))
    if backend == "bigquery":
        # Imported here: the Google client libraries are half the load time of a code location that does not use them.
        from nba_failures.warehouse.bigquery_warehouse import BigQueryWarehouse, EndpointBigQueryResource

        if not os.environ.get(_BIGQUERY_SETTINGS["project"]):
            raise ValueError(f"{settings.WAREHOUSE_ENV}=bigquery needs {_BIGQUERY_SETTINGS['project']}")
        configured = {field: EnvVar(name) for field, name in _BIGQUERY_SETTINGS.items() if os.environ.get(name)}
        return BigQueryWarehouse(bigquery=EndpointBigQueryResource(**configured))
    raise ValueError(f"{settings.WAREHOUSE_ENV}={backend!r}: expected 'duckdb' or 'bigquery'")


def build_resources() -> dict[str, object]:
    return {
        "landing": LandingZone(path=str(settings.landing_dir())),
        "warehouse": build_warehouse(),
        "completeness": CompletenessChecker(),
        "dashboard": DashboardOutput(path=str(settings.dashboard_path())),
        "precompute_policy": PrecomputePolicy(),
        "prediction_policy": PredictionPolicy(),
        "retry_policy": RetryPolicy(
            **{field: EnvVar.int(name) for field, name in _RETRY_SETTINGS.items() if os.environ.get(name)}
        ),
    }


defs = Definitions(
    assets=automated(
        load_assets_from_modules(
            [
                landed_files,
                raw_assets,
                analytics_assets,
                classified_assets,
                precompute_assets,
                prediction_assets,
                dashboard_assets,
            ]
        )
    ),
    sensors=[landed_game_files_sensor, pipeline_automation_sensor, correctable_failures_sensor],
    resources=build_resources(),
    # Steps are light and the embedded warehouse has one writer: a process per step only adds start-up
    # time and lock contention.
    executor=in_process_executor,
)

# What loading the code location made (modules, classes, the definitions) lives as long as the process: collections
# during a run need not walk it again and again. A season backfill spent 2.6 s in full collections, 1.4 s after this.
gc.freeze()
