"""The dashboard's frames and figures on the real pipeline's failure store, checked against the store read
straight from the DuckDB file and against the bundled box scores."""

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import plotly
import pytest

from nba_failures.dashboard import figures
from nba_failures.dashboard.html import (
    DEFAULT_TABLE_LIMIT,
    OUTCOME_ORDER,
    TABLE_COLUMNS,
    failure_rows,
    failure_rows_json,
    render_dashboard,
    summary_markdown,
)
from nba_failures.failures.views import empty_store_frame
from nba_failures_tests import faults
from nba_failures_tests.dashboard.page_data import embedded_rows
from nba_failures_tests.dashboard.store_data import FIRST, LAST, MISSING_GAME, UNREGISTERED_PLAYER


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.found.append(f"<{tag} {name}={value}>")


def external_resources(page: str) -> list[str]:
    """Every src/href of the page's tags (scripts, styles, images, links): a self-contained page has none."""
    parser = _Resources()
    parser.feed(page)
    return parser.found


def unregistered_games() -> int:
    """Games the unregistered player played in the window (bundled box scores)."""
    box = faults.active(faults.boxscores(FIRST, LAST))
    return int((box["player_lookup"] == UNREGISTERED_PLAYER).sum())


@pytest.mark.slow(seconds=25)  # the module's backfill fixture runs for the first test
def test_reader_returns_every_stored_failure_once(failure_frame, stored_failures):
    assert len(failure_frame) == len(stored_failures) > 0
    assert set(failure_frame["failure_key"]) == set(stored_failures["failure_key"]) and failure_frame["failure_key"].is_unique
    assert failure_frame["analysis_date"].between(pd.Timestamp(FIRST), pd.Timestamp(LAST)).all()


def test_matrix_counts_every_failure_in_its_processor_and_category(failure_frame, stored_failures):
    matrix = figures.processor_category_matrix(failure_frame)
    assert int(matrix.to_numpy().sum()) == len(stored_failures)
    expected = stored_failures.groupby(["processor_name", "failure_category"]).size()
    for (processor, category), count in expected.items():
        assert matrix.loc[processor, category] == count
    assert matrix.loc["player_game_summary", "REGISTRY_LOOKUP_FAILED"] == unregistered_games() == 2
    # The missing game: one raw failure for the game, one per team in each team summary.
    assert matrix.loc["nbac_gamebook_player_stats", "MISSING_RAW_DATA"] == 1
    assert matrix.loc["team_offense_game_summary", "MISSING_RAW_DATA"] == 2
    assert matrix.loc["team_defense_game_summary", "MISSING_RAW_DATA"] == 2

    figure = figures.matrix_figure(failure_frame)
    assert int(np.asarray(figure["data"][0]["text"]).sum()) == len(stored_failures)


def test_weekly_counts_add_up_to_the_store(failure_frame):
    weekly = figures.weekly_by_processor(failure_frame)
    assert weekly["failures"].sum() == len(failure_frame)
    assert set(weekly["week"].dt.dayofweek) == {0}  # weeks start on Monday
    assert len(figures.weekly_figure(failure_frame)["data"]) == failure_frame["processor_name"].nunique()


def test_type_share_is_the_share_of_each_type_per_processor(failure_frame, stored_failures):
    share = figures.type_share(failure_frame)
    assert np.allclose(share.sum(axis=1), 1.0)
    counts = stored_failures.groupby(["processor_name", "failure_type"]).size()
    for (processor, failure_type), count in counts.items():
        assert share.loc[processor, failure_type] == pytest.approx(count / (stored_failures["processor_name"] == processor).sum())
    assert share.loc["player_game_summary", "DATA_GAP"] == 1.0
    assert share.loc["upcoming_player_game_context", "INSUFFICIENT_HISTORY"] == 1.0
    # DNP, DATA_GAP, MIXED always lead, in that order, whichever of them occur.
    assert list(share.columns) == [t for t in figures.TYPE_ORDER if t in set(stored_failures["failure_type"])]
    assert len(figures.type_share_figure(failure_frame)["data"]) == share.shape[1]


