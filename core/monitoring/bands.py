"""The error band of a label-free estimate and the verdict on whether to trust it.

A window's band is the larger of two things: its floor, which the window alone decides (what chance leaves,
and how far recalibration moved the estimate: `Estimator.band_floors`), and a conformal quantile of how far
off the estimates of the last `BAND_WINDOWS` windows with outcomes were. Only the second depends on other
windows, and only through their stored errors, which do not depend on any band. So windows can be computed
in any order, on any number of workers, and :func:`settle_bands` then gives every window the band (and
wording) it would have had if they had been computed one after another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.monitoring.thresholds import Thresholds

BAND_WINDOWS = 16
"""The error band and the combination learn from at most this many past windows with outcomes."""


def conformal_band(errors: list[float], coverage: float) -> float | None:
    """The ceil(coverage * (n + 1))-th smallest of n past absolute errors; None when n is too small.

    If the next error is exchangeable with the past ones, it falls within this value with probability
    at least `coverage` (split-conformal prediction); with fewer than coverage / (1 - coverage)
    errors no past value is large enough to promise that.
    """
    rank = int(np.ceil(coverage * (len(errors) + 1)))
    return float(np.sort(errors)[rank - 1]) if errors and rank <= len(errors) else None


def past_errors(history: list[dict[str, float]], metric: str) -> list[float]:
    """Absolute errors of `metric` in the last `BAND_WINDOWS` windows of `history` (windows with any error,
    oldest first), skipping windows where that metric had none."""
    return [abs(h[metric]) for h in history[-BAND_WINDOWS:] if h.get(metric) is not None and h[metric] == h[metric]]


@dataclass(frozen=True)
class Verdict:
    """One estimate's band, whether to trust it, why not, and the sentence that says so."""

    band: float
    trusted: bool
    reasons: list[str]
    message: str


def judge(
    *,
    est: float,
    floor: float,
    errors: list[float],
    flags: tuple[str, ...] | list[str],
    source: str,
    metric: str,
    thresholds: Thresholds,
) -> Verdict:
    """The band of an estimate from its window's `floor` and the past absolute `errors`, and its verdict.

    With too few past windows for a conformal quantile, the largest past error stands in.
    """
    past = conformal_band(errors, thresholds.estimate_band_coverage)
    band = float(max(max(errors, default=0.0) if past is None else past, floor))
    enough = len(errors) >= 2
    trusted = enough and band <= thresholds.estimate_trust_band and not flags
    reasons = list(flags)
    if not enough:
        reasons.append("Too few past windows with outcomes to measure how far off estimates run.")
    elif band > thresholds.estimate_trust_band:
        reasons.append(f"Recent estimates were off by up to {band:.2f}.")
    message = (
        f"Estimated {metric.replace('_', ' ')} {est:.3f} ± {band:.2f} from the model's own confidence "
        f"(calibrated on {source}). "
        + ("It has been reliable lately." if trusted else "Treat it with care: " + " ".join(reasons))
    )
    return Verdict(band=band, trusted=trusted, reasons=reasons, message=message)


def settle_bands(estimates: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """The stored estimate rows of one version (`read_results(..., with_details=True)`) whose band, bounds,
    trust or wording change once every window's error is known, with their new values; empty when none.

    Walks the windows oldest first, exactly as a run computing them one after another would.
    """
    frame = estimates[estimates["window_start"].notna()].sort_values(["window_start", "metric"], kind="stable")
    history: list[dict[str, float]] = []
    changed = []
    for start, rows in frame.groupby("window_start", sort=True):
        errors: dict[str, float] = {}
        for row in rows.itertuples():
            details = json.loads(row.details) if isinstance(row.details, str) else dict(row.details or {})
            if details.get("error") is not None:
                errors[row.metric] = float(details["error"])
            if details.get("floor") is None or row.value is None or row.value != row.value:
                continue  # written before floors were kept: left as computed
            verdict = judge(
                est=float(row.value),
                floor=float(details["floor"]),
                errors=past_errors(history, row.metric),
                flags=details.get("flags", []),
                source=str(details.get("calibration")),
                metric=row.metric,
                thresholds=thresholds,
            )
            lower, upper = max(float(row.value) - verdict.band, 0.0), min(float(row.value) + verdict.band, 1.0)
            if (
                verdict.message == row.message
                and abs(verdict.band - float(details.get("band") or 0.0)) < 1e-12
                and details.get("trusted") == verdict.trusted
            ):
                continue
            details.update(band=verdict.band, trusted=verdict.trusted, reasons=verdict.reasons)
            changed.append(
                {
                    "window_start": pd.Timestamp(start),
                    "metric": row.metric,
                    "lower": lower,
                    "upper": upper,
                    "message": verdict.message,
                    "details": json.dumps(details),
                }
            )
        if errors:
            history.append(errors)
    return pd.DataFrame(changed)
