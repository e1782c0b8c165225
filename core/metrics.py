"""Model quality metrics, computed with numpy on plain arrays.

One implementation serves training reports, monitoring windows and version comparison, so a number
means the same everywhere. Tests check each against scikit-learn on the same arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

EPS = 1e-15


@dataclass(frozen=True)
class MetricInfo:
    """How to read a metric: its plain name, whether higher is better, and a one-sentence meaning."""

    key: str
    label: str
    higher_is_better: bool
    explain: str
    money_like: bool = False


METRICS: dict[str, MetricInfo] = {
    m.key: m
    for m in [
        MetricInfo("accuracy", "Accuracy", True, "Share of predictions that were right."),
        MetricInfo(
            "precision", "Precision", True, "Of the cases the model flagged, the share that really were positive."
        ),
        MetricInfo("recall", "Recall", True, "Of the real positive cases, the share the model caught."),
        MetricInfo("f1", "F1 score", True, "One number balancing precision and recall (1 is perfect)."),
        MetricInfo(
            "roc_auc",
            "Ranking quality",
            True,
            "How often the model ranks a real positive above a real negative: 0.5 is a coin flip, 1 is perfect "
            "(ROC AUC).",
        ),
        MetricInfo(
            "log_loss",
            "Log loss",
            False,
            "How far the predicted probabilities are from what happened (lower is better).",
        ),
        MetricInfo(
            "mae", "Average error", False, "The average size of a prediction's miss, in the target's unit (MAE).", True
        ),
        MetricInfo(
            "rmse",
            "Typical error",
            False,
            "The typical miss, with big misses counting more, in the target's unit (RMSE).",
            True,
        ),
        MetricInfo("mape", "Average % error", False, "The typical miss as a share of the true value (MAPE)."),
        MetricInfo(
            "r2",
            "Explained share",
            True,
            "How much of the ups and downs in the target the model explains (1 is all; R²).",
        ),
    ]
}

PRIMARY = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}
BY_TASK = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    "multiclass": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    "regression": ("mae", "rmse", "mape", "r2"),
}


def _safe_div(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def roc_auc_binary(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum formula (ties get average ranks); NaN with one class."""
    y = np.asarray(y, dtype=bool)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(y: np.ndarray, proba: np.ndarray, *, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC AUC and log loss for 0/1 labels and positive-class probabilities."""
    y = np.asarray(y, dtype="float64")
    p = np.clip(np.asarray(proba, dtype="float64"), EPS, 1 - EPS)
    pred = p >= threshold
    pos = y == 1
    tp = float(np.sum(pred & pos))
    fp = float(np.sum(pred & ~pos))
    fn = float(np.sum(~pred & pos))
    precision = _safe_div(tp, tp + fp)
    recall = _safe_div(tp, tp + fn)
    f1 = _safe_div(2 * tp, 2 * tp + fp + fn)
    return {
        "accuracy": float(np.mean(pred == pos)) if y.size else float("nan"),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc_binary(pos, p),
        "log_loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if y.size else float("nan"),
    }


def multiclass_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, macro precision/recall/F1, macro one-vs-rest ROC AUC, log loss, plus per-class F1.

    `y` holds class indices 0..K-1 and `proba` one column per class.
    """
    y = np.asarray(y, dtype="int64")
    proba = np.asarray(proba, dtype="float64")
    k = proba.shape[1]
    pred = proba.argmax(axis=1)
    out: dict[str, float] = {"accuracy": float(np.mean(pred == y)) if y.size else float("nan")}
    precs, recs, f1s, aucs = [], [], [], []
    for c in range(k):
        tp = float(np.sum((pred == c) & (y == c)))
        fp = float(np.sum((pred == c) & (y != c)))
        fn = float(np.sum((pred != c) & (y == c)))
        if tp + fn == 0:  # class absent from the labels: sklearn's macro averages skip nothing, so we report it apart
            continue
        precs.append(_safe_div(tp, tp + fp) if tp + fp else 0.0)
        recs.append(_safe_div(tp, tp + fn))
        f1s.append(_safe_div(2 * tp, 2 * tp + fp + fn))
        out[f"f1[{c}]"] = f1s[-1]
        out[f"recall[{c}]"] = recs[-1]
        aucs.append(roc_auc_binary(y == c, proba[:, c]))
    out["precision"] = float(np.mean(precs)) if precs else float("nan")
    out["recall"] = float(np.mean(recs)) if recs else float("nan")
    out["f1"] = float(np.mean(f1s)) if f1s else float("nan")
    out["roc_auc"] = float(np.mean(aucs)) if aucs and not any(math.isnan(a) for a in aucs) else float("nan")
    p = np.clip(proba, EPS, 1)
    p = p / p.sum(axis=1, keepdims=True)
    out["log_loss"] = float(-np.mean(np.log(p[np.arange(y.size), y]))) if y.size else float("nan")
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, MAPE and R²; MAPE is NaN when any true value is zero (it would explode)."""
    y = np.asarray(y, dtype="float64")
    pred = np.asarray(pred, dtype="float64")
    if y.size == 0:
        return {k: float("nan") for k in BY_TASK["regression"]}
    err = pred - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mape": float(np.mean(np.abs(err) / np.abs(y))) if np.all(np.abs(y) > 1e-9) else float("nan"),
        "r2": float(1 - np.sum(err**2) / ss_tot) if ss_tot > 0 else float("nan"),
    }


def task_metrics(task: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None) -> dict[str, float]:
    """Dispatch to the metric set of `task`; `proba` is positive-class (binary) or per-class (multiclass)."""
    if task == "binary":
        return binary_metrics(y, proba if proba is not None else pred)
    if task == "multiclass":
        return multiclass_metrics(y, proba)
    return regression_metrics(y, pred)


YARDSTICK_MARGIN = {"higher": 0.02, "lower": 0.10}
"""How close to HistGradientBoosting on the same split a trained network must come: a score (ROC AUC,
accuracy) at most 0.02 below it, an error (RMSE) at most 10% above it."""


def within_yardstick(metric: str, ours: float, theirs: float) -> bool:
    """True when our `metric` is within the yardstick margin of the yardstick's value."""
    if METRICS[metric].higher_is_better:
        return ours >= theirs - YARDSTICK_MARGIN["higher"]
    return ours <= theirs * (1 + YARDSTICK_MARGIN["lower"])