def test_correctable_backlog_opens_with_the_gaps_and_closes_with_the_fix(failure_frame, stored_failures):
    correctable = stored_failures[stored_failures["is_correctable"]]
    resolved = correctable[correctable["resolution_status"] == "RESOLVED"]
    still_open = correctable[correctable["resolution_status"].isin(["UNRESOLVED", "RETRY_REQUESTED"])]
    assert len(resolved) == unregistered_games() and set(resolved["entity_id"]) == {UNREGISTERED_PLAYER}
    assert MISSING_GAME in set(still_open["entity_id"])

    backlog = figures.correctable_backlog(failure_frame)
    assert backlog["opened"].sum() == len(correctable)
    assert backlog["closed"].sum() == len(resolved)
    assert backlog["open"].iloc[-1] == len(still_open)
    assert (backlog["open"] >= 0).all()

    by_date = figures.correctable_by_analysis_date(failure_frame)
    assert int(by_date.to_numpy().sum()) == len(correctable)
    assert int(by_date["RESOLVED"].sum()) == len(resolved)
    assert int(by_date.loc[pd.Timestamp(FIRST), "UNRESOLVED"]) == 5  # the missing game's 1 + 2 + 2


def test_retry_outcomes_and_time_to_resolve(failure_frame):
    retries = figures.retry_outcomes(failure_frame)
    correctable = failure_frame[failure_frame["is_correctable"]]
    assert int(retries.to_numpy().sum()) == len(correctable)  # nothing else was retried or given up on
    assert set(retries.columns) == {"RESOLVED", "UNRESOLVED"} and int(retries["RESOLVED"].sum()) == unregistered_games()
    assert list(retries.index) == [0]  # no retry sensor ran: nothing was retried

    hours = figures.hours_to_resolve(failure_frame)
    resolved = failure_frame[failure_frame["resolution_status"] == "RESOLVED"]
    assert len(hours) == len(resolved) == unregistered_games()
    expected = ((resolved["resolved_at"] - resolved["first_seen_at"]).dt.total_seconds() / 3600).to_numpy()
    assert np.allclose(np.sort(hours.to_numpy()), np.sort(expected))
    assert (hours > 0).all() and (hours < 1).all()  # both runs happened within the test
    assert len(figures.resolve_time_figure(failure_frame)["data"]) == 1


def test_top_entities_are_the_most_failing_entities(failure_frame, stored_failures):
    top = figures.top_entities(failure_frame, n=10)
    counts = stored_failures.groupby("entity_id").size().sort_values(ascending=False)
    assert top["failures"].tolist() == counts.head(10).tolist()
    assert top["failures"].is_monotonic_decreasing
    row = figures.top_entities(failure_frame, n=len(failure_frame)).set_index("entity_id").loc[UNREGISTERED_PLAYER]
    assert row["DATA_GAP"] == unregistered_games()


def test_summary_numbers(failure_frame, stored_failures):
    numbers = figures.summary(failure_frame)
    assert numbers["failures"] == len(stored_failures)
    assert numbers["resolved"] == (stored_failures["resolution_status"] == "RESOLVED").sum() == 2
    assert numbers["open_correctable"] == 5
    assert numbers["expected"] == (stored_failures["resolution_status"] == "EXPECTED").sum()
    assert numbers["permanent"] == 0 and numbers["retry_attempts"] == 0
    assert (numbers["first_date"], numbers["last_date"]) == (FIRST.isoformat(), LAST.isoformat())
    assert sum(numbers["by_type"].values()) == len(stored_failures)
    assert numbers["median_hours_to_resolve"] is not None


