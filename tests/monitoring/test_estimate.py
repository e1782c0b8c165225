"""Label-free estimates: exact expectations, pooled AUC, accuracy on held-out data, early labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from core.demo.datasets import FLIGHTS
from core.metrics import binary_metrics
from core.modeling.training import fit_model
from core.monitoring.estimate import estimate_window
from core.monitoring.estimate import expected_auc
from core.monitoring.estimate import fit_calibrator
from core.monitoring.stats import auc_from_histograms
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
