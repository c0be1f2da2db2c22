"""Pure functions from the failure store (the canonical frame of `failures.views.read_store`) to the dashboard's
frames and Plotly figures. Nothing here reads the warehouse or writes a file.

A figure is plotly.js's own JSON spec (`{"data": [traces], "layout": {...}}`), not a `plotly.graph_objects`
figure: building those validated every property of every trace, ~0.45 s of each dashboard step, for a spec the
page hands to plotly.js unchanged (the browser test checks what plotly.js draws of it)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from nba_failures.failures.records import OPEN_STATUSES, FailureType, ResolutionStatus
from nba_failures.failures.views import outcome_of

# One color per failure type and per status, the same on every chart.
TYPE_ORDER = [t.value for t in (FailureType.PLAYER_DNP, FailureType.DATA_GAP, FailureType.MIXED)] + [
    t.value for t in FailureType if t not in (FailureType.PLAYER_DNP, FailureType.DATA_GAP, FailureType.MIXED)
]
TYPE_COLORS = {
    "PLAYER_DNP": "#4c78a8",
    "DATA_GAP": "#e45756",
    "MIXED": "#f58518",
    "INSUFFICIENT_HISTORY": "#9d9d9d",
    "COMPLETE": "#54a24b",
    "BAD_INPUT": "#b279a2",
    "UNKNOWN": "#000000",
}
STATUS_ORDER = [s.value for s in ResolutionStatus]
STATUS_COLORS = {
    "UNRESOLVED": "#e45756",
    "RETRY_REQUESTED": "#f58518",
    "RESOLVED": "#54a24b",
    "PERMANENT": "#6f4e7c",
    "EXPECTED": "#9d9d9d",
}
# Titles are the cards' headings in the page, not plotly's: the top margin only leaves room for the toolbar, and
# the legend stands right of the plot area (plotly makes room for it), under the toolbar: nothing overlaps.
_LAYOUT = dict(margin=dict(l=10, r=10, t=34, b=10), height=400, legend=dict(font=dict(size=11)))
Trace = dict[str, Any]
Figure = dict[str, Any]
# Per chart: the card's title and what it shows, in page order.
CHART_TITLES = {
    "matrix": ("Failures by processor × category", "Every stored failure, whatever its status; color on a log scale."),
    "weekly": ("Failures per week of the season", "By analysis date (weeks start on Monday), stacked by processor."),
    "type_share": ("What the failures are", "Share of each failure type per processor: DNP and too little history are expected."),
    "backlog": ("Correctable backlog", "Open DATA_GAP / MIXED failures at the end of each day (UTC), what opened and closed."),
    "backlog_by_date": ("Correctable failures by analysis date", "By resolution status."),
    "retries": ("Retry outcomes", "Correctable or retried failures by number of retries and status."),
    "resolve_time": ("Time to resolve", "From first seen to resolved, for resolved failures, by processor."),
    "top_entities": ("Most failing entities", "The 15 players, teams, games or days with the most failures, by type."),
}


# ------------------------------------------------------------------------------------------- frames


def processor_category_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures per processor (rows) and category (columns) over the whole store."""
    if frame.empty:
        return pd.DataFrame()
    return frame.pivot_table(
        index="processor_name", columns="failure_category", values="failure_key", aggfunc="count", fill_value=0
    )


