"""A failure store made by the real pipeline on a few real days, shared by the dashboard, report and UI tests.

Two faults are injected into a private landing copy: a player missing from the registry and a game file that
never landed. The first run records and classifies them (DATA_GAP) next to the season's real expected
failures; the registry is then repaired and the same days rerun, so the player's failures are RESOLVED and
the missing game stays open. Both runs go to a persistent Dagster instance (its DAGSTER_HOME is kept) so
the Dagster UI test can show their materializations.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from dagster import DagsterInstance

from nba_failures.instance import local_instance_config
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults
from nba_failures_tests.harness import copy_landing, run_assets

FIRST = dt.date(2023, 1, 9)
LAST = dt.date(2023, 1, 12)
UNREGISTERED_PLAYER = "joshgiddey"  # plays for OKC on Jan 10 and Jan 12
MISSING_GAME = "202301090BOS"  # on Jan 9
SELECTION = "*classified_failures"  # classified_failures and everything upstream of it


@dataclass(frozen=True)
class FailureStoreRun:
    warehouse_path: Path
    dagster_home: Path
    landing: Path
    first_run_id: str
    second_run_id: str

    @property
    def warehouse(self) -> DuckDBWarehouse:
        return DuckDBWarehouse(path=str(self.warehouse_path))


_BUILT: dict[str, FailureStoreRun] = {}


def persistent_instance(home: Path) -> DagsterInstance:
    """The project's local (SQLite) instance in `home`, telemetry off; the webserver started with DAGSTER_HOME=home sees it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}, **local_instance_config()}))
    return DagsterInstance.from_config(str(home))


def build_failure_store(root: Path, season_landing: Path) -> FailureStoreRun:
    """Build once per test session (the dashboard, report and UI tests only read it)."""
    if "store" in _BUILT:
        return _BUILT["store"]
    landing = copy_landing(season_landing, root / "landing")
    faults.remove_from_registry(landing, UNREGISTERED_PLAYER)
    faults.remove_game_file(landing, FIRST, MISSING_GAME)
    warehouse = DuckDBWarehouse(path=str(root / "warehouse.duckdb"))
    home = root / "dagster_home"
    with persistent_instance(home) as instance:
        first = run_assets(warehouse, landing, FIRST, LAST, selection=SELECTION, instance=instance)
        assert first.success
        shutil.copyfile(season_landing / "registry" / "player_registry.csv", landing / "registry" / "player_registry.csv")
        second = run_assets(warehouse, landing, FIRST, LAST, selection=SELECTION, instance=instance)
        assert second.success
    _BUILT["store"] = FailureStoreRun(Path(warehouse.path), home, landing, first.run_id, second.run_id)
    return _BUILT["store"]


STORE_TABLES = ("nba_processing.analytics_failures", "nba_processing.precompute_failures", "nba_processing.prediction_failures")
STORED_COLUMNS = [
    "failure_key",
    "processor_name",
    "failure_category",
    "failure_type",
    "resolution_status",
    "is_correctable",
    "entity_type",
    "entity_id",
]


def stored_rows(warehouse_path: Path) -> pd.DataFrame:
    """Every row of the three store tables, read with plain DuckDB (not the package's reader); `day`: the date
    it was recorded for (the prediction table names it prediction_date)."""
    tables = [faults.read_table(warehouse_path, name) for name in STORE_TABLES]
    frames = [
        table[STORED_COLUMNS].assign(day=pd.to_datetime(table.get("analysis_date", table.get("prediction_date"))).dt.date)
        for table in tables
        if len(table)
    ]
    return pd.concat(frames, ignore_index=True)
