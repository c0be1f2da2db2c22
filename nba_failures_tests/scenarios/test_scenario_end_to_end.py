"""A seeded scenario through the real pipeline (DuckDB + Dagster, every asset incl. classified_failures):
the failure store holds exactly the ground truth, and a delivery plus a rerun resolves exactly what it fixes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from nba_failures.classified.assets import PROCESSOR_ASSETS
from nba_failures.failures.records import ResolutionStatus
from nba_failures.scenarios import FaultKind
from nba_failures.scenarios.deliver import deliver_scenario
from nba_failures.scenarios.make import make_scenario
from nba_failures.scenarios.truth import FAULT_CATEGORIES
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY
from nba_failures.tables.failures import ANALYTICS_FAILURES, PRECOMPUTE_FAILURES, PREDICTION_FAILURES
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.harness import run_assets

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 18)
END = LAST + dt.timedelta(days=1)
# Every processor and the classification of their failures, so all three store tables are written and compared
# (the dashboard, which only renders the store, is left out).
SELECTION = [*(asset.key.to_user_string() for asset in PROCESSOR_ASSETS), "classified_failures"]
STORE_TABLES = (ANALYTICS_FAILURES, PRECOMPUTE_FAILURES, PREDICTION_FAILURES)
COMPARED = ["processor_name", "analysis_date", "entity_type", "entity_id", "failure_category", "failure_type", "is_correctable"]


def _stored(warehouse: DuckDBWarehouse) -> pd.DataFrame:
    """The failures of the fault categories in any of the three store tables: the truth lists every one of them
    (all raw or analytics ones), so a precompute or prediction failure of those categories is one it does not list."""
    tables = []
    for table in STORE_TABLES:
        stored = warehouse.read(table, FIRST, END).rename(columns={table.partition_column: "analysis_date"})
        assert len(stored), f"{table.qualified_name} was not written"
        tables.append(stored.assign(store_table=table.name))
    stored = pd.concat(tables, ignore_index=True)
    stored["analysis_date"] = pd.to_datetime(stored["analysis_date"]).dt.date
    return stored[stored["failure_category"].isin([c.value for c in FAULT_CATEGORIES])]


def _truth_frame(truth) -> pd.DataFrame:
    rows = [row.model_dump(mode="json") for row in truth.expected_between(FIRST, LAST)]
    frame = pd.DataFrame(rows)
    frame["analysis_date"] = pd.to_datetime(frame["analysis_date"]).dt.date
    return frame


@pytest.mark.slow(seconds=20)
def test_scenario_failures_match_ground_truth_and_delivery_resolves_what_it_fixes(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    scenario = tmp_path / "scenario"
    truth = make_scenario(scenario, 7, start=FIRST, end=LAST)
    expected = _truth_frame(truth)
    assert set(expected["fault_kind"]) == {kind.value for kind in FaultKind}

    assert run_assets(warehouse, scenario, FIRST, LAST, selection=SELECTION).success
    stored = _stored(warehouse)

    # Exactly the ground truth: every expected row with its processor, date, entity, category, type and
    # correctability, and nothing of those categories that the truth does not list.
    key = ["processor_name", "analysis_date", "entity_type", "entity_id", "failure_category"]
    merged = expected.merge(stored, on=key, how="outer", suffixes=("_expected", ""), indicator=True)
    assert merged[merged["_merge"] == "left_only"].loc[:, key].empty, "expected failures not stored"
    assert merged[merged["_merge"] == "right_only"].loc[:, [*key, "failure_reason"]].empty, "failures the truth does not list"
    assert (merged["failure_type_expected"] == merged["failure_type"]).all()
    assert (merged["is_correctable_expected"].astype(bool) == merged["is_correctable"].astype(bool)).all()
    assert (merged["failure_key_expected"] == merged["failure_key"]).all()
    assert set(stored["resolution_status"]) == {ResolutionStatus.UNRESOLVED.value}
    assert (
        stored.sort_values(COMPARED)[COMPARED]
        .reset_index(drop=True)
        .astype(str)
        .equals(expected.sort_values(COMPARED)[COMPARED].reset_index(drop=True).astype(str))
    )

    # Nobody of a held-back game, nor a removed player, has a player_game_summary row for it.
    summary = warehouse.read(PLAYER_GAME_SUMMARY, FIRST, END)
    for fault in (*truth.faults_of(FaultKind.LATE_GAME_FILE), *truth.faults_of(FaultKind.MISSING_GAME_FILE)):
        assert not (summary["game_id"] == fault.game_id).any(), fault.fault_id
        assert fault.active_players
    for fault in truth.faults_of(FaultKind.REGISTRY_REMOVAL):
        assert not (summary["player_lookup"] == fault.player_lookup).any(), fault.fault_id

    # Delivery, then a rerun of the same range: what delivery fixes is RESOLVED, the rest still open.
    deliver_scenario(scenario)
    assert run_assets(warehouse, scenario, FIRST, LAST, selection=SELECTION).success
    after = _stored(warehouse).merge(
        expected.loc[:, [*key, "fixed_by_delivery", "fault_id"]], on=key, how="outer", indicator=True
    )
    assert (after["_merge"] == "both").all(), after[after["_merge"] != "both"]
    fixed = after[after["fixed_by_delivery"].astype(bool)]
    still = after[~after["fixed_by_delivery"].astype(bool)]
    assert len(fixed) and len(still)
    assert set(fixed["resolution_status"]) == {ResolutionStatus.RESOLVED.value}
    assert fixed["resolved_at"].notna().all()
    assert set(still["resolution_status"]) == {ResolutionStatus.UNRESOLVED.value}
    assert set(still["fault_id"].str.rsplit("-", n=1).str[0]) == {
        FaultKind.MISSING_GAME_FILE.value,
        FaultKind.MALFORMED_ROW.value,
    }

    summary = warehouse.read(PLAYER_GAME_SUMMARY, FIRST, END)
    for fault in truth.faults_of(FaultKind.LATE_GAME_FILE):
        assert set(summary.loc[summary["game_id"] == fault.game_id, "player_lookup"]) == set(fault.active_players)
    for fault in truth.faults_of(FaultKind.REGISTRY_REMOVAL):
        played = {d for d in fault.played_dates if FIRST <= d <= LAST}
        assert set(pd.to_datetime(summary.loc[summary["player_lookup"] == fault.player_lookup, "game_date"]).dt.date) == played
