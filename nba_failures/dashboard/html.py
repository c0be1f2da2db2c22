"""The dashboard page: one self-contained HTML file (plotly.js inlined once, no CDN, no network)."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import pandas as pd
import plotly
import plotly.graph_objects as go

from nba_failures.dashboard.figures import build_figures, format_duration, summary

TABLE_COLUMNS = (
    ("analysis_date", "date"), ("processor_name", "text"), ("entity_type", "text"), ("entity_id", "text"),
    ("failure_category", "text"), ("failure_type", "text"), ("resolution_status", "text"), ("is_correctable", "text"),
    ("retry_attempts", "number"), ("occurrences", "number"), ("first_seen_at", "date"), ("resolved_at", "date"),
    ("failure_reason", "text"),
)  # fmt: skip
DEFAULT_TABLE_LIMIT = 5000

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f5f6f8; color: #222; }
header { background: #1d2b3a; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; color: #c9d3de; font-size: 13px; }
main { padding: 16px 24px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 16px; }
.kpi { background: #fff; border-radius: 6px; padding: 10px 16px; min-width: 120px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.kpi .value { font-size: 24px; font-weight: 600; }
.kpi .label { font-size: 12px; color: #666; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.chart { background: #fff; border-radius: 6px; padding: 6px; box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
.chart.wide { grid-column: 1 / -1; }
section.drill { background: #fff; border-radius: 6px; padding: 12px; margin-top: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
#failure-filter { width: 320px; padding: 4px 8px; margin: 6px 0 10px 0; }
.table-wrap { max-height: 640px; overflow: auto; }
table#failures { border-collapse: collapse; font-size: 12px; width: 100%; }
#failures th { position: sticky; top: 0; background: #eef1f5; cursor: pointer; text-align: left; padding: 4px 6px; white-space: nowrap; }
#failures th.asc::after { content: " \\25B2"; } #failures th.desc::after { content: " \\25BC"; }
#failures td { border-top: 1px solid #eee; padding: 3px 6px; vertical-align: top; white-space: nowrap; }
#failures td.reason { max-width: 520px; white-space: normal; }
"""

# Sort on header click (numbers as numbers, everything else as text; ISO dates sort as text) and filter.
_JS = """
window.addEventListener("load", function () {
  document.querySelectorAll(".js-plotly-plot").forEach(function (plot) { Plotly.Plots.resize(plot); });
});
(function () {
  const table = document.getElementById("failures");
  const body = table.tBodies[0];
  table.querySelectorAll("th").forEach(function (th, index) {
    th.addEventListener("click", function () {
      const ascending = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (other) { other.classList.remove("asc", "desc"); });
      th.classList.add(ascending ? "asc" : "desc");
      const numeric = th.dataset.type === "number";
      const rows = Array.from(body.rows);
      rows.sort(function (a, b) {
        const x = a.cells[index].textContent, y = b.cells[index].textContent;
        const order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  const filter = document.getElementById("failure-filter");
  filter.addEventListener("input", function () {
    const needle = filter.value.toLowerCase();
    let shown = 0;
    Array.from(body.rows).forEach(function (row) {
      const match = !needle || row.textContent.toLowerCase().includes(needle);
      row.style.display = match ? "" : "none";
      if (match) shown += 1;
    });
    document.getElementById("shown-rows").textContent = shown;
  });
})();
"""


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return (
            value.strftime("%Y-%m-%d")
            if value == value.normalize() and value.tzinfo is None
            else value.strftime("%Y-%m-%d %H:%M:%S")
        )
    return str(value)


def failure_table_html(frame: pd.DataFrame, limit: int = DEFAULT_TABLE_LIMIT) -> tuple[str, int]:
    """The drill-down table (newest analysis date first, at most `limit` rows) and how many rows it holds."""
    rows = frame.sort_values(["analysis_date", "processor_name", "entity_id"], ascending=[False, True, True]).head(limit)
    head = "".join(f'<th data-column="{name}" data-type="{kind}">{html.escape(name)}</th>' for name, kind in TABLE_COLUMNS)
    lines = []
    for record in rows[[name for name, _ in TABLE_COLUMNS]].itertuples(index=False):
        cells = "".join(
            f'<td class="reason">{html.escape(_cell(value))}</td>'
            if name == "failure_reason"
            else f"<td>{html.escape(_cell(value))}</td>"
            for (name, _), value in zip(TABLE_COLUMNS, record)
        )
        lines.append(f"<tr>{cells}</tr>")
    table = f'<table id="failures"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(lines) + "\n</tbody></table>"
    return table, len(rows)


def _kpis(numbers: dict[str, object]) -> str:
    cards = [
        ("failures", "failures in the store"),
        ("open_correctable", "open correctable (DATA_GAP / MIXED)"),
        ("resolved", "resolved"),
        ("permanent", "permanent"),
        ("expected", "expected (DNP, early season)"),
        ("retry_attempts", "retries requested"),
        ("median_hours_to_resolve", "median time to resolve"),
    ]
    shown = {**numbers, "median_hours_to_resolve": format_duration(numbers["median_hours_to_resolve"])}
    return "".join(
        f'<div class="kpi" data-kpi="{key}"><div class="value">{html.escape(str(shown[key]))}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for key, label in cards
    )


WIDE_CHARTS = ("matrix",)


def _chart(name: str, figure: go.Figure) -> str:
    body = figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"chart-{name}", config={"displaylogo": False, "responsive": True}
    )
    return f'<div class="chart{" wide" if name in WIDE_CHARTS else ""}" data-chart="{name}">{body}</div>'


def render_dashboard(
    frame: pd.DataFrame, generated_at: pd.Timestamp, source: str = "", table_limit: int = DEFAULT_TABLE_LIMIT
) -> str:
    """The whole page for the canonical store frame `frame`."""
    numbers = summary(frame)
    figures = build_figures(frame, until=generated_at)
    table, shown = failure_table_html(frame, table_limit)
    span = f"{numbers['first_date']} .. {numbers['last_date']}" if numbers["failures"] else "no failures"
    capped = f" (newest {shown} of {numbers['failures']})" if shown < numbers["failures"] else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NBA pipeline failures</title>
<style>{_CSS}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>NBA pipeline failures</h1>
<p>Failure store {html.escape(source)} · analysis dates {html.escape(span)} · generated {html.escape(generated_at.strftime("%Y-%m-%d %H:%M:%S %Z"))}</p>
</header>
<main>
<div class="kpis">{_kpis(numbers)}</div>
<div class="charts">
{"".join(_chart(name, figure) for name, figure in figures.items())}
</div>
<section class="drill">
<h2>Failures{html.escape(capped)}</h2>
<p>Click a column header to sort; type to filter. Showing <span id="shown-rows">{shown}</span> rows.</p>
<input id="failure-filter" type="search" placeholder="filter: processor, player, category, status…">
<div class="table-wrap">{table}</div>
</section>
</main>
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
        "| open correctable | resolved | permanent | expected | retries | median time to resolve |",
        "|---|---|---|---|---|---|",
        f"| {numbers['open_correctable']} | {numbers['resolved']} | {numbers['permanent']} | {numbers['expected']} | "
        f"{numbers['retry_attempts']} | {format_duration(numbers['median_hours_to_resolve'])} |",
    ]
    by_type = list(numbers["by_type"].items())[:shown_types]
    if by_type:
        lines += ["", "| failure type | failures |", "|---|---|", *(f"| {t} | {n} |" for t, n in by_type)]
    lines += ["", f"Dashboard: `{path}`"]
    return "\n".join(lines)
