"""Business KPIs tied to the model's outputs and outcomes, from stored daily statistics.

Every KPI over a period is computed from the pooled counts and sums of the days in it (never an
average of per-window ratios), so a quarter's on-time share is the quarter's late flights over the
quarter's flights. Which KPIs a model has, and their money, come from its business kind
(`core/business/`); quality metrics from `core.monitoring.stats.pooled_metrics`.
"""

from __future__ import annotations

import pandas as pd

from core.business import KPI
from core.business import kind_for
from core.monitoring.stats import pool
from core.monitoring.stats import pooled_metrics
from core.schema import BusinessConfig
from core.schema import ModelSpec


def period_end(start: pd.Timestamp, period: str) -> pd.Timestamp:
    """The first moment after the period that starts at `start`."""
    start = pd.Timestamp(start)
    return {
        "day": start + pd.Timedelta(days=1),
        "week": start + pd.Timedelta(days=7),
        "month": start + pd.DateOffset(months=1),
        "quarter": start + pd.DateOffset(months=3),
    }[period]


def period_start(days: pd.Series, period: str) -> pd.Series:
    """The start of the calendar period each day falls in (weeks start on Monday)."""
    days = pd.to_datetime(days).dt.floor("D")
    if period == "day":
        return days
    if period == "week":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    if period == "month":
        return days.dt.to_period("M").dt.start_time
    if period == "quarter":
        return days.dt.to_period("Q").dt.start_time
    raise ValueError(f"unknown period {period!r}")


def kpis_for(spec: ModelSpec) -> list[KPI]:
    """The KPIs that make sense for this model's task and business kind."""
    return kind_for(spec).kpis(spec)


def kpi_values(spec: ModelSpec, stats: dict, business: BusinessConfig | None = None) -> dict[str, float]:
    """KPIs and pooled quality metrics from one set of (pooled) statistics."""
    out: dict[str, float] = {"n": stats.get("n", 0), "n_labelled": stats.get("n_labelled", 0)}
    out.update(kind_for(spec).values(spec, stats, business or spec.business))
    out.update(pooled_metrics(spec.task, stats))
    return out


def kpi_series(
    spec: ModelSpec, daily: pd.DataFrame, *, period: str, version: int, business: BusinessConfig | None = None
) -> pd.DataFrame:
    """One row per period: KPIs and pooled performance of `version`, from its daily statistics."""
    rows = daily[daily["version"] == version]
    if rows.empty:
        return pd.DataFrame(columns=["period"])
    keys = pd.to_datetime(rows["window_start"]) if period == "window" else period_start(rows["day"], period)
    days = pd.to_datetime(daily["day"])
    # data dated by month (every row on the 1st) covers its whole month; otherwise the data runs to the last day
    monthly = bool((days.dt.day == 1).all()) and days.nunique() > 1
    data_end = days.max() + (pd.DateOffset(months=1) if monthly else pd.Timedelta(days=1))
    out = []
    for key, group in rows.groupby(keys):
        values = kpi_values(spec, pool(list(group["stats"])), business)
        values["period"] = key
        values["days"] = len(group)
        # a period still filling up (it ends after the last day with data) is not compared with full ones
        values["complete"] = bool(period_end(key, spec.window if period == "window" else period) <= data_end)
        out.append(values)
    return pd.DataFrame(out).sort_values("period").reset_index(drop=True)


def headline(spec: ModelSpec) -> KPI:
    """The single business number the overview shows for this model."""
    return next(k for k in kpis_for(spec) if k.headline)
