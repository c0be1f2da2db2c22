"""The dashboard page: one self-contained HTML file (plotly.js inlined once, no CDN, no network)."""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import plotly.io as pio

from nba_failures.dashboard.figures import CHART_TITLES, Figure, build_figures, format_duration, summary
from nba_failures.failures.views import outcome_of
from nba_failures.resources import DEFAULT_TABLE_LIMIT

# The drill-down table's columns: (store column, heading, how it sorts).
TABLE_COLUMNS = (
    ("analysis_date", "date", "date"), ("processor_name", "processor", "text"), ("entity_type", "entity", "text"),
    ("entity_id", "id", "text"), ("failure_category", "category", "text"), ("failure_type", "type", "text"),
    ("outcome", "outcome", "text"), ("resolution_status", "status", "text"), ("retry_attempts", "retries", "number"),
    ("occurrences", "seen", "number"), ("first_seen_at", "first seen", "date"), ("resolved_at", "resolved", "date"),
    ("waiting_or_given_up", "waits for / gave up", "text"), ("failure_reason", "reason", "text"),
)  # fmt: skip
# What someone opening the page acts on comes first in the table, then the newest.
OUTCOME_ORDER = ("to_fix", "bad_input", "given_up", "other_open", "fixed", "expected")
TABLE_PAGE_SIZE = 25

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f5f6f8; color: #222; }
header { background: #1d2b3a; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; color: #c9d3de; font-size: 13px; overflow-wrap: anywhere; }
main { padding: 16px 24px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
.kpi { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.08);
       border-top: 3px solid #ccd; }
.kpi .value { font-size: 22px; font-weight: 600; white-space: nowrap; }
.kpi .label { font-size: 12px; color: #555; }
.kpi.to_fix { border-top-color: #e45756; } .kpi.bad_input { border-top-color: #b279a2; }
.kpi.expected { border-top-color: #9d9d9d; } .kpi.fixed { border-top-color: #54a24b; }
.kpi.given_up { border-top-color: #6f4e7c; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
.chart { background: #fff; border-radius: 6px; padding: 10px 12px 6px; box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
.chart.wide { grid-column: 1 / -1; }
.chart h2, section.drill h2 { font-size: 15px; margin: 0; }
.chart p.about, section.drill p.about { font-size: 12px; color: #666; margin: 2px 0 0 0; }
section.drill { background: #fff; border-radius: 6px; padding: 12px; margin-top: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.table-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; margin: 8px 0; font-size: 13px; }
#failure-filter { width: 320px; padding: 4px 8px; }
.table-tools button { padding: 2px 10px; }
.table-wrap { overflow-x: auto; }
table#failures { border-collapse: collapse; font-size: 12px; width: 100%; table-layout: auto; }
#failures th { background: #eef1f5; cursor: pointer; text-align: left; padding: 4px 6px; white-space: nowrap; }
#failures th.asc::after { content: " \\25B2"; } #failures th.desc::after { content: " \\25BC"; }
#failures td { border-top: 1px solid #eee; padding: 3px 6px; vertical-align: top; line-height: 1.35; white-space: nowrap; }
#failures td.wraps { white-space: normal; min-width: 8em; }
#failures td.reason { white-space: normal; min-width: 260px; }
#failures td.reason div { max-height: 2.7em; overflow: hidden; }
#failures td.reason:hover div { max-height: none; }
"""

# The failures travel once, as columns (each column's distinct values and one index per row); the table shows one
# page of them at a time, sorted on a header click (numbers as numbers, everything else as text; ISO dates sort as
# text) and filtered by what is typed.
_JS = """
window.addEventListener("load", function () {
  document.querySelectorAll(".js-plotly-plot").forEach(function (plot) { Plotly.Plots.resize(plot); });
});
(function () {
  const data = JSON.parse(document.getElementById("failure-rows").textContent);
  const names = data.columns.map(function (column) { return column.name; });
  const rows = [];
  for (let r = 0; r < data.rows; r++) {
    rows.push(data.columns.map(function (column) { return column.values[column.codes[r]]; }));
  }
  const table = document.getElementById("failures");
  const body = table.tBodies[0];
  const filter = document.getElementById("failure-filter");
  const pageSize = data.page_size;
  const WRAPPED = ["processor_name", "failure_category"];
  let shown = rows, page = 0;
  function draw() {
    const pages = Math.max(1, Math.ceil(shown.length / pageSize));
    page = Math.min(page, pages - 1);
    const first = page * pageSize;
    body.replaceChildren.apply(body, shown.slice(first, first + pageSize).map(function (row) {
      const tr = document.createElement("tr");
      row.forEach(function (value, index) {
        const td = document.createElement("td");
        if (names[index] === "failure_reason") {
          td.className = "reason";
          const text = document.createElement("div");
          text.textContent = value; td.title = value; td.appendChild(text);
        } else if (WRAPPED.includes(names[index])) {
          td.className = "wraps";
          td.textContent = value.replace(/_/g, "_\\u200b");  // a long snake_case name may wrap after an underscore
        } else {
          td.textContent = value;
        }
        tr.appendChild(td);
      });
      return tr;
    }));
    document.getElementById("shown-rows").textContent = shown.length;
    document.getElementById("page-range").textContent =
      shown.length ? (first + 1) + "–" + Math.min(first + pageSize, shown.length) : "0";
    document.getElementById("page-previous").disabled = page === 0;
    document.getElementById("page-next").disabled = page >= pages - 1;
  }
  table.querySelectorAll("th").forEach(function (th, index) {
    th.addEventListener("click", function () {
      const ascending = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (other) { other.classList.remove("asc", "desc"); });
      th.classList.add(ascending ? "asc" : "desc");
      const numeric = th.dataset.type === "number";
      const compare = function (a, b) {
        const x = a[index], y = b[index];
        const order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return ascending ? order : -order;
      };
      rows.sort(compare);
      shown = shown === rows ? rows : shown.slice().sort(compare);
      page = 0; draw();
    });
  });
  filter.addEventListener("input", function () {
    const needle = filter.value.toLowerCase();
    shown = needle ? rows.filter(function (row) { return row.join(" ").toLowerCase().includes(needle); }) : rows;
    page = 0; draw();
  });
  document.getElementById("page-previous").addEventListener("click", function () { page -= 1; draw(); });
  document.getElementById("page-next").addEventListener("click", function () { page += 1; draw(); });
  draw();
})();
"""


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        date_only = value == value.normalize() and value.tzinfo is None
        return value.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")
    return str(value)


def _cells(column: pd.Series) -> pd.Series:
    """`_cell` of each value, once per distinct value: the table's columns repeat few values (missing ones: '')."""
    codes, distinct = pd.factorize(column)
    texts = np.array([*map(_cell, distinct), ""], dtype=object)
    return pd.Series(texts[codes], index=column.index, name=column.name)


def failure_rows(frame: pd.DataFrame, limit: int = DEFAULT_TABLE_LIMIT) -> pd.DataFrame:
    """The drill-down table's rows as the page shows them (text), at most `limit`: to fix, bad input and the
    other open ones first (`OUTCOME_ORDER`), each newest analysis date first."""
    # An open failure's prerequisites still missing, or why a given-up one was given up: never both on one row.
    ranked = frame.assign(outcome=outcome_of(frame), waiting_or_given_up=frame["waiting_for"].fillna(frame["permanent_cause"]))
    ranked = ranked.assign(_rank=ranked["outcome"].map({outcome: rank for rank, outcome in enumerate(OUTCOME_ORDER)}))
    order = ["_rank", "analysis_date", "processor_name", "entity_id"]
    chosen = ranked.sort_values(order, ascending=[True, False, True, True]).head(limit)
    rows = chosen[[name for name, _, _ in TABLE_COLUMNS]]
    return rows.apply(_cells).reset_index(drop=True)


def failure_rows_json(rows: pd.DataFrame, page_size: int = TABLE_PAGE_SIZE) -> str:
    """The rows as columns of distinct values and per-row indexes (most columns repeat a few values), safe to
    embed in a <script> element."""
    columns = []
    for name in rows.columns:
        codes, values = pd.factorize(rows[name])
        columns.append({"name": name, "values": values.tolist(), "codes": codes.tolist()})
    text = json.dumps({"rows": len(rows), "page_size": page_size, "columns": columns}, separators=(",", ":"), ensure_ascii=False)
    return text.replace("</", "<\\/")  # a reason holding "</script>" must not end the element


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _kpis(numbers: dict[str, object]) -> str:
    cards = [
        ("failures", "failures in the store"),
        ("expected", "expected: did not play, too little history"),
        ("to_fix", "to fix: correctable, open (DATA_GAP / MIXED)"),
        ("bad_input", "bad input: needs a corrected delivery"),
        ("given_up", "given up after the last retry"),
        ("fixed", "fixed: resolved by a later run"),
        ("retry_attempts", "retries requested"),
        ("median_hours_to_resolve", "median time to resolve"),
    ]
    shown = {
        **numbers,
        "to_fix": numbers["open_correctable"],
        "given_up": numbers["permanent"],
        "fixed": numbers["resolved"],
        "median_hours_to_resolve": format_duration(numbers["median_hours_to_resolve"]),
    }
    return "".join(
        f'<div class="kpi {key}" data-kpi="{key}"><div class="value">{html.escape(_number(shown[key]))}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for key, label in cards
    )


WIDE_CHARTS = ("matrix", "weekly")
# Plotly's toolbar only while the pointer is over a chart, without the selection tools a bar chart has no use for.
_PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": "hover",
    "modeBarButtonsToRemove": [
        "select2d",
        "lasso2d",
        "autoScale2d",
        "toggleSpikelines",
        "hoverCompareCartesian",
        "hoverClosestCartesian",
    ],
}


def _chart(name: str, figure: Figure) -> str:
    title, about = CHART_TITLES[name]
    body = pio.to_html(
        figure, validate=False, full_html=False, include_plotlyjs=False, div_id=f"chart-{name}", config=_PLOTLY_CONFIG
    )
    return (
        f'<div class="chart{" wide" if name in WIDE_CHARTS else ""}" data-chart="{name}">'
        f'<h2>{html.escape(title)}</h2><p class="about">{html.escape(about)}</p>{body}</div>'
    )


def render_dashboard(
    frame: pd.DataFrame, generated_at: pd.Timestamp, source: str = "", table_limit: int = DEFAULT_TABLE_LIMIT
) -> str:
    """The whole page for the canonical store frame `frame`; `source` says where the store is (`Warehouse.location`)."""
    numbers = summary(frame)
    figures = build_figures(frame, until=generated_at)
    rows = failure_rows(frame, table_limit)
    span = f"{numbers['first_date']} .. {numbers['last_date']}" if numbers["failures"] else "no failures"
    capped = ""
    if len(rows) < numbers["failures"]:
        capped = f" ({len(rows):,} of {numbers['failures']:,}: the open ones first, then the newest)"
    head = "".join(
        f'<th data-column="{name}" data-type="{kind}" title="{name}">{html.escape(heading)}</th>'
        for name, heading, kind in TABLE_COLUMNS
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>NBA pipeline failures</title>
<style>{_CSS}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>NBA pipeline failures</h1>
<p>Failure store: {html.escape(source or "unknown")} · analysis dates {html.escape(span)} ·
generated {html.escape(generated_at.strftime("%Y-%m-%d %H:%M:%S %Z"))}</p>
</header>
<main>
<div class="kpis">{_kpis(numbers)}</div>
<div class="charts">
{"".join(_chart(name, figure) for name, figure in figures.items())}
</div>
<section class="drill">
<h2>Failures{html.escape(capped)}</h2>
<p class="about">Click a column header to sort; type to filter; hover a reason to read all of it.</p>
<div class="table-tools">
<input id="failure-filter" type="search" placeholder="filter: processor, player, category, status…">
<span>rows <span id="page-range">0</span> of <span id="shown-rows">{len(rows)}</span></span>
<button id="page-previous" type="button">‹ previous</button><button id="page-next" type="button">next ›</button>
</div>
<div class="table-wrap"><table id="failures"><thead><tr>{head}</tr></thead><tbody></tbody></table></div>
</section>
</main>
<script type="application/json" id="failure-rows">{failure_rows_json(rows)}</script>
<script type="text/javascript">{_JS}</script>
</body>
</html>
"""


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder, so a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the page is for anyone who can read the folder
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def summary_markdown(numbers: dict[str, object], path: Path, shown_types: int = 7) -> str:
    """The materialization's markdown: headline numbers, types and where the page is."""
    lines = [
        f"**{numbers['failures']} failures** in the store from {numbers['processors']} processors"
        + (f", analysis dates {numbers['first_date']} .. {numbers['last_date']}" if numbers["failures"] else ""),
        "",
        "| expected | to fix (open correctable) | bad input | given up | fixed (resolved) | retries | median time to resolve |",
        "|---|---|---|---|---|---|---|",
        f"| {numbers['expected']} | {numbers['open_correctable']} | {numbers['bad_input']} | {numbers['permanent']} | "
        f"{numbers['resolved']} | {numbers['retry_attempts']} | {format_duration(numbers['median_hours_to_resolve'])} |",
    ]
    by_type = list(numbers["by_type"].items())[:shown_types]
    if by_type:
        lines += ["", "| failure type | failures |", "|---|---|", *(f"| {t} | {n} |" for t, n in by_type)]
    lines += ["", f"Dashboard: `{path}`"]
    return "\n".join(lines)
