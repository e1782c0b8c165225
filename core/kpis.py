"""Business KPIs tied to the model's outputs and outcomes, from stored daily statistics.

Every KPI over a period is computed from the pooled counts and sums of the days in it (never an
average of per-window ratios), so a quarter's on-time share is the quarter's late flights over the
quarter's flights. Money values come from the model's :class:`~core.schema.BusinessConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.monitoring.stats import auc_from_histograms
from core.monitoring.stats import pool
from core.schema import BusinessConfig
from core.schema import ModelSpec

PERIODS = ("window", "day", "week", "month", "quarter")


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


@dataclass(frozen=True)
class KPI:
    """One business number: how to label, format and read it."""

    key: str
    label: str
    unit: str  # "money", "count", "share" or "score"
    help: str
    higher_is_better: bool | None = None
    headline: bool = False


def kpis_for(spec: ModelSpec) -> list[KPI]:
    """The KPIs that make sense for this model's task and business setting."""
    b = spec.business
    if spec.task == "binary" and b.kind == "revenue_at_risk":
        unit = b.unit
        return [
            KPI(
                "revenue_at_risk",
                f"{unit.capitalize()} at risk",
                "money",
                f"The {unit} of scored {b.entity}s, weighted by how likely the model thinks each one is to leave.",
                higher_is_better=False,
                headline=True,
            ),
            KPI(
                "flagged",
                f"{b.entity.capitalize()}s flagged",
                "count",
                f"{b.entity.capitalize()}s the model marked as likely to leave.",
            ),
            KPI(
                "lost",
                f"{unit.capitalize()} lost",
                "money",
                f"The {unit} of {b.entity}s who did leave (known once outcomes arrive).",
                higher_is_better=False,
            ),
            KPI(
                "saved",
                f"{unit.capitalize()} saved",
                "money",
                f"If {b.retention_rate:.0%} of the flagged {b.entity}s who would have left are kept, this much "
                f"{unit} stays.",
                higher_is_better=True,
            ),
            KPI(
                "missed",
                f"{unit.capitalize()} missed",
                "money",
                f"The {unit} of {b.entity}s who left without being flagged.",
                higher_is_better=False,
            ),
            KPI(
                "positive_rate",
                "Share who left",
                "share",
                f"Of {b.entity}s with a known outcome, the share who left.",
                higher_is_better=False,
            ),
        ]
    if spec.task == "binary" and b.kind == "cost_per_event":
        return [
            KPI(
                "on_time_share",
                "On-time share",
                "share",
                f"Share of {b.entity}s that were not among the {b.positive}.",
                higher_is_better=True,
                headline=True,
            ),
            KPI(
                "event_cost",
                "Cost of delays",
                "money",
                f"{b.positive.capitalize()} times {b.currency}{b.value_per_positive:,.0f} each.",
                higher_is_better=False,
            ),
            KPI("flagged", "Predicted late", "count", f"{b.entity.capitalize()}s the model expected to be late."),
            KPI(
                "caught",
                "Late and predicted",
                "count",
                f"{b.positive.capitalize()} the model saw coming.",
                higher_is_better=True,
            ),
            KPI(
                "missed_cost",
                "Cost of missed delays",
                "money",
                f"{b.positive.capitalize()} the model did not predict, times the cost of each.",
                higher_is_better=False,
            ),
        ]
    if spec.task == "regression" and b.kind == "pricing_error":
        return [
            KPI(
                "pricing_error",
                "Pricing error",
                "money",
                f"The total amount by which predicted {b.target_noun}s missed, times the quantity booked.",
                higher_is_better=False,
                headline=True,
            ),
            KPI(
                "revenue",
                "Revenue",
                "money",
                f"Actual {b.target_noun} times quantity, for outcomes that arrived.",
                higher_is_better=True,
            ),
            KPI(
                "under_priced",
                "Left on the table",
                "money",
                f"How much lower than the real {b.target_noun} the model priced (money not charged).",
                higher_is_better=False,
            ),
            KPI(
                "over_priced",
                "Priced too high",
                "money",
                f"How much higher than the real {b.target_noun} the model priced (bookings at risk).",
                higher_is_better=False,
            ),
            KPI(
                "error_per_unit",
                "Error per night",
                "money",
                "Pricing error divided by the nights with known prices.",
                higher_is_better=False,
            ),
        ]
    return [KPI("n", "Predictions", "count", "How many predictions the model made.", headline=True)]


