"""Performance before labels arrive, for binary classifiers.

The confidence-based idea (what NannyML calls CBPE; `core.monitoring.cbpe`): if the model's probabilities
are calibrated, the expected confusion matrix of a window follows from them, and so do expected accuracy, F1 and
ROC AUC. On this demo's real shifts a plain CBPE calibrated once on validation data is no better
than assuming the validation value, because calibration breaks exactly when the world moves (the
churn rate doubles in a way the features cannot show). So this estimator:

1. recalibrates on the outcomes that had arrived before the window started (Platt scaling on the
   model's log-odds), weighting each by its age: half the weight every two windows, with the
   validation data as the oldest evidence. Recent outcomes track a moving base rate; older ones keep
   the ranking stable. `bench/estimate.py --sweep` compares half-lives on the demo's windows;
2. blends that recalibrated estimate with the validation-only one (plain CBPE), per metric, with a
   weight learned from how both did on the past windows whose outcomes are known: recalibration on a
   few recent outcomes can bend the probabilities near the decision threshold (F1 suffers first),
   and which of the two wins differs by model and metric;
3. treats every outcome that has already arrived inside the window as certain, and shifts the
   remaining probabilities by the class balance those early outcomes show (a prior-shift
   correction), so the estimate converges to the realised value as labels trickle in;
4. comes with an error band meant to cover the realised value in `estimate_band_coverage` of windows
   (a conformal quantile of past errors, never below what chance alone leaves), and with plain
   warnings when it should not be trusted (the share of flagged cases or the class balance moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from core.monitoring.bands import BAND_WINDOWS
from core.monitoring.bands import judge
from core.monitoring.bands import past_errors
from core.monitoring.cbpe import Calibrator
from core.monitoring.cbpe import estimate_window
from core.monitoring.cbpe import expected_metrics
from core.monitoring.cbpe import fit_calibrator
from core.monitoring.performance import relative_loss
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import Window
from core.monitoring.windows import make_window
from core.monitoring.windows import next_start
from core.monitoring.windows import window_start
from core.results import Check
from core.results import CheckResult
from core.results import clean


def _times(column: pd.Series) -> pd.Series:
    """`column` as datetimes; a column that already is one is returned as is (pd.to_datetime walks every value)."""
    return column if pd.api.types.is_datetime64_any_dtype(column) else pd.to_datetime(column)


# ---------------------------------------------------------------------------- band and combination
ESTIMATED = ("accuracy", "f1", "roc_auc")
SAMPLING_DRAWS = 64
SAMPLING_ROWS = 20_000


def sampling_spread(score: np.ndarray, q: np.ndarray, *, threshold: float, coverage: float) -> dict[str, float]:
    """How far each metric's realised value strays from its expectation by chance alone, at `coverage`.

    Even a perfectly calibrated `q` leaves the realised outcomes random: outcomes are drawn as
    Bernoulli(q) (a fixed seed, so a window's band repeats) and the `coverage` quantile of
    |realised - expected| is returned per metric. Windows above `SAMPLING_ROWS` rows are drawn on a
    sample and the spread scaled by sqrt(sample / rows), the way binomial noise shrinks.
    """
    score = np.asarray(score, dtype="float64")
    q = np.asarray(q, dtype="float64")
    n = len(score)
    if n == 0:
        return dict.fromkeys(ESTIMATED, float("nan"))
    rng = np.random.default_rng(0)
    scale = 1.0
    if n > SAMPLING_ROWS:
        keep = rng.choice(n, SAMPLING_ROWS, replace=False)
        score, q, scale = score[keep], q[keep], float(np.sqrt(SAMPLING_ROWS / n))
    expected = expected_metrics(score, q, threshold=threshold)
    y = rng.random((SAMPLING_DRAWS, len(q))) < q
    flagged = score >= threshold
    tp = (y & flagged).sum(axis=1)
    pos = y.sum(axis=1)
    m = len(q)
    # ROC AUC by rank sums: the ranks (ties averaged) are the same for every draw
    ranks = pd.Series(score).rank(method="average").to_numpy()
    neg = m - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = {
            "accuracy": (2 * tp - pos - flagged.sum() + m) / m,
            "f1": 2 * tp / (flagged.sum() + pos),
            "roc_auc": (y @ ranks - pos * (pos + 1) / 2) / (pos * neg),
        }
    out = {}
    for metric, values in draws.items():
        dev = np.abs(values - expected[metric])
        dev = dev[np.isfinite(dev)]
        out[metric] = float(np.quantile(dev, coverage) * scale) if dev.size else float("nan")
    return out


def combination_weight(recalibrated: np.ndarray, validation: np.ndarray, *, prior: float = 0.5) -> float:
    """Weight of the recalibrated estimate against the validation-only one, learned from their past errors.

    The weight minimises the summed squared error of the blend `w * recalibrated + (1 - w) * validation`
    over the past windows (errors are estimate minus realised, oldest first), shrunk towards `prior`
    by one window's worth of evidence so that two or three windows cannot swing it to an extreme, and
    clipped to [0, 1]. With no past windows it is `prior`.
    """
    r = np.asarray(recalibrated, dtype="float64")
    v = np.asarray(validation, dtype="float64")
    keep = np.isfinite(r) & np.isfinite(v)
    r, v = r[keep], v[keep]
    if not r.size:
        return prior
    d = r - v
    shrink = float(np.mean(d * d)) + 1e-12
    w = (prior * shrink - float(np.sum(v * d))) / (float(np.sum(d * d)) + shrink)
    return float(np.clip(w, 0.0, 1.0))


@dataclass(frozen=True)
class Combined:
    """A window's estimate: the blend of the recalibrated and the validation-only estimates, per metric."""

    metrics: dict[str, float]
    recalibrated: dict[str, float]
    validation_only: dict[str, float]
    weights: dict[str, float]
    """Weight of the recalibrated estimate per metric (1 - weight goes to the validation-only one)."""
    with_early_labels: dict[str, float]
    calibrator: Calibrator
    flags: tuple[str, ...]
    known_labels: int
    past_windows: int
    """Past windows with outcomes the weights were learned from."""


# ---------------------------------------------------------------------------- one version's estimator
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

        Weight halves every `estimate_half_life_windows` windows of age, times `_weight` where `recent` has it
        (how many outcomes a sampled row stands for); the validation rows join as the oldest evidence. With no
        production outcomes yet this is the validation calibration.
        """
        start = pd.Timestamp(window.start)
        length = next_start(start, self.window_size) - start
        val = self.validation
        half_life = self.thresholds.estimate_half_life_windows
        age = (start - _times(recent["_ts"])) / length
        val_age = (start - _times(val["_ts"]).max()) / length if len(val) else 0.0
        proba = np.concatenate([recent["_probability"].to_numpy(float), val["_probability"].to_numpy(float)])
        labels = np.concatenate([recent["_label"].to_numpy(float), val["_label"].to_numpy(float)])
        # a sampled outcome stands for `_weight` of its window's outcomes (core/store/calibration.py)
        stands_for = recent["_weight"].to_numpy(float) if "_weight" in recent else 1.0
        weights = np.concatenate(
            [stands_for * 0.5 ** (age.to_numpy(float) / half_life), np.full(len(val), 0.5 ** (val_age / half_life))]
        )
        source = "recent outcomes" if len(recent) else "validation data"
        fitted = fit_calibrator(proba, labels, source=source, threshold=self.threshold, weights=weights)
        return fitted or self.base

    def past_errors(self, window: Window, recent: pd.DataFrame) -> list[dict[str, tuple[float, float]]]:
        """Per earlier window with outcomes in `recent` (oldest first): metric -> (recalibrated, validation-only) error.

        Each past window is estimated the way it would have been, from the outcomes of the windows before
        it (and the validation rows), and scored on its own outcomes. Only outcomes known before
        `window` began are used, so the window's own labels never shape its estimate. (Outcomes of a past
        window that arrived after that window began do count here, which is what makes its score
        possible at all.)
        """
        if self.base is None or not len(recent):
            return []
        ts = _times(recent["_ts"])
        starts = window_start(ts, self.window_size)
        out = []
        for first in sorted(starts.unique()):
            if first >= pd.Timestamp(window.start):
                continue
            rows = recent[(starts == first).to_numpy()]
            y = (rows["_label"].to_numpy(float) == 1).astype("float64")
            if len(rows) < self.thresholds.min_labels or y.min() == y.max():
                continue  # too few outcomes (or one class) to score an estimate on
            past = make_window(first, self.window_size)
            cal = self.calibrator(past, recent[(ts < first).to_numpy()])
            if cal is None:
                continue
            score = rows["_probability"].to_numpy(float)
            real = expected_metrics(score, y, threshold=self.threshold)  # exact with 0/1 outcomes
            rec = expected_metrics(score, cal(score), threshold=self.threshold)
            val = expected_metrics(score, self.base(score), threshold=self.threshold)
            out.append({m: (rec[m] - real[m], val[m] - real[m]) for m in ESTIMATED})
        return out[-BAND_WINDOWS:]

    def estimate(self, window: Window, frame: pd.DataFrame, recent: pd.DataFrame) -> Combined | None:
        """The window's label-free estimate: recalibrated and validation-only estimates blended per metric.

        Recalibrating on recent outcomes follows a moving base rate (accuracy gains most), but a Platt
        fit on a few recent windows also bends the probabilities near the decision threshold, which can
        cost F1 more than the validation calibration loses by being stale. Which one wins differs by
        model and metric, so each metric's blend weight is learned from how both did on the past
        windows whose outcomes are known (:func:`combination_weight`).
        """
        calibrator = self.calibrator(window, recent)
        if calibrator is None:
            return None
        base = self.base or calibrator
        th = self.threshold
        rec = estimate_window(frame, calibrator=calibrator, known_by=None, threshold=th)
        val = estimate_window(frame, calibrator=base, known_by=None, threshold=th)
        rec_early = estimate_window(frame, calibrator=calibrator, known_by=pd.Timestamp.max, threshold=th)
        val_early = estimate_window(frame, calibrator=base, known_by=pd.Timestamp.max, threshold=th)
        past = self.past_errors(window, recent) if base is not calibrator else []
        weights, metrics, early = {}, {}, {}
        for m in ESTIMATED:
            w = combination_weight(np.array([p[m][0] for p in past]), np.array([p[m][1] for p in past]))
            weights[m] = w
            metrics[m] = w * rec.metrics[m] + (1 - w) * val.metrics[m]
            early[m] = w * rec_early.metrics[m] + (1 - w) * val_early.metrics[m]
        return Combined(
            metrics=metrics,
            recalibrated=rec.metrics,
            validation_only=val.metrics,
            weights=weights,
            with_early_labels=early,
            calibrator=calibrator,
            flags=rec.flags,
            known_labels=rec_early.known_labels,
            past_windows=len(past),
        )

    def band_floors(self, combined: Combined, frame: pd.DataFrame) -> dict[str, float]:
        """The least each metric's error band can be in this window, from the window alone: what chance leaves
        (:func:`sampling_spread`) and, when recalibration moved the estimate, the distance from the blend to the
        farther of its two parts (the truth is uncertain by at least that much). Stored with the estimate, so
        the band can be settled again once every earlier window is known (:func:`settle_bands`)."""
        coverage = self.thresholds.estimate_band_coverage
        score = frame["_probability"].to_numpy(dtype="float64")
        chance = sampling_spread(score, combined.calibrator(score), threshold=self.threshold, coverage=coverage)
        out = {}
        for m in ESTIMATED:
            w = combined.weights[m]
            split = max(w, 1 - w) * abs(combined.recalibrated[m] - combined.validation_only[m])
            out[m] = float(max(chance[m] if chance[m] == chance[m] else 0.0, split))
        return out

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
        combined = self.estimate(window, frame, recent)
        if combined is None:
            return []
        th = self.thresholds
        calibrator = combined.calibrator
        floors = self.band_floors(combined, frame)
        out = []
        for metric in ESTIMATED:
            est = combined.metrics[metric]
            verdict = judge(
                est=est,
                floor=floors[metric],
                errors=past_errors(history, metric),
                flags=combined.flags,
                source=calibrator.source,
                metric=metric,
                thresholds=th,
            )
            band, trusted, reasons, message = verdict.band, verdict.trusted, verdict.reasons, verdict.message
            ref = self.reference_metrics.get(metric)
            real = realised.get(metric)
            error = est - real if real is not None and real == real else None
            out.append(
                CheckResult(
                    check=Check.ESTIMATED_PERFORMANCE,
                    metric=metric,
                    value=clean(est),
                    reference=clean(ref),
                    lower=clean(max(est - band, 0.0)),  # every estimated metric lies in [0, 1]
                    upper=clean(min(est + band, 1.0)),
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
                        "with_early_labels": clean(combined.with_early_labels[metric]),
                        "known_labels": combined.known_labels,
                        "recalibrated": clean(combined.recalibrated[metric]),
                        "validation_only": clean(combined.validation_only[metric]),
                        "recalibrated_weight": clean(combined.weights[metric]),
                        "weight_windows": combined.past_windows,
                        "floor": clean(floors[metric]),
                        "flags": list(combined.flags),
                    },
                )
            )
        return out
