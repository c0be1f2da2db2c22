import pytest

from nba_failures_tests.dashboard.store_data import FailureStoreRun, build_failure_store


@pytest.fixture(scope="session")
def failure_store(tmp_path_factory, season_landing) -> FailureStoreRun:
    """The real pipeline's failure store over a few real days with two injected faults (one later fixed)."""
    return build_failure_store(tmp_path_factory.mktemp("failure_store"), season_landing)