PERFORMANCE_KEYS = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc"),
    "multiclass": ("accuracy",),
    "regression": ("mae", "rmse", "r2"),
}


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def kpi_values(spec: ModelSpec, stats: dict, business: BusinessConfig | None = None) -> dict[str, float]:
    """KPIs and pooled performance from one set of (pooled) statistics."""
    b = business or spec.business
    out: dict[str, float] = {"n": stats.get("n", 0), "n_labelled": stats.get("n_labelled", 0)}
    lab = stats.get("n_labelled", 0)
    if spec.task == "binary":
        tp, fp, fn, tn = (stats.get(k, 0) for k in ("tp", "fp", "fn", "tn"))
        positives = tp + fn
        out.update(
            flagged=stats.get("flagged", 0),
            revenue_at_risk=stats.get("expected_value_at_risk", 0.0),
            lost=stats.get("value_positive", 0.0),
            saved=stats.get("value_tp", 0.0) * b.retention_rate,
            missed=stats.get("value_fn", 0.0),
            positive_rate=_div(positives, lab),
            on_time_share=1 - _div(positives, lab) if lab else float("nan"),
            event_cost=positives * b.value_per_positive,
            caught=tp,
            missed_cost=fn * b.value_per_positive,
            accuracy=_div(tp + tn, lab),
            precision=_div(tp, tp + fp),
            recall=_div(tp, tp + fn),
            f1=_div(2 * tp, 2 * tp + fp + fn),
            roc_auc=auc_from_histograms(stats.get("hist_pos", []), stats.get("hist_neg", []))
            if stats.get("hist_pos")
            else float("nan"),
        )
    elif spec.task == "regression":
        n = lab
        sse = stats.get("sum_sq_err", 0.0)
        sst = stats.get("sum_y2", 0.0) - (stats.get("sum_y", 0.0) ** 2 / n if n else 0.0)
        out.update(
            pricing_error=stats.get("money_error", 0.0),
            revenue=stats.get("revenue", 0.0),
            under_priced=stats.get("money_under", 0.0),
            over_priced=stats.get("money_over", 0.0),
            error_per_unit=_div(stats.get("money_error", 0.0), stats.get("qty_labelled", 0.0)),
            mae=_div(stats.get("sum_abs_err", 0.0), n),
            rmse=math.sqrt(sse / n) if n else float("nan"),
            r2=1 - sse / sst if n and sst > 0 else float("nan"),
        )
    else:
        out["accuracy"] = _div(stats.get("correct", 0), lab)
    return out


def kpi_series(
    spec: ModelSpec, daily: pd.DataFrame, *, period: str, version: int, business: BusinessConfig | None = None
) -> pd.DataFrame:
    """One row per period: KPIs and pooled performance of `version`, from its daily statistics."""
    rows = daily[daily["version"] == version]
    if rows.empty:
        return pd.DataFrame(columns=["period"])
    keys = pd.to_datetime(rows["window_start"]) if period == "window" else period_start(rows["day"], period)
    last_day = pd.to_datetime(daily["day"]).max()
    out = []
    for key, group in rows.groupby(keys):
        values = kpi_values(spec, pool(list(group["stats"])), business)
        values["period"] = key
        values["days"] = len(group)
        # a period still filling up (it ends after the last day with data) is not compared with full ones
        values["complete"] = bool(
            period_end(key, spec.window if period == "window" else period) <= last_day + pd.Timedelta(days=1)
        )
        out.append(values)
    return pd.DataFrame(out).sort_values("period").reset_index(drop=True)


def headline(spec: ModelSpec) -> KPI:
    """The single business number the overview shows for this model."""
    return next(k for k in kpis_for(spec) if k.headline)


def format_value(kpi_unit: str, value: float, currency: str = "$") -> str:
    """Format a KPI value for people: money, counts, shares or scores."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if kpi_unit == "money":
        if abs(value) >= 1_000_000:
            return f"{currency}{value / 1_000_000:,.1f}M"
        if abs(value) >= 10_000:
            return f"{currency}{value / 1_000:,.0f}k"
        return f"{currency}{value:,.0f}"
    if kpi_unit == "count":
        return f"{value:,.0f}"
    if kpi_unit == "share":
        return f"{value:.1%}"
    return f"{value:.3f}"
