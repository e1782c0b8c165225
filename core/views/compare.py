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

from core.business import kind_for
from core.metrics import METRICS
from core.monitoring.stats import pool
from core.monitoring.windows import make_window
from core.schema import ModelSpec
from core.views.kpis import kpi_values

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

    higher_is_better: bool = True

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.ci_low) and (self.ci_low > 0 or self.ci_high < 0))

    @property
    def b_is_better(self) -> bool | None:
        """True when the interval says b is better, False when it says b is worse, None when it cannot tell."""
        if not self.significant:
            return None
        return (self.diff > 0) == self.higher_is_better

    @property
    def recommended(self) -> int:
        """The version to have live: b only when the interval says it is better, else a (usually the live one)."""
        return self.b if self.b_is_better else self.a


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
    money, money_what = kind_for(spec).gain(spec, pool(stats_a), pool(stats_b))
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
        higher_is_better=info.higher_is_better,
    )
    return _with_recommendation(spec, comparison)


def _with_recommendation(spec: ModelSpec, c: VersionComparison) -> VersionComparison:
    info = METRICS[c.metric]
    unit = spec.window
    direction = "higher" if info.higher_is_better else "lower"
    text = (
        f"v{c.b} did better than v{c.a} in {c.b_better_windows} of {c.windows} {unit}s on {info.label} "
        f"({direction} is better); over the whole period v{c.a} scored {c.pooled_a:.3f} and v{c.b} {c.pooled_b:.3f}."
    )
    if c.money is not None and abs(c.money) > 0:
        text += " " + kind_for(spec).gain_sentence(spec, c.money, c.b)
    interval = f"({c.ci_low:+.3f} to {c.ci_high:+.3f})"
    if c.b_is_better:
        text += f" The gap holds in 95% of resampled {unit}s {interval}, so v{c.b} is really better."
        text += f" Consider making v{c.b} live."
    elif c.b_is_better is False:
        text += f" The gap holds in 95% of resampled {unit}s {interval}, so v{c.b} is really worse. Keep v{c.a}."
    else:
        text += f" But the 95% interval {interval} includes no difference, so the data cannot yet tell them apart."
    return VersionComparison(**{**c.__dict__, "recommendation": text})
