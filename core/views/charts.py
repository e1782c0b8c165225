"""Plotly figures built from stored results. Charts take results, never raw rows, and return Figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.business import KPI
from core.metrics import METRICS
from core.monitoring.thresholds import Thresholds

BLUE, ORANGE, GREY, RED, GREEN = "#2563eb", "#ea580c", "#94a3b8", "#dc2626", "#16a34a"
LAYOUT = dict(
    margin=dict(l=10, r=10, t=50, b=10),
    template="plotly_white",
    hovermode="x unified",
    legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
)


def dates_axis(fig: go.Figure, dates: pd.Series) -> go.Figure:
    """Label a time axis by what its points are: months as `Feb 2018`, days and weeks as `5 Feb 2018`,
    never a time of day (points are window starts, and an auto axis could read `23:59:59.999 Feb 28`)."""
    dates = pd.to_datetime(pd.Series(dates)).dropna()
    monthly = len(dates) > 0 and bool((dates.dt.day == 1).all())
    fmt = "%b %Y" if monthly else "%-d %b %Y"
    fig.update_xaxes(tickformat=fmt, hoverformat=fmt)
    if monthly and dates.nunique() <= 24:
        fig.update_xaxes(dtick="M1")
    return fig


def _details(value: object) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(value) if isinstance(value, str) else {}


def performance_chart(results: pd.DataFrame, *, metric: str, thresholds: Thresholds | None = None) -> go.Figure:
    """Realised and estimated metric per window, the validation value with its tolerance band, the alarm line."""
    th = thresholds or Thresholds()
    info = METRICS[metric]
    real = results[(results["check"] == "performance") & (results["metric"] == metric) & results["value"].notna()]
    est = results[(results["check"] == "estimated_performance") & (results["metric"] == metric)]
    fig = go.Figure()
    ref_rows = pd.concat([real, est])["reference"].dropna()
    if len(ref_rows):
        ref = float(ref_rows.iloc[0])
        sign = -1 if info.higher_is_better else 1
        warn = ref * (1 + sign * th.performance_drop.warn)
        alarm = ref * (1 + sign * th.performance_drop.alert)
        xs = pd.concat([real["window_start"], est["window_start"]]).sort_values()
        if len(xs):
            x0, x1 = xs.iloc[0], xs.iloc[-1]
            fig.add_trace(
                go.Scatter(
                    x=[x0, x1, x1, x0],
                    y=[ref, ref, warn, warn],
                    fill="toself",
                    mode="none",
                    fillcolor="rgba(148,163,184,0.25)",
                    name="Normal range",
                    hoverinfo="skip",
                )
            )
            fig.add_hline(
                y=ref,
                line=dict(color=GREY, dash="dot"),
                annotation_text="at validation",
                annotation_position="top left",
            )
            fig.add_hline(
                y=alarm,
                line=dict(color=RED, dash="dash"),
                annotation_text="alarm line",
                annotation_position="bottom left",
            )
    if len(est):
        lower, upper = est["lower"], est["upper"]
        if lower.notna().any():
            fig.add_trace(
                go.Scatter(
                    x=list(est["window_start"]) + list(est["window_start"])[::-1],
                    y=list(upper) + list(lower)[::-1],
                    fill="toself",
                    mode="none",
                    fillcolor="rgba(234,88,12,0.15)",
                    name="Estimate's usual error",
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=est["window_start"],
                y=est["value"],
                mode="lines+markers",
                name="Estimated",
                line=dict(color=ORANGE, dash="dash"),
            )
        )
    if len(real):
        fig.add_trace(
            go.Scatter(
                x=real["window_start"],
                y=real["value"],
                mode="lines+markers",
                name="Measured",
                line=dict(color=BLUE, width=3),
                customdata=real["n_rows"],
                hovertemplate="%{y:.3f} on %{customdata:,} outcomes<extra>Measured</extra>",
            )
        )
    fig.update_layout(title=info.label, yaxis_title=info.label, **LAYOUT)
    return dates_axis(fig, pd.concat([real["window_start"], est["window_start"]]))


def drift_heatmap(results: pd.DataFrame) -> go.Figure:
    """Window x feature grid of drift scores; darker is further from training, a dot marks drift."""
    drift = results[results["check"] == "drift"]
    if drift.empty:
        return go.Figure().update_layout(title="No drift results yet", **LAYOUT)
    grid = drift.pivot_table(index="column", columns="window_start", values="value", aggfunc="first")
    order = grid.max(axis=1).sort_values(ascending=True).index
    grid = grid.loc[order]
    labels = [pd.Timestamp(c).strftime("%Y-%m-%d") for c in grid.columns]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=labels,
            y=list(grid.index),
            colorscale="Oranges",
            zmin=0,
            zmax=max(0.3, float(np.nanmax(grid.to_numpy())) if grid.size else 0.3),
            colorbar=dict(title="Shift"),
            hovertemplate="%{y}<br>%{x}<br>shift %{z:.3f}<extra></extra>",
        )
    )
    threshold = float(drift["threshold"].dropna().iloc[0]) if drift["threshold"].notna().any() else 0.1
    ys, xs = np.where(grid.to_numpy() >= threshold)
    if len(ys):
        fig.add_trace(
            go.Scatter(
                x=[labels[i] for i in xs],
                y=[grid.index[j] for j in ys],
                mode="markers",
                marker=dict(symbol="circle", size=6, color="black"),
                name="Drifted",
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        title="How far each input moved from training, per window",
        height=max(300, 26 * len(grid)),
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def distribution_chart(details: dict | str, *, column: str, window_label: str) -> go.Figure:
    """Reference (training) against current distribution of one feature, from stored histograms."""
    d = _details(details)
    fig = go.Figure()
    if not d or not d.get("reference"):
        return fig.update_layout(title=f"No distribution stored for {column}", **LAYOUT)
    if d["kind"] == "cat":
        fig.add_bar(x=d["labels"], y=d["reference"], name="Training", marker_color=GREY)
        fig.add_bar(x=d["labels"], y=d["current"], name=window_label, marker_color=ORANGE)
        fig.update_layout(barmode="group")
    else:
        edges = np.asarray(d["edges"])
        mids = (edges[:-1] + edges[1:]) / 2
        fig.add_bar(x=mids, y=d["reference"], name="Training", marker_color=GREY, opacity=0.7)
        fig.add_bar(x=mids, y=d["current"], name=window_label, marker_color=ORANGE, opacity=0.7)
        fig.update_layout(barmode="overlay", bargap=0.02)
    fig.update_layout(
        title=f"{column}: training vs {window_label}",
        yaxis_title="Share of rows",
        yaxis_tickformat=".0%",
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def kpi_chart(series: pd.DataFrame, *, kpis: list[KPI], metric: str, currency: str = "$") -> go.Figure:
    """Money KPIs, then share KPIs, then the model's quality, on one shared time axis.

    A period still filling up is drawn hollow so nobody reads a half-week as a collapse.
    """
    groups = [
        [k for k in kpis if k.unit == "money" and k.key in series],
        [k for k in kpis if k.unit == "share" and k.key in series],
    ]
    groups = [g for g in groups if g]
    rows = len(groups) + 1
    heights = {1: [1.0], 2: [0.6, 0.4], 3: [0.45, 0.25, 0.3]}[rows]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=heights)
    palette = [BLUE, ORANGE, GREEN, RED, "#7c3aed", "#0891b2"]
    complete = series["complete"] if "complete" in series else pd.Series(True, index=series.index)
    symbols = ["circle" if c else "circle-open" for c in complete]
    n = 0
    for r, group in enumerate(groups, start=1):
        for k in group:
            line = dict(color=palette[n % len(palette)])
            fig.add_trace(
                go.Scatter(
                    x=series["period"],
                    y=series[k.key],
                    name=k.label,
                    mode="lines+markers",
                    marker=dict(symbol=symbols, size=8),
                    line=line,
                ),
                row=r,
                col=1,
            )
            n += 1
        share = group[0].unit == "share"
        fig.update_yaxes(title_text="share" if share else currency, tickformat=".0%" if share else None, row=r, col=1)
    info = METRICS[metric]
    if metric in series:
        fig.add_trace(
            go.Scatter(
                x=series["period"],
                y=series[metric],
                name=info.label,
                mode="lines+markers",
                marker=dict(symbol=symbols, size=8),
                line=dict(color="#334155", width=3),
            ),
            row=rows,
            col=1,
        )
    fig.update_yaxes(title_text=info.label, row=rows, col=1)
    fig.update_layout(height=220 * rows + 120, title="Business numbers and model quality over time", **LAYOUT)
    return dates_axis(fig, series["period"])


def overfitting_chart(
    *, metric: str, train: float | None, validation: float | None, production: float | None
) -> go.Figure:
    """The primary metric on training, validation and production data, side by side."""
    info = METRICS[metric]
    names = ["Training", "Validation", "Production (recent)"]
    values = [train, validation, production]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[v if v is not None else np.nan for v in values],
            marker_color=[GREY, BLUE, ORANGE],
            text=[f"{v:.3f}" if v is not None else "–" for v in values],
            textposition="outside",
        )
    )
    fig.update_layout(title=f"{info.label}: learned data vs unseen data", yaxis_title=info.label, **LAYOUT)
    return fig


def compare_chart(per_window: pd.DataFrame, *, a: int, b: int, metric: str) -> go.Figure:
    """Both versions' metric per window on the same traffic."""
    info = METRICS[metric]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=per_window["window_start"],
            y=per_window["value_a"],
            name=f"v{a}",
            mode="lines+markers",
            line=dict(color=BLUE, width=3),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=per_window["window_start"],
            y=per_window["value_b"],
            name=f"v{b}",
            mode="lines+markers",
            line=dict(color=ORANGE, width=3),
        )
    )
    fig.update_layout(title=f"{info.label} of v{a} and v{b} on the same traffic", yaxis_title=info.label, **LAYOUT)
    return dates_axis(fig, per_window["window_start"])


def sparkline(values: list[float], *, good_up: bool | None) -> go.Figure:
    """A tiny trend line for a health card."""
    color = GREY if good_up is None else (GREEN if (len(values) > 1 and (values[-1] >= values[0]) == good_up) else RED)
    fig = go.Figure(go.Scatter(y=values, mode="lines", line=dict(color=color, width=2), hoverinfo="skip"))
    fig.update_layout(
        height=60,
        margin=dict(l=0, r=0, t=0, b=0),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        showlegend=False,
        template="plotly_white",
    )
    return fig
