"""Per-window sufficient statistics: counts and sums that add up exactly across windows.

KPIs over a month or a quarter are computed by adding these up and dividing once, never by
averaging per-window ratios. ROC AUC pools through score histograms per class (an approximation
of the pooled value, within about 0.005 at 50 bins).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.schema import ModelSpec

AUC_BINS = 50


def _num(frame: pd.DataFrame, column: str | None, default: float = 0.0) -> np.ndarray:
    if column and column in frame:
        return pd.to_numeric(frame[column], errors="coerce").fillna(default).to_numpy(dtype="float64")
    return np.full(len(frame), default)


def window_stats(spec: ModelSpec, frame: pd.DataFrame, *, threshold: float = 0.5) -> dict:
    """Counts, sums and money of one window's rows for one version."""
    biz = spec.business
    n = len(frame)
    labelled = frame["_label"].notna().to_numpy()
    out: dict = {"n": n, "n_labelled": int(labelled.sum())}
    if spec.task == "binary":
        p = frame["_probability"].to_numpy(dtype="float64")
        flagged = p >= threshold
        y = frame["_label"].to_numpy(dtype="float64") == 1.0
        value = (
            _num(frame, biz.value_column, biz.value_per_positive)
            if biz.value_column
            else np.full(n, biz.value_per_positive)
        )
        lab = labelled
        out.update(
            flagged=int(flagged.sum()),
            prob_sum=float(p.sum()),
            value_total=float(value.sum()),
            value_flagged=float(value[flagged].sum()),
            expected_value_at_risk=float((value * p).sum()),
            tp=int((flagged & y & lab).sum()),
            fp=int((flagged & ~y & lab).sum()),
            fn=int((~flagged & y & lab).sum()),
            tn=int((~flagged & ~y & lab).sum()),
            value_tp=float(value[flagged & y & lab].sum()),
            value_fn=float(value[~flagged & y & lab].sum()),
            value_fp=float(value[flagged & ~y & lab].sum()),
            value_positive=float(value[y & lab].sum()),
            flagged_labelled=int((flagged & lab).sum()),
            log_loss_sum=float(
                -np.sum(np.where(y[lab], np.log(np.clip(p[lab], 1e-15, 1)), np.log(np.clip(1 - p[lab], 1e-15, 1))))
            ),
            hist_pos=np.histogram(p[lab & y], bins=AUC_BINS, range=(0, 1))[0].tolist(),
            hist_neg=np.histogram(p[lab & ~y], bins=AUC_BINS, range=(0, 1))[0].tolist(),
        )
    elif spec.task == "multiclass":
        pred = frame["_prediction"].to_numpy(dtype="float64")
        y = frame["_label"].to_numpy(dtype="float64")
        k = len(spec.classes)
        confusion = np.zeros((k, k), dtype=int)
        for t, pr in zip(y[labelled].astype(int), pred[labelled].astype(int), strict=True):
            confusion[t, pr] += 1
        out.update(
            correct=int(np.trace(confusion)),
            predicted=np.bincount(pred.astype(int), minlength=k).tolist(),
            confusion=confusion.tolist(),
        )
    else:
        pred = frame["_prediction"].to_numpy(dtype="float64")
        y = frame["_label"].to_numpy(dtype="float64")
        qty = _num(frame, biz.quantity_column, 1.0) if biz.quantity_column else np.ones(n)
        lab = labelled
        err = pred[lab] - y[lab]
        nz = np.abs(y[lab]) > 1e-9
        out.update(
            sum_pred=float(pred.sum()),
            sum_pred_money=float((pred * qty).sum()),
            qty=float(qty.sum()),
            sum_y=float(y[lab].sum()),
            sum_y2=float((y[lab] ** 2).sum()),
            sum_err=float(err.sum()),
            sum_abs_err=float(np.abs(err).sum()),
            sum_sq_err=float((err**2).sum()),
            sum_ape=float((np.abs(err[nz]) / np.abs(y[lab][nz])).sum()),
            n_ape=int(nz.sum()),
            money_error=float((np.abs(err) * qty[lab]).sum()),
            money_under=float((np.clip(-err, 0, None) * qty[lab]).sum()),
            money_over=float((np.clip(err, 0, None) * qty[lab]).sum()),
            revenue=float((y[lab] * qty[lab]).sum()),
            qty_labelled=float(qty[lab].sum()),
        )
    return out


def pool(stats: list[dict]) -> dict:
    """Add per-window statistics into one set (lists add element-wise)."""
    total: dict = {}
    for s in stats:
        for key, value in s.items():
            if isinstance(value, list):
                arr = np.asarray(value, dtype="float64")
                total[key] = total[key] + arr if key in total else arr
            elif isinstance(value, (int, float)) and value is not None:
                total[key] = total.get(key, 0) + value
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in total.items()}


def auc_from_histograms(hist_pos: list[float], hist_neg: list[float]) -> float:
    """ROC AUC from per-class score histograms (ties within a bin count half)."""
    pos = np.asarray(hist_pos, dtype="float64")
    neg = np.asarray(hist_neg, dtype="float64")
    if pos.sum() == 0 or neg.sum() == 0:
        return float("nan")
    neg_below = np.cumsum(neg) - neg
    return float((np.sum(pos * neg_below) + 0.5 * np.sum(pos * neg)) / (pos.sum() * neg.sum()))


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def pooled_metrics(task: str, stats: dict) -> dict[str, float]:
    """The task's quality metrics from (pooled) statistics: exact for counts and sums, ROC AUC from histograms."""
    lab = stats.get("n_labelled", 0)
    if task == "binary":
        tp, fp, fn, tn = (stats.get(k, 0) for k in ("tp", "fp", "fn", "tn"))
        return {
            "accuracy": _div(tp + tn, lab),
            "precision": _div(tp, tp + fp),
            "recall": _div(tp, tp + fn),
            "f1": _div(2 * tp, 2 * tp + fp + fn),
            "roc_auc": auc_from_histograms(stats.get("hist_pos", []), stats.get("hist_neg", []))
            if stats.get("hist_pos")
            else float("nan"),
        }
    if task == "regression":
        sse = stats.get("sum_sq_err", 0.0)
        sst = stats.get("sum_y2", 0.0) - (stats.get("sum_y", 0.0) ** 2 / lab if lab else 0.0)
        return {
            "mae": _div(stats.get("sum_abs_err", 0.0), lab),
            "rmse": math.sqrt(sse / lab) if lab else float("nan"),
            "r2": 1 - sse / sst if lab and sst > 0 else float("nan"),
        }
    return {"accuracy": _div(stats.get("correct", 0), lab)}
