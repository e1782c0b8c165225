"""Plotly figures of the analysis page: a figure per group over time, the groups against validation, and
start months. They take the frames of `core.views.segments` and `core.views.cohorts`, never rows."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.views.charts import BLUE
from core.views.charts import GREY
from core.views.charts import LAYOUT
from core.views.charts import ORANGE
from core.views.charts import dates_axis


def group_series_chart(series: pd.DataFrame, *, key: str, label: str, percent: bool) -> go.Figure:
    """`key` of each group per period; periods where a group has too few outcomes are left out (a gap)."""
    fig = go.Figure()
    for segment, part in series.groupby("segment", sort=False):
        part = part.sort_values("period")
        y = part[key].where(~part["too_few"])
        fig.add_trace(go.Scatter(x=part["period"], y=y, mode="lines+markers", name=str(segment), connectgaps=False))
    fig.update_layout(**LAYOUT, title=label, height=360)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return dates_axis(fig, series["period"])


def group_bars(table: pd.DataFrame, *, key: str, reference: str, label: str, percent: bool) -> go.Figure:
    """Each group's `key` now beside its validation value (`reference`), too-few groups greyed."""
    ok = table[~table["too_few"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=ok["segment"], y=ok[key], name="Now", marker_color=BLUE))
    if reference in ok:
        fig.add_trace(go.Bar(x=ok["segment"], y=ok[reference], name="In validation", marker_color=GREY))
    fig.update_layout(**LAYOUT, title=label, barmode="group", height=340)
    fig.update_layout(hovermode="closest")
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig


def cohort_chart(table: pd.DataFrame, *, outcome: str, outcome_label: str, percent: bool) -> go.Figure:
    """Cases per start month (bars) and how their outcomes turned out (line, right axis)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=table["month"], y=table["n"], name="How many", marker_color=GREY), secondary_y=False)
    y = table[outcome].where(~table["too_few"])
    fig.add_trace(
        go.Scatter(x=table["month"], y=y, name=outcome_label, mode="lines+markers", line=dict(color=ORANGE, width=3)),
        secondary_y=True,
    )
    fig.update_layout(**LAYOUT, height=360)
    if percent:
        fig.update_yaxes(tickformat=".0%", secondary_y=True)
    return dates_axis(fig, table["month"])


def cohort_heatmap(grid: pd.DataFrame, *, label: str, percent: bool) -> go.Figure:
    """Start month (rows) x group (columns): the outcome of each cell, blank where too few."""
    text = grid.map(lambda v: "" if pd.isna(v) else (f"{v:.0%}" if percent else f"{v:,.0f}"))
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(c) for c in grid.columns],
            y=[f"{m:%b %Y}" for m in grid.index],
            text=text.to_numpy(),
            texttemplate="%{text}",
            colorscale="Oranges",
            colorbar=dict(title=label, tickformat=".0%" if percent else None),
        )
    )
    fig.update_layout(**LAYOUT, height=max(260, 28 * len(grid) + 120))
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    return fig
