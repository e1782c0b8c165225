"""Comparing two versions of a model on the same traffic (the other one was shadow-scored).

Per window, each version's metric comes from its own stored statistics on the same rows. The
difference over the whole period gets a bootstrap confidence interval that resamples whole windows
(weeks or months), because rows inside one window move together (one stormy week delays every
flight) and resampling single rows would claim far more certainty than the data holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.kpis import format_value
from core.kpis import kpi_values
from core.metrics import METRICS
from core.monitoring.stats import pool
from core.monitoring.windows import make_window
from core.schema import ModelSpec

COMPARABLE = {
    "binary": ("roc_auc", "accuracy", "recall", "precision", "f1"),
    "multiclass": ("accuracy",),
    "regression": ("rmse", "mae", "r2"),
}


@dataclass(frozen=True)
class VersionComparison:
    """Two versions side by side: per window, pooled, the difference with its interval, and what it means."""

    model: str
    a: int
    b: int
    metric: str
    per_window: pd.DataFrame  # window_start, label, value_a, value_b, diff, n_labels
    pooled_a: float
    pooled_b: float
    diff: float
    ci_low: float
    ci_high: float
    b_better_windows: int
    windows: int
    money: float | None
    money_text: str
    recommendation: str

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.ci_low) and (self.ci_low > 0 or self.ci_high < 0))


def _money_gain(spec: ModelSpec, stats_a: dict, stats_b: dict) -> tuple[float | None, str]:
    """What switching from `a` to `b` would have been worth over the period, in the model's business unit."""
    b = spec.business
    if spec.task == "binary" and b.kind == "revenue_at_risk":
        gain = (stats_b.get("value_tp", 0.0) - stats_a.get("value_tp", 0.0)) * b.retention_rate
        return gain, f"{b.unit} kept"
    if spec.task == "binary" and b.kind == "cost_per_event":
        gain = (stats_a.get("fn", 0) - stats_b.get("fn", 0)) * b.value_per_positive
        return gain, f"saved on {b.positive} seen coming"
    if spec.task == "regression" and b.kind == "pricing_error":
        gain = stats_a.get("money_error", 0.0) - stats_b.get("money_error", 0.0)
        return gain, "less pricing error"
    return None, ""


def money_sentence(spec: ModelSpec, gain: float, b: int) -> str:
    """`Had v2 been live, about $X more monthly revenue would have been kept.` and the like."""
    biz = spec.business
    amount = format_value("money", abs(gain), biz.currency)
    more = "more" if gain > 0 else "less"
    if spec.task == "binary" and biz.kind == "revenue_at_risk":
        return f"Had v{b} been live, about {amount} {more} {biz.unit} would have been kept."
    if spec.task == "binary" and biz.kind == "cost_per_event":
        fewer = "more" if gain > 0 else "fewer"
        return f"Had v{b} been live, it would have seen {fewer} {biz.positive} coming, worth about {amount}."
    if spec.task == "regression":
        return f"Had v{b} been live, pricing error would have been about {amount} {'lower' if gain > 0 else 'higher'}."
    return ""


def compare_versions(
    spec: ModelSpec, window_stats: pd.DataFrame, *, a: int, b: int, metric: str, n_boot: int = 1000, seed: int = 0
) -> VersionComparison:
    """Compare versions `a` (usually live) and `b` on every window both scored, with labels."""
    info = METRICS[metric]
    wa = window_stats[window_stats["version"] == a].set_index("window_start")
    wb = window_stats[window_stats["version"] == b].set_index("window_start")
    common = [w for w in wa.index.intersection(wb.index) if wa.loc[w, "n_labels"] > 0]
    rows = []
    for w in sorted(common):
        va = kpi_values(spec, wa.loc[w, "stats"])[metric]
        vb = kpi_values(spec, wb.loc[w, "stats"])[metric]
        rows.append(
            {
                "window_start": w,
                "label": make_window(w, spec.window).label(spec.window),
                "value_a": va,
                "value_b": vb,
                "diff": vb - va,
                "n_labels": int(wa.loc[w, "n_labels"]),
            }
        )
    per_window = pd.DataFrame(rows, columns=["window_start", "label", "value_a", "value_b", "diff", "n_labels"])
    if per_window.empty:
        return VersionComparison(
            model=spec.name,
            a=a,
            b=b,
            metric=metric,
            per_window=per_window,
            pooled_a=np.nan,
            pooled_b=np.nan,
            diff=np.nan,
            ci_low=np.nan,
            ci_high=np.nan,
            b_better_windows=0,
            windows=0,
            money=None,
            money_text="",
            recommendation="The two versions have no windows with outcomes in common yet.",
        )
    stats_a = [wa.loc[w, "stats"] for w in per_window["window_start"]]
    stats_b = [wb.loc[w, "stats"] for w in per_window["window_start"]]
    pooled_a = kpi_values(spec, pool(stats_a))[metric]
    pooled_b = kpi_values(spec, pool(stats_b))[metric]
    rng = np.random.default_rng(seed)
    k = len(stats_a)
    diffs = []
    for _ in range(n_boot):
        idx = rng.integers(0, k, k)
        da = kpi_values(spec, pool([stats_a[i] for i in idx]))[metric]
        db = kpi_values(spec, pool([stats_b[i] for i in idx]))[metric]
        diffs.append(db - da)
    diffs = np.asarray(diffs, dtype=float)
    diffs = diffs[np.isfinite(diffs)]
    low, high = np.percentile(diffs, [2.5, 97.5]) if diffs.size else (np.nan, np.nan)
    sign = 1 if info.higher_is_better else -1
    b_better = int((sign * per_window["diff"] > 0).sum())
    money, money_what = _money_gain(spec, pool(stats_a), pool(stats_b))
    comparison = VersionComparison(
        model=spec.name,
        a=a,
        b=b,
        metric=metric,
        per_window=per_window,
        pooled_a=pooled_a,
        pooled_b=pooled_b,
        diff=pooled_b - pooled_a,
        ci_low=float(low),
        ci_high=float(high),
        b_better_windows=b_better,
        windows=k,
        money=money,
        money_text=money_what,
        recommendation="",
    )
    return _with_recommendation(spec, comparison)


def _with_recommendation(spec: ModelSpec, c: VersionComparison) -> VersionComparison:
    info = METRICS[c.metric]
    unit = spec.window
    better = (c.diff > 0) == info.higher_is_better
    text = (
        f"v{c.b} beat v{c.a} in {c.b_better_windows} of {c.windows} {unit}s on {info.label}; over the whole "
        f"period v{c.a} scored {c.pooled_a:.3f} and v{c.b} {c.pooled_b:.3f}."
    )
    if c.money is not None and abs(c.money) > 0:
        text += " " + money_sentence(spec, c.money, c.b)
    if c.significant:
        text += f" The gap holds in 95% of resampled {unit}s ({c.ci_low:+.3f} to {c.ci_high:+.3f}), so it is real."
        if better:
            text += f" Consider making v{c.b} live." if c.b != c.a else ""
    else:
        text += (
            f" But the 95% interval ({c.ci_low:+.3f} to {c.ci_high:+.3f}) includes no difference, so the data "
            "cannot yet tell them apart."
        )
    return VersionComparison(**{**c.__dict__, "recommendation": text})
