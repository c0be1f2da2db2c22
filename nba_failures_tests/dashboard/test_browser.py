"""In headless Chromium (Debian's `chromium` + `chromium-driver`, driven by Selenium): the dashboard draws its
charts and table from the real store, and the Dagster UI, started here on loopback, shows
`classified_failures` with its failure metadata. Screenshots go to a temporary directory, or to the README's
docs/screenshots/ when NBA_FAILURES_UPDATE_SCREENSHOTS=1 (so a test run does not rewrite committed files): the
UI's from the test store, the dashboard's from the DuckDB file of a whole-season `nba-failures backfill` (what the
demo shows) named by NBA_FAILURES_DEMO_DUCKDB_PATH."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from nba_failures import settings
from nba_failures.dashboard.assets import failure_dashboard
from nba_failures.dashboard.html import DEFAULT_TABLE_LIMIT, TABLE_PAGE_SIZE, failure_rows
from nba_failures.failures.views import read_store
from nba_failures.resources import DashboardOutput
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures_tests.dashboard import browser
from nba_failures_tests.dashboard.store_data import FIRST, LAST, MISSING_GAME, UNREGISTERED_PLAYER, stored_rows

README_SCREENSHOTS = settings.PROJECT_DIR / "docs" / "screenshots"
CHARTS = ("matrix", "weekly", "type_share", "backlog", "backlog_by_date", "retries", "resolve_time", "top_entities")

_missing = browser.available()
if _missing and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {_missing}")
pytestmark = pytest.mark.skipif(_missing is not None, reason=f"no headless browser: {_missing}")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("NBA_FAILURES_UPDATE_SCREENSHOTS") == "1":
        return README_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


def wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------------------- dashboard


@pytest.fixture(scope="module")
def dashboard_page(failure_store, tmp_path_factory) -> Path:
    """The page as the asset writes it."""
    path = tmp_path_factory.mktemp("dashboard") / "failure_dashboard.html"
    result = materialize(
        [failure_dashboard],
        resources={"warehouse": failure_store.warehouse, "dashboard": DashboardOutput(path=str(path))},
    )
    assert result.success
    return path


_CHART_STATE = """
return Array.from(document.querySelectorAll(".chart")).map(function (chart) {
  const plot = chart.querySelector(".js-plotly-plot");
  return {
    name: chart.dataset.chart,
    svgs: chart.querySelectorAll(".main-svg").length,
    traces: plot && plot.data ? plot.data.length : -1,
    drawnBarTraces: chart.querySelectorAll(".barlayer .trace.bars").length,
    drawnBars: chart.querySelectorAll(".barlayer .point path").length,
    drawnScatter: chart.querySelectorAll(".scatterlayer .trace").length,
    heatmaps: chart.querySelectorAll(".heatmaplayer .hm").length,
    width: plot ? plot.getBoundingClientRect().width : 0,
    chartWidth: chart.getBoundingClientRect().width,
  };
});
"""


def test_dashboard_draws_every_chart_and_row_from_the_store(failure_store, dashboard_page, tmp_path):
    frame = read_store(failure_store.warehouse)
    processors = frame["processor_name"].nunique()
    types = frame["failure_type"].nunique()
    with browser.chromium() as driver:
        driver.get(dashboard_page.as_uri())
        wait_for(
            lambda: (
                driver.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length") >= 2 * len(CHARTS)
            ),
            30,
            "charts",
        )
        assert driver.title == "NBA pipeline failures"
        charts = {state["name"]: state for state in driver.execute_script(_CHART_STATE)}
        assert tuple(charts) == CHARTS
        for name, state in charts.items():
            assert state["svgs"] >= 2 and state["traces"] >= 1, name  # plotly drew it, with data (not a placeholder)
            assert state["width"] <= state["chartWidth"] + 1, name  # fits its card

        # Heatmap: every failure counted in a processor × category cell.
        assert charts["matrix"]["heatmaps"] == 1
        # (_fullData: the traces as plotly.js decoded them; numbers arrive as typed arrays.)
        cell_total = driver.execute_script(
            "return Array.from(document.getElementById('chart-matrix')._fullData[0].text)"
            ".flatMap(row => Array.from(row)).reduce((a, b) => a + b, 0)"
        )
        assert cell_total == len(frame)
        # Weekly bars: one trace per processor; type shares: one trace per type, one bar per processor and type.
        assert charts["weekly"]["drawnBarTraces"] == processors
        assert charts["type_share"]["drawnBarTraces"] == types
        assert charts["type_share"]["drawnBars"] == processors * types
        # Backlog: the line ends at the open correctable failures (the missing game's five).
        open_at_end = driver.execute_script(
            "const d = document.getElementById('chart-backlog')._fullData; return Array.from(d[d.length - 1].y).slice(-1)[0]"
        )
        assert open_at_end == 5 and charts["backlog"]["drawnScatter"] == 1
        # Time to resolve: the two resolved failures of the unregistered player.
        assert driver.execute_script("return document.getElementById('chart-resolve_time')._fullData[0].x.length") == 2
        # Top entities: the most failing first, every bar labelled, the unregistered player's gaps shown.
        labels = driver.execute_script("return Array.from(document.getElementById('chart-top_entities')._fullData[0].y)")
        ticks = driver.execute_script(
            "return Array.from(document.querySelectorAll('#chart-top_entities .ytick text')).map(t => t.textContent)"
        )
        counts = frame.assign(label=frame["entity_type"] + " " + frame["entity_id"]).groupby("label").size()
        assert [counts[label] for label in labels] == sorted(counts, reverse=True)[: len(labels)] and len(labels) == 15
        assert sorted(ticks) == sorted(labels)
        kpi = driver.execute_script("return document.querySelector('[data-kpi=failures] .value').textContent")
        assert int(kpi.replace(",", "")) == len(frame)
        # The table: every failure counted, one page of rows drawn, each row one line high or a little more.
        page_rows = "return Array.from(document.querySelectorAll('#failures tbody tr'))"
        assert int(driver.find_element("id", "shown-rows").text) == min(len(frame), DEFAULT_TABLE_LIMIT)
        assert driver.execute_script(page_rows + ".length") == TABLE_PAGE_SIZE
        assert max(driver.execute_script(page_rows + ".map(r => r.getBoundingClientRect().height)")) < 60
        table_width = driver.execute_script("return document.querySelector('section.drill').getBoundingClientRect().width")
        assert table_width <= driver.execute_script("return document.documentElement.clientWidth")

        # Sorting: click a header, the column is in order (ascending, then descending on a second click) over every row.
        header = driver.find_element("css selector", "#failures th[data-column=entity_id]")
        header.click()
        assert driver.execute_script(
            "const v = Array.from(document.querySelectorAll('#failures tbody tr')).map(r => r.cells[3].textContent);"
            "return v.every((x, i) => i === 0 || v[i - 1].localeCompare(x) <= 0)"
        )
        retries = driver.find_element("css selector", "#failures th[data-column=occurrences]")
        retries.click()
        retries.click()
        occurrences = driver.execute_script(page_rows + ".map(r => parseInt(r.cells[9].textContent))")
        table_rows = failure_rows(frame)
        assert occurrences == sorted(occurrences, reverse=True) and occurrences[0] == table_rows["occurrences"].astype(int).max()
        # Paging: the next page starts where the first ended.
        driver.find_element("id", "page-next").click()
        assert driver.find_element("id", "page-range").text.startswith(f"{TABLE_PAGE_SIZE + 1}–")
        driver.find_element("id", "page-previous").click()

        # Filtering: the rows mentioning the missing game.
        text = table_rows.agg(" ".join, axis=1).str.lower()
        driver.find_element("id", "failure-filter").send_keys(MISSING_GAME)
        shown = int(driver.find_element("id", "shown-rows").text)
        assert shown == int(text.str.contains(MISSING_GAME.lower(), regex=False).sum()) >= 5
        driver.find_element("id", "failure-filter").clear()
        driver.execute_script(
            "const f = document.getElementById('failure-filter'); f.value = ''; f.dispatchEvent(new Event('input'))"
        )

        driver.execute_script("window.scrollTo(0, 0)")
        shot = browser.full_page_screenshot(driver, tmp_path / "dashboard.png", max_height=3400)
    assert shot.stat().st_size > 50_000


@pytest.mark.skipif(
    not (os.environ.get("NBA_FAILURES_UPDATE_SCREENSHOTS") == "1" and os.environ.get("NBA_FAILURES_DEMO_DUCKDB_PATH")),
    reason="refreshes the README's dashboard screenshot: set NBA_FAILURES_UPDATE_SCREENSHOTS=1, NBA_FAILURES_DEMO_DUCKDB_PATH",
)
def test_readme_dashboard_screenshot_is_the_demo_run(tmp_path):
    warehouse = DuckDBWarehouse(path=os.environ["NBA_FAILURES_DEMO_DUCKDB_PATH"])
    page = tmp_path / "failure_dashboard.html"
    result = materialize([failure_dashboard], resources={"warehouse": warehouse, "dashboard": DashboardOutput(path=str(page))})
    assert result.success
    with browser.chromium() as driver:
        driver.get(page.as_uri())
        drawn = "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
        wait_for(lambda: driver.execute_script(drawn) >= 2 * len(CHARTS), 30, "charts")
        time.sleep(1)
        shot = browser.full_page_screenshot(driver, README_SCREENSHOTS / "dashboard.png", max_height=3400)
    assert shot.stat().st_size > 50_000


# ----------------------------------------------------------------------------------------- Dagster UI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def dagster_ui(failure_store, season_landing, tmp_path):
    """`dagster-webserver` on a free loopback port over the store's instance and DuckDB file; stopped after."""
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(failure_store.dagster_home),
        settings.DUCKDB_PATH_ENV: str(failure_store.warehouse_path),
        settings.LANDING_DIR_ENV: str(season_landing),
        settings.DASHBOARD_PATH_ENV: str(tmp_path / "failure_dashboard.html"),
        settings.WAREHOUSE_ENV: "duckdb",
    }
    webserver = Path(sys.executable).parent / "dagster-webserver"
    log = tmp_path / "webserver.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(webserver), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=settings.PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: process.poll() is not None or answers(f"{base}/server_info"), 90, "dagster-webserver")
        finally:
            assert process.poll() is None, f"dagster-webserver exited:\n{log.read_text()[-3000:]}"
        yield base
    finally:
        # The webserver and its code server are in their own session: stop that group, then make sure.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)


