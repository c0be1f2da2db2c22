"""Pure functions from the failure store (the canonical frame of `reporting.read_store`) to the dashboard's
frames and Plotly figures. Nothing here reads the warehouse or writes a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nba_failures.failures.records import OPEN_STATUSES, FailureType, ResolutionStatus

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
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2), height=420)


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
    touched = (frame["retry_attempts"] > 0) | status.isin([ResolutionStatus.RETRY_REQUESTED.value, ResolutionStatus.PERMANENT.value])
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
        "retry_attempts": int(frame["retry_attempts"].sum()),
        "median_hours_to_resolve": round(float(hours.median()), 4) if len(hours) else None,
        "by_type": {t: int(n) for t, n in frame["failure_type"].value_counts().items()},
    }


# ------------------------------------------------------------------------------------------ figures


def _empty(title: str, message: str = "no failures in the store") -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(
        text=message, showarrow=False, font=dict(size=16, color="#777"), xref="paper", yref="paper", x=0.5, y=0.5
    )
    figure.update_layout(title=title, xaxis=dict(visible=False), yaxis=dict(visible=False), **_LAYOUT)
    return figure


def matrix_figure(frame: pd.DataFrame) -> go.Figure:
    title = "Failures by processor × category (season)"
    matrix = processor_category_matrix(frame)
    if matrix.empty:
        return _empty(title)
    counts = matrix.to_numpy()
    # Color on a log scale so that 2 failures still show next to 2,000; the cells print the counts.
    figure = go.Figure(
        go.Heatmap(
            z=np.log10(counts + 1), x=list(matrix.columns), y=list(matrix.index), colorscale="Reds", text=counts,
            texttemplate="%{text}", hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>", name="failures", showscale=False,
            xgap=2, ygap=2,
        )
    )  # fmt: skip
    figure.update_layout(
        title=title, **{**_LAYOUT, "margin": dict(l=220, r=20, t=50, b=90), "height": max(300, 40 * len(matrix) + 140)}
    )
    return figure


def weekly_figure(frame: pd.DataFrame) -> go.Figure:
    title = "Failures per week of the season, by processor"
    weekly = weekly_by_processor(frame)
    if weekly.empty:
        return _empty(title)
    weeks = sorted(weekly["week"].dt.strftime("%Y-%m-%d").unique())
    figure = go.Figure()
    for processor, rows in weekly.groupby("processor_name"):
        figure.add_bar(
            x=rows["week"].dt.strftime("%Y-%m-%d"),
            y=rows["failures"],
            name=processor,
            hovertemplate=f"{processor}<br>week of %{{x}}: %{{y}}<extra></extra>",
        )
    figure.update_layout(
        title=title, barmode="stack", xaxis=dict(title="week of (Monday, analysis date)", type="category", categoryorder="array", categoryarray=weeks),
        yaxis_title="failures", **_LAYOUT,
    )  # fmt: skip
    return figure


def type_share_figure(frame: pd.DataFrame) -> go.Figure:
    title = "DNP vs DATA_GAP vs MIXED: share of failure types by processor"
    share = type_share(frame)
    if share.empty:
        return _empty(title)
    counts = pd.crosstab(frame["processor_name"], frame["failure_type"])
    figure = go.Figure()
    for failure_type in share.columns:
        figure.add_bar(
            y=list(share.index), x=share[failure_type].to_numpy(), orientation="h", name=failure_type,
            marker_color=TYPE_COLORS.get(failure_type), customdata=counts.loc[share.index, failure_type].to_numpy(),
            hovertemplate=f"%{{y}}<br>{failure_type}: %{{x:.1%}} (%{{customdata}})<extra></extra>",
        )  # fmt: skip
    figure.update_layout(
        title=title,
        barmode="stack",
        xaxis=dict(tickformat=".0%", range=[0, 1]),
        **{**_LAYOUT, "margin": dict(l=220, r=20, t=50, b=50)},
    )
    return figure


def backlog_figure(frame: pd.DataFrame, until: pd.Timestamp | None = None) -> go.Figure:
    title = "Correctable backlog over time: open DATA_GAP / MIXED failures per day"
    backlog = correctable_backlog(frame, until)
    if backlog.empty:
        return _empty(title, "no correctable failures")
    days = backlog["day"].dt.strftime("%Y-%m-%d")  # one category per calendar day: no sub-day ticks on short spans
    figure = go.Figure()
    figure.add_bar(x=days, y=backlog["opened"], name="first seen", marker_color="#f58518", opacity=0.6)
    figure.add_bar(x=days, y=-backlog["closed"], name="resolved / given up (negative)", marker_color="#54a24b", opacity=0.6)
    figure.add_scatter(
        x=days, y=backlog["open"], mode="lines+markers", name="open at end of day", line=dict(color="#e45756", shape="hv")
    )
    figure.update_layout(
        title=title, barmode="relative", xaxis=dict(title="day (UTC)", type="category"), yaxis_title="failures", **_LAYOUT
    )
    return figure


def backlog_by_date_figure(frame: pd.DataFrame) -> go.Figure:
    title = "Correctable failures by analysis date and status"
    table = correctable_by_analysis_date(frame)
    if table.empty:
        return _empty(title, "no correctable failures")
    return _stacked_by_status(table, title, "analysis date")


def retry_figure(frame: pd.DataFrame) -> go.Figure:
    title = "Retry outcomes: correctable failures by retry attempts and status"
    table = retry_outcomes(frame)
    if table.empty:
        return _empty(title, "no correctable failures")
    return _stacked_by_status(table.set_axis([str(a) for a in table.index]), title, "retry attempts")


def _stacked_by_status(table: pd.DataFrame, title: str, xaxis_title: str) -> go.Figure:
    """One stacked bar per index value, one segment per resolution status (the table's columns)."""
    figure = go.Figure()
    for status in table.columns:
        figure.add_bar(x=table.index, y=table[status], name=status, marker_color=STATUS_COLORS.get(status))
    figure.update_layout(title=title, barmode="stack", xaxis_title=xaxis_title, yaxis_title="failures", **_LAYOUT)
    return figure


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


def resolve_time_figure(frame: pd.DataFrame) -> go.Figure:
    hours = hours_to_resolve(frame)
    unit, per_unit = duration_unit(hours)
    title = f"Time to resolve (resolved_at − first_seen_at), {unit}"
    if hours.empty:
        return _empty(title, "nothing resolved yet")
    figure = go.Figure()
    for processor in sorted(set(hours.index)):
        figure.add_histogram(x=hours.loc[[processor]].to_numpy() / per_unit, name=processor, nbinsx=30)
    figure.update_layout(
        title=title, barmode="stack", xaxis=dict(title=unit, rangemode="tozero"), yaxis_title="resolved failures", **_LAYOUT
    )
    return figure


def top_entities_figure(frame: pd.DataFrame, n: int = 15) -> go.Figure:
    title = f"Top {n} entities by failures"
    top = top_entities(frame, n)
    if top.empty:
        return _empty(title)
    labels = (top["entity_type"] + " " + top["entity_id"]).to_list()
    figure = go.Figure()
    for failure_type in [t for t in TYPE_ORDER if t in top.columns]:
        figure.add_bar(
            y=labels, x=top[failure_type], orientation="h", name=failure_type, marker_color=TYPE_COLORS.get(failure_type)
        )
    figure.update_layout(
        title=title, barmode="stack", yaxis=dict(autorange="reversed"), xaxis_title="failures",
        **{**_LAYOUT, "margin": dict(l=200, r=20, t=50, b=50), "height": max(420, 28 * len(top) + 120)},
    )  # fmt: skip
    return figure


def build_figures(frame: pd.DataFrame, until: pd.Timestamp | None = None) -> dict[str, go.Figure]:
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
