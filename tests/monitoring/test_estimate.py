"""Label-free estimates: exact expectations, pooled AUC, accuracy on held-out data, early labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from core.demo.datasets import FLIGHTS
from core.metrics import binary_metrics
from core.modeling.training import fit_model
from core.monitoring.cbpe import estimate_window
from core.monitoring.cbpe import expected_auc
from core.monitoring.cbpe import fit_calibrator
from core.monitoring.estimate import Estimator
from core.monitoring.stats import auc_from_histograms
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.schema import ArchConfig


def test_expected_auc_is_exact_when_outcomes_are_known():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 500).astype(float)
    s = np.round(rng.random(500), 2)  # with ties
    assert expected_auc(s, y) == pytest.approx(skm.roc_auc_score(y, s))


def test_pooled_auc_from_histograms_is_close():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 20_000).astype(bool)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    hp = np.histogram(p[y], bins=50, range=(0, 1))[0]
    hn = np.histogram(p[~y], bins=50, range=(0, 1))[0]
    assert auc_from_histograms(hp, hn) == pytest.approx(skm.roc_auc_score(y, p), abs=0.005)


def test_label_free_estimate_is_close_to_the_realised_value(flights):
    """Held-out check: calibrate on half of April's flights, estimate random windows of the other half unlabelled.

    Stated tolerance: mean absolute error under 0.03 for accuracy, F1 and ROC AUC when the world has not
    moved. (Real weeks move: one stormy week changes everything, so there the runner reports a band
    measured on past windows and says when not to trust the estimate.)
    """
    frame, split = flights
    frame = frame[frame["status"].notna()]
    train, valid = frame[split.loc[frame.index] == "train"], frame[split.loc[frame.index] == "validation"]
    model, _ = fit_model(
        spec=FLIGHTS.spec, arch=ArchConfig(hidden=(64,), max_epochs=4), train=train, valid=valid, seed=1
    )
    valid = valid.assign(p=model.predict(valid).probability, y=(valid["status"] == "delayed").astype(float))
    calibration = valid.sample(frac=0.5, random_state=0)
    held_out = valid.drop(calibration.index)
    calibrator = fit_calibrator(calibration["p"].to_numpy(), calibration["y"].to_numpy(), source="validation data")
    errors = {"accuracy": [], "f1": [], "roc_auc": []}
    chunks = np.random.default_rng(0).permutation(len(held_out)) % 5
    for _, week in held_out.groupby(chunks):
        window = pd.DataFrame({"_probability": week["p"].to_numpy(), "_label": np.nan})
        est = estimate_window(window, calibrator=calibrator, known_by=None).metrics
        real = binary_metrics(week["y"].to_numpy(), week["p"].to_numpy())
        for m in errors:
            errors[m].append(abs(est[m] - real[m]))
    assert len(errors["accuracy"]) >= 4
    for m, errs in errors.items():
        assert np.mean(errs) < 0.03, (m, errs)


def test_early_labels_pull_the_estimate_to_the_truth():
    rng = np.random.default_rng(4)
    p = rng.random(2000)
    y = (rng.random(2000) < np.clip(p + 0.25, 0, 1)).astype(float)  # the world moved: more positives
    cal = fit_calibrator(p, (rng.random(2000) < p).astype(float), source="validation data")
    frame = pd.DataFrame({"_probability": p, "_label": y, "_label_ts": pd.Timestamp("2020-01-01")})
    real = binary_metrics(y, p)["accuracy"]
    blind = estimate_window(frame, calibrator=cal, known_by=None)
    half = frame.copy()
    half.loc[half.index[1000:], "_label"] = np.nan
    early = estimate_window(half, calibrator=cal, known_by=pd.Timestamp("2021-01-01"))
    assert abs(early.metrics["accuracy"] - real) < abs(blind.metrics["accuracy"] - real) / 2
    assert early.flags and "outcomes already in" in early.flags[0]


# ---------------------------------------------------------------------------- the blend and its band
def _synthetic_windows(*, weeks: int, rows: int, intercepts, seed: int, prompt: float = 1.0):
    """Validation rows from a calibrated model, then weekly windows whose true log-odds are shifted by `intercepts`.

    A `prompt` share of outcomes arrives the next day, the rest after half a year (far beyond the
    estimate's lookback), so the recalibration sees only that share of the outcomes.
    """
    rng = np.random.default_rng(seed)

    def draw(n: int, shift: float, ts: pd.Timestamp, span: pd.Timedelta) -> pd.DataFrame:
        x = rng.normal(-0.6, 1.6, n)
        p = 1 / (1 + np.exp(-x))
        y = (rng.random(n) < 1 / (1 + np.exp(-(x + shift)))).astype(float)
        stamps = ts + pd.to_timedelta(rng.random(n) * span.total_seconds(), unit="s")
        delay = pd.to_timedelta(np.where(rng.random(n) < prompt, 1, 180), unit="D")
        return pd.DataFrame({"_probability": p, "_label": y, "_ts": stamps, "_label_ts": stamps + delay})

    validation = draw(20_000, 0.0, pd.Timestamp("2020-01-01"), pd.Timedelta(days=28)).assign(_split="validation")
    first = pd.Timestamp("2020-02-03")  # a Monday
    windows = [
        (
            make_window(first + pd.Timedelta(weeks=k), "week"),
            draw(rows, intercepts[k], first + pd.Timedelta(weeks=k), pd.Timedelta(days=7)),
        )
        for k in range(weeks)
    ]
    return validation, windows


def _replay(validation: pd.DataFrame, windows) -> pd.DataFrame:
    """Run `Estimator.checks` window after window the way the runner does (history of errors, recent outcomes)."""
    th = Thresholds()
    val_metrics = binary_metrics(validation["_label"].to_numpy(), validation["_probability"].to_numpy())
    est = Estimator.for_version(
        window_size="week", reference=validation, threshold=0.5, thresholds=th, reference_metrics=val_metrics
    )
    production = pd.concat([frame for _, frame in windows], ignore_index=True)
    history: list[dict[str, float]] = []
    rows = []
    for window, frame in windows:
        first, _ = est.calibration_period(window)
        recent = production[
            (production["_ts"] >= first)
            & (production["_ts"] < window.start)
            & (production["_label_ts"] <= window.start)
        ]
        real = binary_metrics(frame["_label"].to_numpy(), frame["_probability"].to_numpy())
        checks = est.checks(
            window, frame, realised=real, history=history, recent=recent[["_probability", "_label", "_ts"]]
        )
        history.append({c.metric: c.details["error"] for c in checks})
        for c in checks:
            rows.append(
                {
                    "metric": c.metric,
                    "realised": real[c.metric],
                    "ours": c.value,
                    "recalibrated": c.details["recalibrated"],
                    "validation_only": c.details["validation_only"],
                    "lower": c.lower,
                    "upper": c.upper,
                }
            )
    return pd.DataFrame(rows)


def _mae(frame: pd.DataFrame, column: str, metric: str) -> float:
    f = frame[frame["metric"] == metric]
    return float((f[column] - f["realised"]).abs().mean())


def test_the_blend_leans_on_validation_when_few_recent_outcomes_make_recalibration_noisy():
    """A world that never moves, where only 3% of outcomes arrive within the lookback: Platt scaling
    refitted on those few bends the probabilities (F1 suffers most, through the rows near the
    threshold), while the validation calibration stays right. Learning from past windows, the blend
    moves its weight to the validation calibration and cuts F1's error by a fifth or more.
    """
    validation, windows = _synthetic_windows(weeks=24, rows=3000, intercepts=[0.0] * 24, seed=5, prompt=0.03)
    out = _replay(validation, windows)
    for metric in ("f1", "accuracy"):
        assert _mae(out, "ours", metric) < 0.8 * _mae(out, "recalibrated", metric), metric


def test_the_blend_follows_recalibration_when_the_base_rate_moves():
    """The positives grow week after week: the validation calibration goes stale and the blend moves
    its weight to the recalibrated estimate, so its accuracy error is a third of validation-only CBPE's."""
    shifts = list(np.linspace(0.0, 1.5, 24))
    validation, windows = _synthetic_windows(weeks=24, rows=2000, intercepts=shifts, seed=6)
    out = _replay(validation, windows)
    assert _mae(out, "ours", "accuracy") < 0.4 * _mae(out, "validation_only", "accuracy")


@pytest.mark.parametrize("moving", [False, True])
def test_the_error_band_covers_the_realised_value_in_most_windows(moving):
    """The band (a conformal quantile of past errors, floored by chance and by the blend's spread) covers
    the realised value in at least 80% of windows; a mean-absolute-error band covered about half."""
    shifts = list(np.linspace(0.0, 1.5, 30)) if moving else [0.0] * 30
    validation, windows = _synthetic_windows(weeks=30, rows=600, intercepts=shifts, seed=7)
    out = _replay(validation, windows)
    assert out["lower"].notna().all() and out["upper"].notna().all()
    covered = (out["lower"] <= out["realised"]) & (out["realised"] <= out["upper"])
    assert covered.mean() >= 0.8, covered.groupby(out["metric"]).mean()
