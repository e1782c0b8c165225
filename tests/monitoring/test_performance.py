"""Performance and overfitting checks, and the metrics they use (equal to scikit-learn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from core.demo.datasets import CHURN
from core.demo.datasets import HOTEL
from core.metrics import binary_metrics
from core.metrics import multiclass_metrics
from core.metrics import regression_metrics
from core.modeling.training import evaluate
from core.modeling.training import fit_model
from core.monitoring.performance import gap_check
from core.monitoring.performance import performance_checks
from core.monitoring.thresholds import Thresholds
from core.results import Status
from core.schema import ArchConfig


def test_binary_metrics_equal_scikit_learn():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 3000)
    p = np.clip(y * 0.3 + rng.random(3000) * 0.7, 0, 1)
    ours = binary_metrics(y, p)
    pred = (p >= 0.5).astype(int)
    assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert ours["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert ours["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert ours["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert ours["log_loss"] == pytest.approx(skm.log_loss(y, p))


def test_multiclass_metrics_equal_scikit_learn():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 4, 2000)
    raw = rng.random((2000, 4)) + np.eye(4)[y] * 0.8
    proba = raw / raw.sum(axis=1, keepdims=True)
    ours = multiclass_metrics(y, proba)
    pred = proba.argmax(axis=1)
    assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert ours["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert ours["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert ours["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    assert ours["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_regression_metrics_equal_scikit_learn():
    rng = np.random.default_rng(7)
    y = rng.normal(100, 20, 1500)
    pred = y + rng.normal(0, 8, 1500)
    ours = regression_metrics(y, pred)
    assert ours["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert ours["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert ours["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    assert ours["r2"] == pytest.approx(skm.r2_score(y, pred))


def test_mape_is_withheld_when_the_target_crosses_zero():
    assert np.isnan(regression_metrics(np.array([-1.0, 0.0, 2.0]), np.array([0.5, 0.1, 2.0]))["mape"])


def test_one_class_window_does_not_crash_performance():
    frame = pd.DataFrame({"_label": np.ones(80), "_prediction": np.ones(80), "_probability": np.linspace(0.5, 1, 80)})
    checks = performance_checks(
        spec=CHURN.spec, frame=frame, reference_metrics={"roc_auc": 0.8, "accuracy": 0.8}, thresholds=Thresholds()
    )
    auc = next(c for c in checks if c.metric == "roc_auc")
    assert auc.value is None and "every arrived outcome is `Yes`" in auc.message
    assert next(c for c in checks if c.metric == "accuracy").value == 1.0


def test_too_few_labels_says_so():
    frame = pd.DataFrame({"_label": [1.0, 0.0] + [np.nan] * 300, "_prediction": 0.0, "_probability": 0.2})
    (check,) = performance_checks(spec=CHURN.spec, frame=frame, reference_metrics={}, thresholds=Thresholds())
    assert check.status == Status.NO_LABELS and "Only 2 of 302" in check.message


def test_overfitting_check_fires_on_a_memorising_model_and_not_on_a_sound_one(churn_parts):
    th = Thresholds()
    tiny = churn_parts["train"].sample(60, random_state=1)
    memoriser, _ = fit_model(
        spec=CHURN.spec,
        arch=ArchConfig(
            hidden=(256, 256),
            dropout=0.0,
            weight_decay=0.0,
            max_epochs=300,
            patience=300,
            batch_size=16,
            lr=3e-3,
            min_category_count=1,
        ),
        train=tiny,
        valid=tiny,
        seed=1,
    )  # validated on its own rows: nothing stops it
    train_auc = evaluate(memoriser, tiny)["roc_auc"]
    val_auc = evaluate(memoriser, churn_parts["validation"])["roc_auc"]
    fired = gap_check(
        metric="roc_auc", better=train_auc, worse=val_auc, thresholds=th, kind="train_validation", n_rows=60
    )
    assert train_auc > 0.99 and fired.failed, (train_auc, val_auc)
    sound, _ = fit_model(
        spec=CHURN.spec,
        arch=ArchConfig(hidden=(32,), max_epochs=20),
        train=churn_parts["train"],
        valid=churn_parts["validation"],
        seed=1,
    )
    quiet = gap_check(
        metric="roc_auc",
        better=evaluate(sound, churn_parts["train"])["roc_auc"],
        worse=evaluate(sound, churn_parts["validation"])["roc_auc"],
        thresholds=th,
        kind="train_validation",
        n_rows=100,
    )
    assert not quiet.failed, quiet.message


@pytest.fixture(scope="module")
def hotel_rates() -> pd.DataFrame:
    """Real room rates and a real guess of them (the hotel's earlier average rate): heavy-tailed errors."""
    rows = pd.read_parquet(Path(__file__).parents[2] / "data" / "hotel_rates.parquet")
    rows = rows[["avg_price_per_room", "historical_adr"]].dropna()
    return pd.DataFrame({"_label": rows["avg_price_per_room"], "_prediction": rows["historical_adr"]})


def _rmse_status(frame: pd.DataFrame, reference: dict, thresholds: Thresholds):
    return next(
        c
        for c in performance_checks(spec=HOTEL.spec, frame=frame, reference_metrics=reference, thresholds=thresholds)
        if c.metric == "rmse"
    )


def test_a_small_window_of_an_unchanged_model_is_not_called_worse_but_a_real_drop_still_is(hotel_rates):
    reference = regression_metrics(hotel_rates["_label"].to_numpy(), hotel_rates["_prediction"].to_numpy())
    rng = np.random.default_rng(11)
    untested = Thresholds(performance_chance=1.1)  # no p reaches it: the 10% line alone
    same = [hotel_rates.sample(100, replace=True, random_state=int(rng.integers(1 << 30))) for _ in range(200)]
    ours = [_rmse_status(w, reference, Thresholds()) for w in same]
    alone = [_rmse_status(w, reference, untested) for w in same]
    assert sum(c.status != Status.OK for c in alone) >= 20  # the line alone: one same-quality week in ten or more
    assert sum(c.status != Status.OK for c in ours) <= 2  # the test's 1%, with room for 200 draws
    lucky = next(c for c, a in zip(ours, alone, strict=True) if a.status != Status.OK)
    assert lucky.details["chance"] is True and lucky.details["chance_p"] >= 0.01
    assert "with 100 labelled rows a difference that size is the luck of the draw" in lucky.message

    worse = hotel_rates.assign(
        _prediction=hotel_rates["_label"] + 1.5 * (hotel_rates["_prediction"] - hotel_rates["_label"])
    )
    drops = [_rmse_status(worse.sample(300, replace=True, random_state=i), reference, Thresholds()) for i in range(20)]
    assert all(c.status == Status.ALERT for c in drops)  # 50% worse on 300 rows is far beyond luck
    assert max(c.details["chance_p"] for c in drops) < 0.01 and not any("luck" in c.message for c in drops)


def test_the_production_gap_of_a_window_put_down_to_luck_is_not_judged_either():
    kwargs = dict(metric="rmse", better=10.0, worse=13.0, thresholds=Thresholds(), kind="validation_production")
    judged = gap_check(**kwargs, n_rows=100)
    lucky = gap_check(**kwargs, n_rows=100, luck=True)
    assert judged.status == Status.ALERT and "luck" not in judged.message
    assert lucky.status == Status.OK and lucky.details["chance"] is True and lucky.value == judged.value
    assert lucky.message.endswith("With 100 labelled rows a gap that size is the luck of the draw.")
