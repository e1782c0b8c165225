"""Confidence-based performance estimation (what NannyML calls CBPE), for binary classifiers.

If a model's probabilities are calibrated, the expected confusion matrix of a window follows from them,
and so do expected accuracy, F1 and ROC AUC. Here: Platt calibration on the model's log-odds, the
expected metrics of a window under a calibration, and one window's estimate with the outcomes that
already arrived treated as certain. `core.monitoring.estimate` builds the monitored estimate on these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EPS = 1e-6
MIN_CALIBRATION_ROWS = 200
MIN_EARLY_LABELS = 30


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@dataclass(frozen=True)
class Calibrator:
    """Platt scaling on the model's log-odds: `sigmoid(a * logit(p) + b)`."""

    a: float
    b: float
    source: str  # "recent outcomes" or "validation data"
    n: int
    positive_rate: float
    flagged_rate: float

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * _logit(np.asarray(p, dtype="float64")) + self.b)


def fit_calibrator(
    proba: np.ndarray, labels: np.ndarray, *, source: str, threshold: float = 0.5, weights: np.ndarray | None = None
) -> Calibrator | None:
    """Fit (weighted) Platt scaling by Newton's method; None when there are too few rows or only one class."""
    proba = np.asarray(proba, dtype="float64")
    y = np.asarray(labels, dtype="float64")
    wt = np.ones_like(y) if weights is None else np.asarray(weights, dtype="float64")
    keep = np.isfinite(proba) & np.isfinite(y)
    proba, y, wt = proba[keep], y[keep], wt[keep]
    if len(y) < MIN_CALIBRATION_ROWS or y.min() == y.max():
        return None
    x = _logit(proba)
    a, b = 1.0, 0.0
    for _ in range(50):
        q = _sigmoid(a * x + b)
        w = wt * q * (1 - q) + 1e-9
        g = np.array([np.sum(wt * (q - y) * x), np.sum(wt * (q - y))])
        h = np.array([[np.sum(w * x * x) + 1e-6, np.sum(w * x)], [np.sum(w * x), np.sum(w) + 1e-6]])
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return Calibrator(
        a=float(a),
        b=float(b),
        source=source,
        n=int(len(y)),
        positive_rate=float(np.average(y, weights=wt)),
        flagged_rate=float(np.average(proba >= threshold, weights=wt)),
    )


def expected_auc(score: np.ndarray, q: np.ndarray) -> float:
    """Expected ROC AUC when row i is positive with probability q_i (exact AUC when every q is 0 or 1)."""
    order = np.argsort(score, kind="stable")
    s, qq = score[order], q[order]
    if s.size == 0:
        return float("nan")
    _, starts = np.unique(s, return_index=True)
    pos = np.add.reduceat(qq, starts)
    neg = np.add.reduceat(1 - qq, starts)
    self_pairs = np.add.reduceat(qq * (1 - qq), starts)
    neg_below = np.cumsum(neg) - neg
    numerator = np.sum(pos * neg_below) + 0.5 * np.sum(pos * neg - self_pairs)
    denominator = qq.sum() * (1 - qq).sum() - np.sum(qq * (1 - qq))
    return float(numerator / denominator) if denominator > 0 else float("nan")


def expected_metrics(score: np.ndarray, q: np.ndarray, *, threshold: float = 0.5) -> dict[str, float]:
    """Expected accuracy, precision, recall, F1 and ROC AUC from positive-probabilities `q`."""
    flagged = score >= threshold
    tp, fp = q[flagged].sum(), (1 - q[flagged]).sum()
    fn, tn = q[~flagged].sum(), (1 - q[~flagged]).sum()
    n = max(len(q), 1)
    return {
        "accuracy": float((tp + tn) / n),
        "precision": float(tp / (tp + fp)) if tp + fp > 0 else float("nan"),
        "recall": float(tp / (tp + fn)) if tp + fn > 0 else float("nan"),
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn > 0 else float("nan"),
        "roc_auc": expected_auc(score, q),
    }


@dataclass(frozen=True)
class Estimate:
    """Estimated metrics of one window with how they were made and why not to trust them."""

    metrics: dict[str, float]
    known_labels: int
    calibration: str
    flags: tuple[str, ...]
    prior_factor: float


def estimate_window(
    frame: pd.DataFrame,
    *,
    calibrator: Calibrator,
    known_by: pd.Timestamp | None,
    threshold: float = 0.5,
    positive_label: float = 1.0,
) -> Estimate:
    """Estimate a window's metrics; outcomes that arrived by `known_by` count as certain (None: use none)."""
    score = frame["_probability"].to_numpy(dtype="float64")
    q = calibrator(score)
    if known_by is not None and "_label_ts" in frame:
        known = (frame["_label"].notna() & (pd.to_datetime(frame["_label_ts"]) <= known_by)).to_numpy()
    else:
        known = np.zeros(len(frame), dtype=bool)
    y = (frame["_label"].to_numpy(dtype="float64") == positive_label).astype("float64")
    flags: list[str] = []
    factor = 1.0
    n_known = int(known.sum())
    if n_known >= MIN_EARLY_LABELS:
        expected = float(q[known].mean())
        observed = float(y[known].mean())
        spread = 3 * np.sqrt(max(expected * (1 - expected), 1e-4) / n_known)
        if abs(observed - expected) > spread:
            flags.append(
                f"The {n_known:,} outcomes already in show {observed:.0%} positive where {expected:.0%} was expected."
            )
        odds = lambda r: np.clip(r, 0.01, 0.99) / (1 - np.clip(r, 0.01, 0.99))  # noqa: E731
        factor = float(np.clip(odds(observed) / odds(expected), 0.2, 5.0))
        rest = ~known
        q[rest] = q[rest] * factor / (q[rest] * factor + (1 - q[rest]))
    q[known] = y[known]
    flagged_share = float((score >= threshold).mean()) if len(score) else 0.0
    if abs(flagged_share - calibrator.flagged_rate) > max(0.05, 0.5 * calibrator.flagged_rate):
        flags.append(
            f"The model flags {flagged_share:.0%} of cases, against {calibrator.flagged_rate:.0%} in the data the "
            "estimate learned from."
        )
    return Estimate(
        metrics=expected_metrics(score, q, threshold=threshold),
        known_labels=n_known,
        calibration=calibrator.source,
        flags=tuple(flags),
        prior_factor=factor,
    )
