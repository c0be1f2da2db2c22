import datetime as dt
from pathlib import Path

import pytest

from nba_failures import settings
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.harness import copy_landing


@pytest.fixture(scope="session")
def season_landing() -> Path:
    """The bundled real season as a landing directory (read-only for tests: copy it to damage it)."""
    return settings.landing_dir()


@pytest.fixture
def landing(season_landing: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the real season's landing directory."""
    return copy_landing(season_landing, tmp_path / "landing")


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    """A fresh DuckDB file for this test."""
    return DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))


@pytest.fixture(scope="session")
def mid_season_day() -> dt.date:
    return dt.date(2023, 1, 15)
