"""Where things live. Every path the project reads from the environment is resolved here, once."""

from __future__ import annotations

import os
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
BUNDLED_SEASON_DIR = PACKAGE_DIR / "data" / "season_2022_23"
LOCAL_DATA_DIR = PROJECT_DIR / ".local"

LANDING_DIR_ENV = "NBA_FAILURES_LANDING_DIR"
DUCKDB_PATH_ENV = "NBA_FAILURES_DUCKDB_PATH"
WAREHOUSE_ENV = "NBA_FAILURES_WAREHOUSE"
SENSOR_INTERVAL_ENV = "NBA_FAILURES_SENSOR_INTERVAL_SECONDS"
DASHBOARD_PATH_ENV = "NBA_FAILURES_DASHBOARD_PATH"

DEFAULT_LANDING_DIR = LOCAL_DATA_DIR / "landing" / "season_2022_23"
DEFAULT_DUCKDB_PATH = LOCAL_DATA_DIR / "warehouse.duckdb"
DEFAULT_DASHBOARD_PATH = LOCAL_DATA_DIR / "failure_dashboard.html"


def landing_dir() -> Path:
    """The landing directory: `NBA_FAILURES_LANDING_DIR`, else the bundled season laid out locally (the landing
    resource lays it out when a run or sensor first uses it, so loading the code location writes nothing)."""
    return Path(os.environ.get(LANDING_DIR_ENV) or DEFAULT_LANDING_DIR)


def duckdb_path() -> Path:
    return Path(os.environ.get(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB_PATH)


def warehouse_backend() -> str:
    """`duckdb` (the embedded default) or `bigquery`, from `NBA_FAILURES_WAREHOUSE`."""
    return os.environ.get(WAREHOUSE_ENV, "duckdb").lower()


def warehouse_pool() -> str | None:
    """The Dagster pool of every step that opens the warehouse: one per DuckDB file, which takes one writer at a
    time (deploy/dagster.yaml limits each pool to one step); none on BigQuery, where steps write in parallel."""
    if warehouse_backend() != "duckdb":
        return None
    # Pool names cannot hold whitespace.
    return "duckdb:" + re.sub(r"\s", "_", str(duckdb_path().resolve()))


def dashboard_path() -> Path:
    return Path(os.environ.get(DASHBOARD_PATH_ENV) or DEFAULT_DASHBOARD_PATH)


def sensor_interval_seconds() -> int:
    """How often the sensors tick (default 30 s); read when the code location loads."""
    return int(os.environ.get(SENSOR_INTERVAL_ENV) or 30)
