"""A frame derived from warehouse slices is kept while they stay the same, on a real DuckDB file: any write to
one of them (by this process or another) makes it derived afresh, and a caller's changes never reach the kept one."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd

from nba_failures.tables.raw import NBAC_SCHEDULE
from nba_failures.warehouse.derived import derived_frame
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.harness import run_assets

FIRST, LAST = dt.date(2023, 1, 10), dt.date(2023, 1, 12)
END = LAST + dt.timedelta(days=1)
SLICES = [(NBAC_SCHEDULE, FIRST, END)]

# Another process writes the slice: a concurrent run's write, here the same rows in reverse order.
_REVERSE = """
import datetime as dt, sys
from nba_failures.tables.raw import NBAC_SCHEDULE
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
warehouse = DuckDBWarehouse(path=sys.argv[1])
start, end = dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
warehouse.replace(NBAC_SCHEDULE, warehouse.read(NBAC_SCHEDULE, start, end)[::-1], start, end)
"""


def test_a_derived_frame_is_kept_while_the_slices_it_came_from_stay_the_same(landing: Path, warehouse: DuckDBWarehouse) -> None:
    assert run_assets(warehouse, landing, FIRST, LAST + dt.timedelta(days=1), selection="nbac_schedule").success
    derivations = []

    def game_ids() -> pd.DataFrame:
        """Order-sensitive, as parsing is (of two duplicate rows, the second is the duplicate)."""
        derivations.append(1)
        return warehouse.read(NBAC_SCHEDULE, FIRST, END)[["game_date", "game_id"]]

    def derive() -> pd.DataFrame:
        return derived_frame(warehouse, "game_ids", SLICES, game_ids)

    first = derive()
    first["game_id"] = ""  # the caller's own copy
    pd.testing.assert_frame_equal(derive(), game_ids().reset_index(drop=True))
    assert len(derivations) == 2  # the first call, and the fresh one compared with the kept frame

    # A write beside the slice keeps it.
    after, later = END, END + dt.timedelta(days=1)
    warehouse.replace(NBAC_SCHEDULE, warehouse.read(NBAC_SCHEDULE, after, later), after, later)
    derive()
    assert len(derivations) == 2

    # Other rows in the slice, or the same in another order, by this process or another: derived from them.
    fewer = warehouse.read(NBAC_SCHEDULE, FIRST, END)
    warehouse.replace(NBAC_SCHEDULE, fewer[fewer["game_date"] != FIRST], FIRST, END)
    assert FIRST not in set(derive()["game_date"])
    assert len(derivations) == 3
    subprocess.run([sys.executable, "-c", _REVERSE, warehouse.path, FIRST.isoformat(), END.isoformat()], check=True)
    reversed_order = derive()
    assert len(derivations) == 4
    pd.testing.assert_frame_equal(reversed_order, game_ids().reset_index(drop=True))
    assert reversed_order["game_id"].tolist() == fewer[fewer["game_date"] != FIRST]["game_id"].tolist()[::-1]
