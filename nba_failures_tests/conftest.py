import datetime as dt
from pathlib import Path

import pytest

from nba_failures import settings
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.harness import copy_landing


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test files longest first (the sum of their tests' `slow(seconds=…)`, about what each takes here): the workers
    take whole files in this order (`--dist loadfile --no-loadscope-reorder`), so none is left alone with a long one
    at the end. Inside a file the tests keep their order."""

    def expected_seconds(item: pytest.Item) -> float:
        slow = item.get_closest_marker("slow")
        return slow.kwargs.get("seconds", 30) if slow else 0

    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::")[0]

    per_file: dict[str, float] = {}
    for item in items:
        per_file[file_of(item)] = per_file.get(file_of(item), 0) + expected_seconds(item)
    items.sort(key=lambda item: per_file[file_of(item)], reverse=True)


@pytest.fixture(scope="session")
def season_landing() -> Path:
    """The bundled real season as a landing directory (read-only for tests: copy it to damage it)."""
    from nba_failures.landing.build import ensure_default_landing

    landing = settings.landing_dir()
    ensure_default_landing(landing)
    return landing


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


@pytest.fixture(scope="session")
def bigquery_emulator():
    """A local BigQuery emulator on loopback, spoken to over HTTP by the official client."""
    from nba_failures_tests.bigquery_emulator import BigQueryEmulator

    with BigQueryEmulator() as emulator:
        yield emulator


@pytest.fixture
def bigquery_warehouse(bigquery_emulator):
    """A BigQueryWarehouse on the emulator, in a project of its own so tests do not see each other's tables."""
    import uuid

    from nba_failures.warehouse.bigquery_warehouse import BigQueryWarehouse, EndpointBigQueryResource

    project = f"test-{uuid.uuid4().hex[:8]}"
    return BigQueryWarehouse(bigquery=EndpointBigQueryResource(project=project, api_endpoint=bigquery_emulator.endpoint))


@pytest.fixture(scope="session")
def failure_store(tmp_path_factory, season_landing):
    """The real pipeline's failure store over a few real days with two injected faults (one later fixed)."""
    from nba_failures_tests.dashboard.store_data import build_failure_store

    return build_failure_store(tmp_path_factory.mktemp("failure_store"), season_landing)


@pytest.fixture(scope="session")
def failure_frame(failure_store):
    """That store read through the package (`failures.views.read_store`)."""
    from nba_failures.failures.views import read_store

    return read_store(failure_store.warehouse)


@pytest.fixture(scope="session")
def stored_failures(failure_store):
    """The three store tables read with plain DuckDB: the independent view."""
    from nba_failures_tests.dashboard.store_data import stored_rows

    return stored_rows(failure_store.warehouse_path)