def weekly_by_processor(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures per week of the season (weeks start on Monday) and processor: week, processor_name, failures."""
    if frame.empty:
        return pd.DataFrame(columns=["week", "processor_name", "failures"])
    week = frame["analysis_date"].dt.to_period("W-SUN").dt.start_time
    return frame.assign(week=week).groupby(["week", "processor_name"], as_index=False).size().rename(columns={"size": "failures"})


def type_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Share (0..1) of each failure type per processor; rows sum to 1. Columns in `TYPE_ORDER`."""
    if frame.empty:
        return pd.DataFrame()
    counts = pd.crosstab(frame["processor_name"], frame["failure_type"])
    counts = counts[[t for t in TYPE_ORDER if t in counts.columns]]
    return counts.div(counts.sum(axis=1), axis=0)


def closed_at(frame: pd.DataFrame) -> pd.Series:
    """When each failure stopped being open: resolved_at, or for PERMANENT its last retry (else last seen)."""
    permanent = frame["resolution_status"] == ResolutionStatus.PERMANENT.value
    given_up = frame["last_retry_at"].fillna(frame["last_seen_at"])
    resolved = frame["resolved_at"].where(frame["resolution_status"] == ResolutionStatus.RESOLVED.value)
    return resolved.where(~permanent, given_up)


def correctable_backlog(frame: pd.DataFrame, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """Open correctable failures at the end of each calendar day (UTC): day, opened, closed, open.

    A correctable failure is open from `first_seen_at` until it is resolved or given up on (`closed_at`).
    """
    correctable = frame[frame["is_correctable"]]
    if correctable.empty:
        return pd.DataFrame(columns=["day", "opened", "closed", "open"])
    opened = correctable["first_seen_at"].dt.tz_convert("UTC").dt.normalize().dt.tz_localize(None)
    closed = closed_at(correctable).dt.tz_convert("UTC").dt.normalize().dt.tz_localize(None)
    last = max(opened.max(), closed.max() if closed.notna().any() else opened.max())
    if until is not None:
        until = pd.Timestamp(until)
        last = max(last, (until.tz_convert("UTC").tz_localize(None) if until.tzinfo else until).normalize())
    days = pd.date_range(opened.min(), last, freq="D")
    per_day = pd.DataFrame(
        {
            "opened": opened.value_counts().reindex(days, fill_value=0),
            "closed": closed.dropna().value_counts().reindex(days, fill_value=0),
        }
    )
    per_day["open"] = (per_day["opened"] - per_day["closed"]).cumsum()
    return per_day.rename_axis("day").reset_index().astype({"opened": int, "closed": int, "open": int})


def correctable_by_analysis_date(frame: pd.DataFrame) -> pd.DataFrame:
    """Correctable failures per analysis date, by status: analysis_date × resolution_status counts."""
    correctable = frame[frame["is_correctable"]]
    if correctable.empty:
        return pd.DataFrame()
    table = pd.crosstab(correctable["analysis_date"], correctable["resolution_status"])
    return table[[s for s in STATUS_ORDER if s in table.columns]]


def retry_candidates(frame: pd.DataFrame) -> pd.DataFrame:
    """What retries are about: correctable failures, and any failure a retry was requested for or given up on."""
    status = frame["resolution_status"]
    touched = (frame["retry_attempts"] > 0) | status.isin(
        [ResolutionStatus.RETRY_REQUESTED.value, ResolutionStatus.PERMANENT.value]
    )
    return frame[frame["is_correctable"] | touched]


def retry_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Retry candidates per retry_attempts (rows) and resolution status (columns)."""
    candidates = retry_candidates(frame)
    if candidates.empty:
        return pd.DataFrame()
    table = pd.crosstab(candidates["retry_attempts"], candidates["resolution_status"])
    return table[[s for s in STATUS_ORDER if s in table.columns]]


def hours_to_resolve(frame: pd.DataFrame) -> pd.Series:
    """Hours from first seen to resolved, for every RESOLVED failure (by processor in the index)."""
    resolved = frame[(frame["resolution_status"] == ResolutionStatus.RESOLVED.value) & frame["resolved_at"].notna()]
    hours = (resolved["resolved_at"] - resolved["first_seen_at"]).dt.total_seconds() / 3600
    return pd.Series(hours.to_numpy(), index=resolved["processor_name"].to_numpy(), name="hours_to_resolve")


def top_entities(frame: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The `n` entities with the most failures: entity_type, entity_id, failures, then one column per type."""
    if frame.empty:
        return pd.DataFrame(columns=["entity_type", "entity_id", "failures"])
    counts = pd.crosstab([frame["entity_type"], frame["entity_id"]], frame["failure_type"])
    counts = counts[[t for t in TYPE_ORDER if t in counts.columns]]
    counts.insert(0, "failures", counts.sum(axis=1))
    top = counts.sort_values("failures", ascending=False, kind="stable").head(n)
    return top.reset_index()


def summary(frame: pd.DataFrame) -> dict[str, object]:
    """The headline numbers of the dashboard and of the materialization."""
    status = frame["resolution_status"]
    hours = hours_to_resolve(frame)
    dates = frame["analysis_date"]
    return {
        "failures": len(frame),
        "processors": int(frame["processor_name"].nunique()),
        "first_date": dates.min().date().isoformat() if len(frame) else None,
        "last_date": dates.max().date().isoformat() if len(frame) else None,
        "correctable": int(frame["is_correctable"].sum()),
        "open_correctable": int((frame["is_correctable"] & status.isin(OPEN_STATUSES)).sum()),
        "unresolved": int(status.isin(OPEN_STATUSES).sum()),
        "resolved": int((status == ResolutionStatus.RESOLVED.value).sum()),
        "permanent": int((status == ResolutionStatus.PERMANENT.value).sum()),
        "expected": int((status == ResolutionStatus.EXPECTED.value).sum()),
        "bad_input": int((outcome_of(frame) == "bad_input").sum()),
        "retry_attempts": int(frame["retry_attempts"].sum()),
        "median_hours_to_resolve": round(float(hours.median()), 4) if len(hours) else None,
        "by_type": {t: int(n) for t, n in frame["failure_type"].value_counts().items()},
    }


# ------------------------------------------------------------------------------------------ figures


_NO_FAILURES = "no failures in the store"


def nothing_correctable(frame: pd.DataFrame) -> str:
    """Why the correctable panels are empty, in the store's own numbers."""
    if frame.empty:
        return _NO_FAILURES
    outcomes = outcome_of(frame).value_counts()
    parts = [f"{outcomes[name]} {label}" for name, label in _NOT_CORRECTABLE if outcomes.get(name)]
    if set(outcomes.index) <= {"expected"}:
        return "no correctable failures: every failure is expected<br>(players who did not play, too little history)"
    return "no correctable failures: " + ", ".join(parts)


_NOT_CORRECTABLE = (
    ("expected", "expected"), ("bad_input", "bad input"), ("other_open", "other open"), ("given_up", "given up"),
    ("fixed", "fixed"),
)  # fmt: skip


@functools.cache
def _layout() -> dict[str, Any]:
    """The common layout with the "plotly_white" template spelt out: plotly.js knows templates only as specs."""
    import plotly.io as pio

    return {**_LAYOUT, "template": pio.templates["plotly_white"].to_plotly_json()}


def _figure(traces: list[Trace], **layout: object) -> Figure:
    """A chart with the common layout; axes take the room their tick labels and titles need (long processor
    names, dates) instead of being cut."""
    xaxis = {"automargin": True, **layout.pop("xaxis", {})}
    yaxis = {"automargin": True, **layout.pop("yaxis", {})}
    return {"data": traces, "layout": {**_layout(), "xaxis": xaxis, "yaxis": yaxis, **layout}}


def _empty(message: str = _NO_FAILURES) -> Figure:
    note = dict(text=message, showarrow=False, font=dict(size=15, color="#666"), xref="paper", yref="paper", x=0.5, y=0.5)
    hidden = dict(visible=False)
    return {"data": [], "layout": {**_layout(), "height": 260, "annotations": [note], "xaxis": hidden, "yaxis": hidden}}


def _title(text: str) -> dict[str, str]:
    return {"text": text}


def matrix_figure(frame: pd.DataFrame) -> Figure:
    matrix = processor_category_matrix(frame)
    if matrix.empty:
        return _empty()
    import plotly.colors

    counts = matrix.to_numpy()
    # Color on a log scale so that 2 failures still show next to 2,000; the cells print the counts. ColorBrewer's
    # reds, from white, spelt out: plotly.js has its own "Reds", from grey.
    reds = plotly.colors.make_colorscale(plotly.colors.sequential.Reds)
    heatmap = dict(
        type="heatmap", z=np.log10(counts + 1), x=list(matrix.columns), y=list(matrix.index), colorscale=reds,
        text=counts, texttemplate="%{text}", hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>", name="failures",
        showscale=False, xgap=2, ygap=2,
    )  # fmt: skip
    return _figure([heatmap], height=max(300, 36 * len(matrix) + 160), xaxis=dict(tickangle=-30))


def weekly_figure(frame: pd.DataFrame) -> Figure:
    weekly = weekly_by_processor(frame)
    if weekly.empty:
        return _empty()
    bars = [
        dict(type="bar", x=rows["week"], y=rows["failures"], name=processor,
             hovertemplate=f"{processor}<br>week of %{{x|%Y-%m-%d}}: %{{y}}<extra></extra>")
        for processor, rows in weekly.groupby("processor_name")
    ]  # fmt: skip
    # A date axis: plotly picks readable ticks (month and day) for a few weeks or a whole season.
    weeks = dict(type="date", tickformat="%b %d<br>%Y", title=_title("week of (Monday)"))
    return _figure(bars, barmode="stack", xaxis=weeks, yaxis=dict(title=_title("failures")))


def type_share_figure(frame: pd.DataFrame) -> Figure:
    share = type_share(frame)
    if share.empty:
        return _empty()
    counts = pd.crosstab(frame["processor_name"], frame["failure_type"])
    bars = [
        dict(
            type="bar", y=list(share.index), x=share[failure_type].to_numpy(), orientation="h", name=failure_type,
            marker=dict(color=TYPE_COLORS.get(failure_type)), customdata=counts.loc[share.index, failure_type].to_numpy(),
            hovertemplate=f"%{{y}}<br>{failure_type}: %{{x:.1%}} (%{{customdata}})<extra></extra>",
        )
        for failure_type in share.columns
    ]  # fmt: skip
    height = max(400, 30 * len(share) + 160)
    return _figure(bars, barmode="stack", xaxis=dict(tickformat=".0%", range=[0, 1]), height=height)


def backlog_figure(frame: pd.DataFrame, until: pd.Timestamp | None = None) -> Figure:
    backlog = correctable_backlog(frame, until)
    if backlog.empty:
        return _empty(nothing_correctable(frame))
    days = backlog["day"].dt.strftime("%Y-%m-%d")  # one category per calendar day: no sub-day ticks on short spans
    traces = [
        dict(type="bar", x=days, y=backlog["opened"], name="first seen", marker=dict(color="#f58518"), opacity=0.6),
        dict(type="bar", x=days, y=-backlog["closed"], name="resolved / given up (negative)", marker=dict(color="#54a24b"),
             opacity=0.6),
        dict(type="scatter", x=days, y=backlog["open"], mode="lines+markers", name="open at end of day",
             line=dict(color="#e45756", shape="hv")),
    ]  # fmt: skip
    xaxis = dict(title=_title("day (UTC)"), type="category")
    return _figure(traces, barmode="relative", xaxis=xaxis, yaxis=dict(title=_title("failures")))


def backlog_by_date_figure(frame: pd.DataFrame) -> Figure:
    table = correctable_by_analysis_date(frame)
    if table.empty:
        return _empty(nothing_correctable(frame))
    return _stacked_by_status(table, "analysis date")


def retry_figure(frame: pd.DataFrame) -> Figure:
    table = retry_outcomes(frame)
    if table.empty:
        return _empty(nothing_correctable(frame))
    return _stacked_by_status(table.set_axis([str(a) for a in table.index]), "retry attempts", xaxis_type="category")


def _stacked_by_status(table: pd.DataFrame, xaxis_title: str, xaxis_type: str | None = None) -> Figure:
    """One stacked bar per index value, one segment per resolution status (the table's columns)."""
    bars = [
        dict(type="bar", x=table.index, y=table[status], name=status, marker=dict(color=STATUS_COLORS.get(status)))
        for status in table.columns
    ]
    xaxis = dict(title=_title(xaxis_title), **({"type": xaxis_type} if xaxis_type else {}))
    return _figure(bars, barmode="stack", xaxis=xaxis, yaxis=dict(title=_title("failures")))


def duration_unit(hours: pd.Series) -> tuple[str, float]:
    """The unit that reads best for these durations, and hours per unit."""
    longest = float(hours.max()) if len(hours) else 0.0
    if longest < 2:
        return "minutes", 1 / 60
    if longest < 72:
        return "hours", 1.0
    return "days", 24.0


def format_duration(hours: float | None) -> str:
    if hours is None or pd.isna(hours):
        return "–"
    unit, per_unit = duration_unit(pd.Series([hours]))
    return f"{hours / per_unit:.1f} {unit}"


def resolve_time_figure(frame: pd.DataFrame) -> Figure:
    hours = hours_to_resolve(frame)
    if hours.empty:
        never = "nothing resolved yet: a failure is resolved when a later run<br>of its processor no longer finds it"
        return _empty(_NO_FAILURES if frame.empty else never)
    unit, per_unit = duration_unit(hours)
    histograms = [
        dict(type="histogram", x=hours.loc[[processor]].to_numpy() / per_unit, name=processor, nbinsx=30)
        for processor in sorted(set(hours.index))
    ]
    xaxis = dict(title=_title(unit), rangemode="tozero")
    return _figure(histograms, barmode="stack", xaxis=xaxis, yaxis=dict(title=_title("resolved failures")))


def top_entities_figure(frame: pd.DataFrame, n: int = 15) -> Figure:
    top = top_entities(frame, n)
    if top.empty:
        return _empty()
    labels = (top["entity_type"] + " " + top["entity_id"]).to_list()
    bars = [
        dict(type="bar", y=labels, x=top[failure_type], orientation="h", name=failure_type,
             marker=dict(color=TYPE_COLORS.get(failure_type)))
        for failure_type in TYPE_ORDER
        if failure_type in top.columns
    ]  # fmt: skip
    height = max(420, 26 * len(top) + 150)
    return _figure(bars, barmode="stack", yaxis=dict(autorange="reversed"), xaxis=dict(title=_title("failures")), height=height)


def build_figures(frame: pd.DataFrame, until: pd.Timestamp | None = None) -> dict[str, Figure]:
    """Every chart of the dashboard, by id, in page order."""
    return {
        "matrix": matrix_figure(frame),
        "weekly": weekly_figure(frame),
        "type_share": type_share_figure(frame),
        "backlog": backlog_figure(frame, until),
        "backlog_by_date": backlog_by_date_figure(frame),
        "retries": retry_figure(frame),
        "resolve_time": resolve_time_figure(frame),
        "top_entities": top_entities_figure(frame),
    }
