"""Self-healing when the fix arrives hours or days later, on an injected clock.

A seeded scenario on the real season: late game files land 6 h and 48 h after their failures were recorded,
the registry fixes a day later, some files never arrive, some rows are malformed. The retry sensor ticks at
injected times on a real Dagster instance and the real DuckDB file, and every run it requests is executed
for real. Which failure each fault explains is worked out from the scenario's faults and the games each failure
names (see `healing.py`), not from the classifier's verdict or the sensor's bookkeeping.
"""

import datetime as dt

import pandas as pd
import pytest
from dagster import DagsterInstance, build_sensor_context

from nba_failures.definitions import defs
from nba_failures.resources import LandingZone
from nba_failures.scenarios.deliver import deliver_scenario
from nba_failures.scenarios.make import make_scenario
from nba_failures.sensors.retry import RetryPolicy, retry_tick
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.harness import execute_request, run_assets
from nba_failures_tests.sensors.healing import RETRIED_TYPES, Faults, assert_healed, lifecycle, outcome, stored

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 18)
SEED = 7
POLICY = RetryPolicy(max_attempts=3, backoff_seconds=300, max_wait_hours=72)


class Clock:
    """Ticks the retry sensor at hours after the failures were first seen and executes what it requests."""

    def __init__(self, warehouse: DuckDBWarehouse, scenario, seen: pd.Timestamp) -> None:
        self.warehouse, self.scenario, self.seen = warehouse, scenario, seen
        self.instance = DagsterInstance.ephemeral()
        self.cursor = None
        self.runs: list[tuple[float, str]] = []
        self.served: dict[tuple[str, int], str] = {}  # (failure, attempt) -> the one run that served it

    def tick(self, hours: float) -> int:
        context = build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=defs)
        result = retry_tick(
            context, self.warehouse, LandingZone(path=str(self.scenario)), POLICY, self.seen + pd.Timedelta(hours=hours)
        )
        self.cursor = result.cursor
        requested = stored(self.warehouse)
        for request in result.run_requests:
            for key, row in requested[requested["last_retry_run_id"] == request.run_key].iterrows():
                if row["resolution_status"] == "RETRY_REQUESTED":
                    served = self.served.setdefault((key, int(row["retry_attempts"])), request.run_key)
                    assert served == request.run_key, f"{key} served twice at attempt {row['retry_attempts']}"
            assert execute_request(request, self.warehouse, self.scenario, self.instance).success
            self.runs.append((hours, request.run_key))
        return len(result.run_requests)

    def settle(self, hours: float) -> None:
        """Ticks from `hours` on, a minute past each backoff, until a tick requests nothing."""
        for step in range(8):
            if not self.tick(hours + (2**step - 1) * (POLICY.backoff_seconds + 60) / 3600) and step:
                return
        raise AssertionError(f"still requesting runs at {hours} h + 8 ticks")


@pytest.mark.slow(seconds=90)
def test_every_delivered_fix_heals_and_nothing_is_spent_on_data_that_has_not_arrived(tmp_path):
    scenario = tmp_path / "scenario"
    faults = Faults.of(make_scenario(scenario, SEED, start=FIRST, end=LAST))
    assert (
        set(faults.late.values()) == {6.0, 48.0} and set(faults.removed.values()) == {24.0} and faults.never and faults.malformed
    )
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    assert run_assets(warehouse, scenario, FIRST, LAST).success
    before = stored(warehouse)
    clock = Clock(warehouse, scenario, pd.Timestamp(before["first_seen_at"].max()))

    keys_seen: set[str] = set()
    for hours in (1 / 60, 6, 24, 48):
        deliver_scenario(scenario, until_hours=hours)
        clock.settle(hours)
        now = stored(warehouse)
        assert keys_seen <= set(now.index), "no failure row is ever deleted"
        keys_seen = set(now.index)
        waiting = now[faults.undelivered(now, hours) & now["failure_type"].isin(RETRIED_TYPES)]
        assert len(waiting), f"{hours} h: some fixes are still to come"
        assert (waiting["retry_attempts"] == 0).all(), f"{hours} h: attempts spent on failures whose data has not arrived"
        assert (waiting["resolution_status"] == "UNRESOLVED").all() and waiting["waiting_for"].notna().all()

    clock.settle(80)  # past max_wait: what never arrived is given up, for that reason
    after = stored(warehouse)
    result = outcome(before, after, faults)
    assert_healed(result, after, POLICY.max_attempts, never_arrived_status="PERMANENT")
    assert (result.never_arrived["permanent_cause"] == "DATA_NEVER_ARRIVED").all()
    print(f"\n{len(clock.runs)} retry runs at hours {[round(h, 2) for h, _ in clock.runs]}")
    print(f"delivered: {len(result.delivered)}, never arrived: {len(result.never_arrived)}, malformed: {len(result.malformed)}")
    print(lifecycle(before, after).to_string())
    assert len(clock.runs) <= 12, "a tick launches the fewest runs that cover what became ready"