def test_page_is_self_contained_with_every_chart_and_row(failure_frame, tmp_path):
    page = render_dashboard(failure_frame, pd.Timestamp("2023-01-13 12:00", tz="UTC"), source="DuckDB file /tmp/w.duckdb")
    assert page.count("Plotly.newPlot(") == len(figures.build_figures(failure_frame))
    assert external_resources(page) == []  # plotly.js is inlined, nothing is fetched
    assert page.count(plotly.offline.get_plotlyjs()[-2000:]) == 1  # and inlined once
    assert page.count('data-chart="') == 8
    assert "Failure store: DuckDB file /tmp/w.duckdb" in page
    rows = embedded_rows(page)
    assert len(failure_frame) > DEFAULT_TABLE_LIMIT  # the page carries the table's rows, not the whole store
    pd.testing.assert_frame_equal(rows, failure_rows(failure_frame))
    assert list(rows.columns) == [name for name, _, _ in TABLE_COLUMNS]
    assert page.count('data-type="') == len(TABLE_COLUMNS)
    assert page.count("<tr>") == 1  # the header: the rows are drawn a page at a time from the JSON, not inlined

    markdown = summary_markdown(figures.summary(failure_frame), tmp_path / "failure_dashboard.html")
    assert f"**{len(failure_frame)} failures**" in markdown and "| DATA_GAP | 7 |" in markdown


def test_table_limit_keeps_the_open_failures_then_the_newest(failure_frame):
    rows = failure_rows(failure_frame, limit=10)
    everything = failure_rows(failure_frame, limit=len(failure_frame))
    assert len(rows) == 10 and len(everything) == len(failure_frame)
    assert rows["outcome"].map(OUTCOME_ORDER.index).is_monotonic_increasing
    assert (rows["outcome"] == "to_fix").sum() == figures.summary(failure_frame)["open_correctable"] == 5
    last = rows["outcome"].iloc[-1]
    kept = rows[rows["outcome"] == last]
    left_out = everything[everything["outcome"] == last].iloc[len(kept) :]
    assert kept["analysis_date"].min() >= left_out["analysis_date"].max()


def test_table_cells_are_dates_times_counts_or_blank(failure_frame):
    rows = failure_rows(failure_frame, limit=len(failure_frame))
    assert rows["analysis_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert rows["first_seen_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    resolved = rows["resolution_status"] == "RESOLVED"
    assert resolved.any() and (~resolved).any()
    assert rows.loc[resolved, "resolved_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    assert (rows.loc[~resolved, "resolved_at"] == "").all()  # missing, not "NaT"
    assert rows["retry_attempts"].str.fullmatch(r"\d+").all()
    assert rows["retry_attempts"].astype(int).sum() == failure_frame["retry_attempts"].sum()


def test_embedded_rows_cannot_close_their_script_element():
    rows = pd.DataFrame({"failure_reason": ["a </script><script>alert(1)</script>", "plain"]})
    text = failure_rows_json(rows)
    assert "</" not in text
    decoded = json.loads(text)["columns"][0]
    assert [decoded["values"][code] for code in decoded["codes"]] == list(rows["failure_reason"])


def test_an_empty_store_renders_placeholders():
    empty = empty_store_frame()
    built = figures.build_figures(empty)
    assert all(len(figure["data"]) == 0 and figure["layout"]["annotations"] for figure in built.values())
    page = render_dashboard(empty, pd.Timestamp.now(tz="UTC"))
    assert "no failures" in page and figures.summary(empty)["failures"] == 0


def test_empty_correctable_panels_say_why(failure_frame):
    expected_only = failure_frame[failure_frame["resolution_status"] == "EXPECTED"]
    built = figures.build_figures(expected_only)
    for name in ("backlog", "backlog_by_date", "retries"):
        assert "every failure is expected" in built[name]["layout"]["annotations"][0]["text"], name
    assert "nothing resolved yet" in built["resolve_time"]["layout"]["annotations"][0]["text"]
    bad_and_expected = failure_frame[~failure_frame["is_correctable"]]
    message = figures.nothing_correctable(bad_and_expected)
    assert message.startswith("no correctable failures: ") and "expected" in message


def test_durations_read_in_the_unit_that_fits():
    assert figures.format_duration(0.5) == "30.0 minutes"
    assert figures.format_duration(5) == "5.0 hours"
    assert figures.format_duration(96) == "4.0 days"
    assert figures.format_duration(None) == "–"
