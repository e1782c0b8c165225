"""Whether an input's shift is more than the luck of the draw at this window's size.

Drift is judged by an effect size (Jensen-Shannon distance at 0.1, Evidently's default), so the verdict
means the same at 10k rows as at 1M. Sampling alone, though, gives a K-valued column a Jensen-Shannon
distance of roughly sqrt(K / n): an input with ~100 values (an airport, a city) crosses 0.1 on a window
of a few thousand rows even when nothing changed (bench/false_alarms.py measured 10 windows in 10 at
1,000 rows). A shift counts only when it is both big enough and unlikely by chance: a chi-square test of
the two sides' counts, with the categories too rare to test pooled into one cell. Numbers have a floor too:
normed Wasserstein between two samples of one distribution is about 1/sqrt(n), over 0.1 below a few hundred
rows (a founder's 20-row month showed 30 of 31 unchanged inputs as shifted). There the test is the two-sample
Kolmogorov-Smirnov test on the window's values against the reference sample, which is also what Evidently
uses by default on windows of up to 1,000 rows. Numbers are tested in windows of up to
`Thresholds.drift_chance_rows` (10,000) rows; windows counted in the store (`core.monitoring.binned`) are far
above that and are not tested.

Quality has the same floor: on 100 labelled rows a regression model as good as at validation measured over 10%
worse in 23% of same-distribution windows (bench/false_alarms.py, hotel). A metric past its line counts only
when a bootstrap of the window's labelled rows makes "as good as at validation" unlikely (p under
`Thresholds.performance_chance`, 0.01: one metric per window, so no correction for many columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2
from scipy.stats import ks_2samp

from core.metrics import METRICS
from core.metrics import task_metrics

RARE = 5.0
"""Cells expected to hold fewer rows than this on either side are pooled (the chi-square rule of thumb)."""


def shift_p_value(reference: pd.Series, current: pd.Series) -> float:
    """The chance of a shift at least this large between two samples of one distribution.

    Both arguments map category -> rows. Returns 1.0 when there is nothing to test (an empty side or a
    single cell after pooling).
    """
    keys = reference.index.union(current.index)
    r = reference.reindex(keys, fill_value=0).to_numpy(dtype="float64")
    c = current.reindex(keys, fill_value=0).to_numpy(dtype="float64")
    n_r, n_c = r.sum(), c.sum()
    if n_r <= 0 or n_c <= 0:
        return 1.0
    total = r + c
    rare = np.minimum(total * n_r, total * n_c) / (n_r + n_c) < RARE
    if rare.any():
        r = np.append(r[~rare], r[rare].sum())
        c = np.append(c[~rare], c[rare].sum())
        total = r + c
        keep = total > 0
        r, c, total = r[keep], c[keep], total[keep]
    if len(total) < 2:
        return 1.0
    observed = np.stack([r, c])
    expected = np.outer([n_r, n_c], total) / (n_r + n_c)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return float(chi2.sf(statistic, len(total) - 1))


def numeric_p_value(reference: pd.Series, current: pd.Series) -> float:
    """The chance of two samples of one distribution of numbers differing at least this much (two-sample
    Kolmogorov-Smirnov). Missing values are left out; 1.0 when either side has no value."""
    r = pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype="float64")
    c = pd.to_numeric(current, errors="coerce").dropna().to_numpy(dtype="float64")
    if not len(r) or not len(c):
        return 1.0
    return float(ks_2samp(r, c).pvalue)


def quality_p_values(
    *,
    task: str,
    labels: np.ndarray,
    predictions: np.ndarray,
    probabilities: np.ndarray | None,
    references: dict[str, float],
    resamples: int = 400,
    seed: int = 0,
) -> dict[str, float]:
    """For each metric in `references` (metric -> validation value): the chance that a window at least this
    much worse comes from a model still as good as at validation.

    A bootstrap of the window's labelled rows: p is the share of resampled windows (one added to both
    counts, so it is never 0) whose metric is no worse than the validation value. A resample on which a
    metric cannot be computed (R² of one repeated value, a ranking with one class) is left out for it; 1.0
    when none is left or there is no validation value.
    """
    n = len(labels)
    rng = np.random.default_rng(seed)
    draws: list[dict[str, float]] = []
    for _ in range(resamples):
        idx = rng.integers(0, n, size=n)
        draws.append(
            task_metrics(task, labels[idx], predictions[idx], probabilities[idx] if probabilities is not None else None)
        )
    out = {}
    for name, ref in references.items():
        values = np.array([d.get(name, np.nan) for d in draws], dtype="float64")
        values = values[np.isfinite(values)]
        if ref is None or not np.isfinite(ref) or not len(values):
            out[name] = 1.0
            continue
        no_worse = values >= ref if METRICS[name].higher_is_better else values <= ref
        out[name] = float((1 + no_worse.sum()) / (1 + len(values)))
    return out
