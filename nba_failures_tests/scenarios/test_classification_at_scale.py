"""Classification over a whole seeded season, checked failure by failure against independent expectations.

A scenario over the whole bundled season, with more faults than the default spread across it, goes through one
backfill of every asset. Every stored player completeness verdict is then compared with the oracle (computed
from the CSVs and the faults only), and every other stored failure with the documented type of its category.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from nba_failures.resources import DashboardOutput
from nba_failures.scenarios.faults import FaultCounts, GameFileFault, MalformedRowFault
from nba_failures.scenarios.make import make_scenario
from nba_failures.scenarios.truth import GroundTruth
from nba_failures.tables.failures import ANALYTICS_FAILURES, PRECOMPUTE_FAILURES, PREDICTION_FAILURES
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests import faults, season_data
from nba_failures_tests.harness import run_assets
from nba_failures_tests.scenarios.oracle import DATA_GAP, INSUFFICIENT_HISTORY, MIXED, PLAYER_DNP, CompletenessOracle

SEED = 19
COUNTS = FaultCounts(late_game_file=6, missing_game_file=4, registry_removal=5, malformed_row=6)

# The failure-type rules as the README and the categories' documentation state them, written out here rather
# than imported: data that exists (or will) and that we did not get is a gap; too little history is expected;
# wrong delivered input needs a corrected delivery.
FIXED_TYPE_BY_CATEGORY = {
    "REGISTRY_LOOKUP_FAILED": "DATA_GAP",
    "MISSING_RAW_DATA": "DATA_GAP",
    "MISSING_DEPENDENCY": "DATA_GAP",
    "MISSING_UPSTREAM_IN_BACKFILL": "DATA_GAP",
    "STALE_CACHE": "DATA_GAP",
    "INSUFFICIENT_DATA": "INSUFFICIENT_HISTORY",
    "EXPECTED_INCOMPLETE": "INSUFFICIENT_HISTORY",
    "PROCESSING_ERROR": "BAD_INPUT",
    "VALIDATION_ERROR": "BAD_INPUT",
    "FEATURE_VALIDATION_ERROR": "BAD_INPUT",
    "EXTRACTION_FAILED": "BAD_INPUT",
    "SCHEMA_DRIFT": "BAD_INPUT",
    "CALCULATION_ERROR": "BAD_INPUT",
    "MODEL_ERROR": "BAD_INPUT",
    "UNKNOWN": "UNKNOWN",
    # Player failures of these two get the three-source check (the oracle's verdict); other entities always play.
    "INCOMPLETE_DATA": "DATA_GAP",
    "STALE_DATA": "DATA_GAP",
}
COMPLETENESS_CATEGORIES = ("INCOMPLETE_DATA", "STALE_DATA")
# A missing-upstream failure is what the upstream processor's failure of the same entity and day is; with none
# recorded, the missing row is a gap a rerun may fill.
INHERITING_CATEGORIES = ("UPSTREAM_INCOMPLETE", "MISSING_DATA")
CORRECTABLE_TYPES = ("DATA_GAP", "MIXED")
STORE_TABLES = (ANALYTICS_FAILURES, PRECOMPUTE_FAILURES, PREDICTION_FAILURES)


@dataclass(frozen=True)
class SeasonRun:
    truth: GroundTruth
    warehouse_path: Path
    stored: pd.DataFrame  # the three store tables, their date column as `analysis_date` (a date)
    backfill_seconds: float


@pytest.fixture(scope="module")
def season_run(tmp_path_factory: pytest.TempPathFactory) -> SeasonRun:
    root = tmp_path_factory.mktemp("season_scenario")
    truth = make_scenario(root / "scenario", SEED, counts=COUNTS)
    schedule = season_data.schedule()
    warehouse_path = root / "warehouse.duckdb"
    began = time.monotonic()
    first, last = min(schedule["game_date"]), max(schedule["game_date"])
    dashboard = DashboardOutput(path=str(root / "failure_dashboard.html"))  # not into the checkout's .local
    assert run_assets(
        DuckDBWarehouse(path=str(warehouse_path)), root / "scenario", first, last, resources={"dashboard": dashboard}
    ).success
    backfill_seconds = time.monotonic() - began
    print(f"whole-season backfill of every asset: {backfill_seconds:.1f} s")
    tables = []
    for table in STORE_TABLES:
        rows = faults.read_table(warehouse_path, table.qualified_name).rename(columns={table.partition_column: "analysis_date"})
        rows["analysis_date"] = pd.to_datetime(rows["analysis_date"]).dt.date
        tables.append(rows.assign(store_table=table.name))
    return SeasonRun(truth, warehouse_path, pd.concat(tables, ignore_index=True), backfill_seconds)


def _player_completeness(stored: pd.DataFrame) -> pd.Series:
    return (stored["entity_type"] == "PLAYER") & stored["failure_category"].isin(COMPLETENESS_CATEGORIES)


@pytest.mark.slow(seconds=105)
def test_every_player_completeness_verdict_matches_the_oracle(season_run: SeasonRun) -> None:
    truth = season_run.truth
    fault_months = {
        (f.game_date.year, f.game_date.month) for f in truth.faults if isinstance(f, GameFileFault | MalformedRowFault)
    }
    assert len(fault_months) >= 3, f"faults are meant to be spread across the season, not in {sorted(fault_months)}"
    oracle = CompletenessOracle(truth, season_data.boxscores(), season_data.schedule())

    # The oracle's account of which played games our data lost is what player_game_summary lacks.
    summary = faults.read_table(season_run.warehouse_path, "nba_analytics.player_game_summary")
    listed_active = season_data.boxscores().query("player_status == 'ACTIVE' and player_lookup != ''")
    lost = set(zip(listed_active["game_id"], listed_active["player_lookup"])) - set(
        zip(summary["game_id"], summary["player_lookup"])
    )
    assert lost == oracle.lost_summary_rows

    checked = season_run.stored[_player_completeness(season_run.stored)].reset_index(drop=True)
    verdicts = [
        oracle.verdict(p, day, ids)
        for p, day, ids in zip(checked["entity_id"], checked["analysis_date"], checked["missing_game_ids"])
    ]
    checked["oracle_type"] = [verdict.failure_type for verdict in verdicts]
    checked["oracle_gaps"] = [verdict.gap_game_ids for verdict in verdicts]
    checked["oracle_dnps"] = [verdict.dnp_game_ids for verdict in verdicts]
    checked["stored_gaps"] = checked["gap_game_ids"].map(lambda ids: tuple(sorted(ids)))
    checked["stored_dnps"] = checked["dnp_reasons"].map(lambda reasons: tuple(sorted(reason.split(":")[0] for reason in reasons)))
    agrees = (
        (checked["failure_type"] == checked["oracle_type"])
        & (checked["stored_gaps"] == checked["oracle_gaps"])
        & (checked["stored_dnps"] == checked["oracle_dnps"])
    )
    print(f"{agrees.sum()} of {len(checked)} player completeness failures agree with the oracle ({agrees.mean():.2%})")
    print(
        pd.crosstab(
            checked["failure_type"], checked["oracle_type"], rownames=["stored"], colnames=["oracle"], margins=True
        ).to_string()
    )

    # Every verdict the check can reach on a real season is exercised, else the comparison proves little.
    assert {DATA_GAP, MIXED, PLAYER_DNP, INSUFFICIENT_HISTORY} <= set(checked["oracle_type"])
    shown = ["processor_name", "analysis_date", "entity_id", "missing_game_ids", "failure_type", "oracle_type", "stored_gaps",
             "oracle_gaps", "stored_dnps", "oracle_dnps"]  # fmt: skip
    assert agrees.all(), f"{(~agrees).sum()} disagreements:\n{checked.loc[~agrees, shown].head(40).to_string()}"
    pure_dnp = pd.Series([verdict.pure_dnp for verdict in verdicts], index=checked.index)
    called_correctable = pure_dnp & checked["failure_type"].isin(CORRECTABLE_TYPES)
    assert not called_correctable.any(), checked.loc[called_correctable, shown].to_string()


@pytest.mark.slow(seconds=5)
def test_every_other_failure_takes_its_categorys_documented_type(season_run: SeasonRun) -> None:
    stored = season_run.stored
    inherits = stored["failure_category"].isin(INHERITING_CATEGORIES) & stored["upstream_table"].notna()
    fixed = stored[~_player_completeness(stored) & ~inherits]
    expected_type = fixed["failure_category"].map(FIXED_TYPE_BY_CATEGORY)
    wrong = fixed[expected_type != fixed["failure_type"]]
    assert wrong.empty, (
        wrong.loc[:, ["store_table", "processor_name", "entity_type", "failure_category", "failure_type"]]
        .drop_duplicates()
        .to_string()
    )
    # Every category the faults produce is among those checked.
    assert {row.failure_category.value for row in season_run.truth.expected_failures} <= set(fixed["failure_category"])

    # Missing-upstream failures: the type of the upstream processor's failure for that entity and day.
    inheriting = stored[inherits].assign(
        upstream_processor=lambda f: f["upstream_table"].str.split(".").str[-1],
        upstream_entity=lambda f: f["upstream_entity_id"].fillna(f["entity_id"]),
    )
    upstream_types = (
        stored.groupby(["processor_name", "analysis_date", "entity_id"])["failure_type"]
        .agg(frozenset)
        .rename_axis(["upstream_processor", "analysis_date", "upstream_entity"])
        .rename("upstream_types")
    )
    inheriting = inheriting.join(upstream_types, on=["upstream_processor", "analysis_date", "upstream_entity"])
    inheriting["upstream_types"] = inheriting["upstream_types"].map(
        lambda types: types if isinstance(types, frozenset) else frozenset({"DATA_GAP"})
    )
    assert inheriting["upstream_types"].map(len).eq(1).all(), "an upstream entity and day with failures of different types"
    inherited_wrong = inheriting[inheriting["failure_type"] != inheriting["upstream_types"].map(lambda types: next(iter(types)))]
    assert len(inheriting) and inherited_wrong.empty, inherited_wrong.loc[
        :, ["processor_name", "analysis_date", "entity_id", "upstream_table", "failure_type", "upstream_types"]
    ].to_string()

    # Correctable exactly when a gap is (part of) the cause, on every stored failure.
    correctable = stored["failure_type"].isin(CORRECTABLE_TYPES)
    assert (stored["is_correctable"].astype(bool) == correctable).all()
    print(stored.groupby(["store_table", "failure_category", "failure_type"]).size().to_string())
