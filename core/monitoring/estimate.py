"""Performance before labels arrive, for binary classifiers.

The confidence-based idea (what NannyML calls CBPE): if the model's probabilities are calibrated,
the expected confusion matrix of a window follows from them, and so do expected accuracy, F1 and
ROC AUC. On this demo's real shifts a plain CBPE calibrated once on validation data is no better
than assuming the validation value, because calibration breaks exactly when the world moves (the
churn rate doubles in a way the features cannot show). So this estimator:

1. recalibrates on the outcomes that had arrived before the window started (Platt scaling on the
   model's log-odds), weighting each by its age: half the weight every two windows, with the
   validation data as the oldest evidence. Recent outcomes track a moving base rate; older ones keep
   the ranking stable. `bench/estimate.py --sweep` compares half-lives on the demo's windows: one to
   two windows give the smallest accuracy errors, longer ones help F1 and ranking slightly;
2. treats every outcome that has already arrived inside the window as certain, and shifts the
   remaining probabilities by the class balance those early outcomes show (a prior-shift
   correction), so the estimate converges to the realised value as labels trickle in;
3. comes with an error band measured on past windows whose outcomes did arrive, and with plain
   warnings when it should not be trusted (the share of flagged cases or the class balance moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from core.monitoring.performance import relative_loss
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import Window
from core.monitoring.windows import next_start
from core.results import Check
from core.results import CheckResult
from core.results import clean

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


# ---------------------------------------------------------------------------- one version's estimator
ESTIMATED = ("accuracy", "f1", "roc_auc")
BAND_WINDOWS = 8
"""The error band of an estimate is its mean absolute error over this many past windows with outcomes."""


@dataclass(frozen=True)
class Estimator:
    """Everything the label-free estimate of one binary version needs, fixed across its windows.

    The runner asks :meth:`calibration_period` which outcomes to read for a window, and hands them to
    :meth:`checks` with the window's rows: no store is read here.
    """

    window_size: str
    validation: pd.DataFrame
    """Validation rows with outcomes (`_probability`, `_label`, `_ts`): the oldest calibration evidence."""
    base: Calibrator | None
    """The calibration on validation data alone."""
    threshold: float
    thresholds: Thresholds
    reference_metrics: dict[str, float]

    @classmethod
    def for_version(
        cls,
        *,
        window_size: str,
        reference: pd.DataFrame,
        threshold: float,
        thresholds: Thresholds,
        reference_metrics: dict[str, float],
    ) -> Estimator:
        """Build from the version's reference rows (train and validation, with `_split` and `_label`)."""
        val = reference[(reference["_split"] == "validation") & reference["_label"].notna()]
        base = fit_calibrator(
            val["_probability"].to_numpy(), val["_label"].to_numpy(), source="validation data", threshold=threshold
        )
        return cls(
            window_size=window_size,
            validation=val,
            base=base,
            threshold=threshold,
            thresholds=thresholds,
            reference_metrics=reference_metrics,
        )

    def calibration_period(self, window: Window) -> tuple[datetime, datetime]:
        """The production period whose outcomes (known by the window's start) recalibrate this window."""
        start = pd.Timestamp(window.start)
        length = next_start(start, self.window_size) - start
        first = start - self.thresholds.estimate_lookback_windows * length
        return first.to_pydatetime(), window.start

    def calibrator(self, window: Window, recent: pd.DataFrame) -> Calibrator | None:
        """Platt scaling on outcomes known before the window began, older ones weighing less.

        Weight halves every `estimate_half_life_windows` windows of age; the validation rows join as the
        oldest evidence. With no production outcomes yet this is the validation calibration.
        """
        start = pd.Timestamp(window.start)
        length = next_start(start, self.window_size) - start
        val = self.validation
        half_life = self.thresholds.estimate_half_life_windows
        age = (start - pd.to_datetime(recent["_ts"])) / length
        val_age = (start - pd.to_datetime(val["_ts"]).max()) / length if len(val) else 0.0
        proba = np.concatenate([recent["_probability"].to_numpy(float), val["_probability"].to_numpy(float)])
        labels = np.concatenate([recent["_label"].to_numpy(float), val["_label"].to_numpy(float)])
        weights = np.concatenate(
            [0.5 ** (age.to_numpy(float) / half_life), np.full(len(val), 0.5 ** (val_age / half_life))]
        )
        source = "recent outcomes" if len(recent) else "validation data"
        fitted = fit_calibrator(proba, labels, source=source, threshold=self.threshold, weights=weights)
        return fitted or self.base

    def checks(
        self,
        window: Window,
        frame: pd.DataFrame,
        *,
        realised: dict[str, float],
        history: list[dict[str, float]],
        recent: pd.DataFrame,
    ) -> list[CheckResult]:
        """Label-free estimates of accuracy, F1 and ROC AUC with their error band and trust verdict."""
        calibrator = self.calibrator(window, recent)
        if calibrator is None:
            return []
        th = self.thresholds
        pure = estimate_window(frame, calibrator=calibrator, known_by=None, threshold=self.threshold)
        early = estimate_window(frame, calibrator=calibrator, known_by=pd.Timestamp.max, threshold=self.threshold)
        past = history[-BAND_WINDOWS:]
        out = []
        for metric in ESTIMATED:
            est = pure.metrics[metric]
            errors = [abs(h[metric]) for h in past if metric in h and h[metric] == h[metric]]
            band = float(np.mean(errors)) if len(errors) >= 2 else None
            trusted = band is not None and band <= th.estimate_trust_band and not pure.flags
            reasons = list(pure.flags)
            if band is None:
                reasons.append("Too few past windows with outcomes to measure how far off estimates run.")
            elif band > th.estimate_trust_band:
                reasons.append(f"Recent estimates were off by {band:.2f} on average.")
            ref = self.reference_metrics.get(metric)
            real = realised.get(metric)
            error = est - real if real is not None and real == real else None
            band_txt = f" ± {band:.2f}" if band is not None else ""
            message = (
                f"Estimated {metric.replace('_', ' ')} {est:.3f}{band_txt} from the model's own confidence "
                f"(calibrated on {calibrator.source}). "
                + ("It has been reliable lately." if trusted else "Treat it with care: " + " ".join(reasons))
            )
            out.append(
                CheckResult(
                    check=Check.ESTIMATED_PERFORMANCE,
                    metric=metric,
                    value=clean(est),
                    reference=clean(ref),
                    lower=clean(est - band) if band is not None else None,
                    upper=clean(est + band) if band is not None else None,
                    threshold=th.performance_drop.warn,
                    n_rows=len(frame),
                    status=th.performance_drop.status(relative_loss(metric, est, ref) if ref else None),
                    message=message,
                    details={
                        "band": clean(band),
                        "trusted": trusted,
                        "reasons": reasons,
                        "calibration": calibrator.source,
                        "calibration_rows": calibrator.n,
                        "realised": clean(real),
                        "error": clean(error),
                        "with_early_labels": clean(early.metrics[metric]),
                        "known_labels": early.known_labels,
                    },
                )
            )
        return out