_METADATA_ROWS = "return Array.from(document.querySelectorAll('tr')).map(tr => Array.from(tr.cells).map(c => c.innerText.trim()))"


def _dismiss_popups(driver) -> None:
    """The UI greets a new browser profile with a newsletter dialog; skip it."""
    for button in driver.find_elements("xpath", "//button[normalize-space()='Skip']"):
        if button.is_displayed():
            button.click()


def test_dagster_ui_shows_classified_failures_with_its_failure_metadata(failure_store, dagster_ui, screenshots):
    """The range run's day partition shows that day's own classification, and the store's counts as the range's."""
    stored = stored_rows(failure_store.warehouse_path)
    still_failing = stored[stored["resolution_status"] != "RESOLVED"]  # classified by the latest run
    of_day = still_failing[still_failing["day"] == LAST]
    with DagsterInstance.from_config(str(failure_store.dagster_home)) as instance:
        latest = instance.get_latest_materialization_event(AssetKey("classified_failures"))
    assert latest.run_id == failure_store.second_run_id

    with browser.chromium(1440, 1300) as driver:
        driver.get(f"{dagster_ui}/assets/classified_failures?view=partitions&partition={LAST.isoformat()}")

        def metadata():
            _dismiss_popups(driver)
            rows = {row[0]: row[1] for row in driver.execute_script(_METADATA_ROWS) if len(row) >= 2}
            return rows if {"failures_classified", "correctable", "range_resolved"} <= set(rows) else None

        values = wait_for(metadata, 90, f"classified_failures metadata of partition {LAST}", interval=1)
        assert len(of_day) < len(still_failing)  # the day's own numbers differ from the range's
        assert int(values["failures_classified"]) == len(of_day)
        assert int(values["correctable"]) == int(of_day["is_correctable"].sum())
        assert int(values["unknown"]) == 0
        assert int(values["range_resolved"]) == int((stored["resolution_status"] == "RESOLVED").sum()) == 2
        assert values["partition_range"] == f"{FIRST.isoformat()}..{LAST.isoformat()}"
        by_processor = of_day.groupby(["processor_name", "failure_type"]).size()
        expected = {name: {t: int(n) for t, n in group.droplevel(0).items()} for name, group in by_processor.groupby(level=0)}
        assert json.loads(values["by_processor_and_type"]) == expected
        # The partition list loads on its own: wait for the selected day to be listed with its neighbours.
        wait_for(
            lambda: all(day.isoformat() in driver.find_element("tag name", "body").text for day in (FIRST, LAST)),
            30,
            "the partition list on the asset page",
        )
        time.sleep(1)
        _dismiss_popups(driver)
        screenshots.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(screenshots / "classified_failures_asset.png"))

        # The events view names the run that wrote the latest materialization.
        driver.get(f"{dagster_ui}/assets/classified_failures?view=events")
        wait_for(
            lambda: (
                _dismiss_popups(driver)
                or f"materialized in run {failure_store.second_run_id[:8]}" in driver.find_element("tag name", "body").text
            ),
            60,
            "events view",
        )
    # The unregistered player's gaps were resolved by the second run: none of his still-failing rows is correctable.
    assert not still_failing[still_failing["entity_id"] == UNREGISTERED_PLAYER]["is_correctable"].any()
