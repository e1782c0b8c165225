"""Monitoring engine: drift, performance, quality, overfitting, estimates and incremental runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from core.config import REPO_ROOT
from core.demo import CHURN
from core.demo import FLIGHTS
from core.evidently_adapter import DriftRequest
from core.evidently_adapter import drift_scores
from core.evidently_adapter import is_drifted
from core.metrics import binary_metrics
from core.metrics import multiclass_metrics
from core.metrics import regression_metrics
from core.monitoring.drift import drift_checks
from core.monitoring.estimate import estimate_window
from core.monitoring.estimate import expected_auc
from core.monitoring.estimate import fit_calibrator
from core.monitoring.performance import gap_check
from core.monitoring.performance import performance_checks
from core.monitoring.quality import profile_reference
from core.monitoring.quality import quality_checks
from core.monitoring.result import Check
from core.monitoring.result import Status
from core.monitoring.runner import run_monitoring
from core.monitoring.stats import auc_from_histograms
from core.monitoring.thresholds import Thresholds
from core.schema import ArchConfig
from core.store import Store
from core.training import evaluate
from core.training import fit_model


@pytest.fixture(scope="module")
def flights():
    frame = FLIGHTS.load(REPO_ROOT / "data")
    split = FLIGHTS.split(frame)
    return frame, split


@pytest.fixture(scope="module")
def flight_reference(flights):
    frame, split = flights
    return frame[split == "train"].sample(20_000, random_state=0)


# ----------------------------------------------------------------------------- drift
def test_shifted_column_drifts_and_untouched_one_does_not(flight_reference):
    rng = np.random.default_rng(1)
    current = flight_reference.sample(5_000, random_state=2).copy()
    current["distance"] = current["distance"] + flight_reference["distance"].std()  # one standard deviation
    scores = drift_scores(
        reference=flight_reference,
        current=current,
        requests=[DriftRequest("distance", "num"), DriftRequest("hour", "num"), DriftRequest("carrier", "cat")],
    )
    by = {s.column: s for s in scores}
    assert by["distance"].drifted and by["distance"].score > 0.5
    assert not by["hour"].drifted and by["hour"].score < 0.05
    assert not by["carrier"].drifted
    # a categorical column changed on purpose drifts too
    current["carrier"] = rng.choice(["ZZ", "YY"], size=len(current))
    (cat,) = drift_scores(reference=flight_reference, current=current, requests=[DriftRequest("carrier", "cat")])
    assert cat.drifted and cat.method == "jensenshannon"


def test_no_false_alarm_on_a_million_rows_from_the_same_data(flight_reference):
    a = flight_reference.sample(1_000_000, replace=True, random_state=3).reset_index(drop=True)
    b = flight_reference.sample(1_000_000, replace=True, random_state=4).reset_index(drop=True)
    for frame in (a, b):
        frame["_probability"] = np.random.default_rng(0).random(len(frame))
    spec = FLIGHTS.spec
    checks = drift_checks(spec=spec, features=spec.features, reference=a, current=b, thresholds=Thresholds())
    assert not [c for c in checks if c.check == Check.DRIFT and c.failed]
    share = next(c for c in checks if c.check == Check.DRIFT_SHARE)
    assert share.value == 0 and share.status == Status.OK


def test_score_direction_is_normalised():
    assert is_drifted("ks", 0.01, 0.05) and not is_drifted("ks", 0.5, 0.05)
    assert is_drifted("wasserstein", 0.2, 0.1) and not is_drifted("wasserstein", 0.05, 0.1)


def test_small_reference_keeps_the_distance_method(flight_reference):
    """Evidently switches to p-value tests at <= 1,000 reference rows; we ask for methods explicitly."""
    small = flight_reference.head(500)
    current = flight_reference.tail(500).copy()
    current["distance"] = current["distance"] * 2
    by = {
        s.column: s
        for s in drift_scores(
            reference=small, current=current, requests=[DriftRequest("distance", "num"), DriftRequest("origin", "cat")]
        )
    }
    assert by["distance"].method == "wasserstein" and by["distance"].drifted
    assert by["origin"].method == "jensenshannon"


def test_integer_column_with_few_values_stays_numeric():
    ref = pd.DataFrame({"adults": np.tile([1, 2, 3], 400)})
    cur = pd.DataFrame({"adults": np.tile([2, 3, 3], 400)})
    (s,) = drift_scores(reference=ref, current=cur, requests=[DriftRequest("adults", "num")])
    assert s.method == "wasserstein" and not s.missing and s.score > 0


def test_empty_or_missing_column_is_reported_not_raised(flight_reference):
    current = flight_reference.head(800).copy()
    current["wind_gust"] = np.nan
    current = current.drop(columns=["visib"])
    by = {
        s.column: s
        for s in drift_scores(
            reference=flight_reference,
            current=current,
            requests=[DriftRequest("wind_gust", "num"), DriftRequest("visib", "num"), DriftRequest("hour", "num")],
        )
    }
    assert by["wind_gust"].missing and by["visib"].missing and not by["hour"].missing


def test_constant_reference_column_is_compared_as_categories():
    ref = pd.DataFrame({"x": np.zeros(300)})
    cur = pd.DataFrame({"x": np.ones(300)})
    (s,) = drift_scores(reference=ref, current=cur, requests=[DriftRequest("x", "num")])
    assert s.method == "jensenshannon" and s.drifted


# ----------------------------------------------------------------------------- performance
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


# ----------------------------------------------------------------------------- overfitting
@pytest.fixture(scope="module")
def churn_parts():
    frame = CHURN.load(REPO_ROOT / "data")
    split = CHURN.split(frame)
    return {s: frame[split == s] for s in ("train", "validation")}


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


# ----------------------------------------------------------------------------- quality
def test_quality_flags_gaps_new_categories_and_out_of_range(flight_reference):
    spec = FLIGHTS.spec
    profile = profile_reference(spec, flight_reference, spec.features)
    current = flight_reference.sample(1000, random_state=9).copy()
    current.loc[current.index[:300], "humid"] = np.nan
    current.loc[current.index[:200], "carrier"] = "NEWAIR"
    current.loc[current.index[:100], "distance"] = 99_999
    current["visib"] = np.nan
    checks = {
        (c.metric, c.column): c
        for c in quality_checks(spec=spec, current=current, profile=profile, thresholds=Thresholds())
    }
    assert checks[("missing_share", "humid")].value == pytest.approx(0.3) and checks[("missing_share", "humid")].failed
    assert checks[("unseen_share", "carrier")].value == pytest.approx(0.2)
    assert "NEWAIR" in checks[("unseen_share", "carrier")].message
    assert checks[("out_of_range_share", "distance")].value == pytest.approx(0.1)
    assert not checks[("out_of_range_share", "hour")].failed
    assert (
        checks[("missing_columns", None)].status == Status.ALERT
        and "`visib`" in checks[("missing_columns", None)].message
    )


# ----------------------------------------------------------------------------- estimates
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


# ----------------------------------------------------------------------------- the runner on a real store
def test_demo_monitoring_produced_every_check(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        results = store.read_results(model="flights", version=1)
        kinds = set(results["check"])
        for check in (
            "drift",
            "drift_share",
            "prediction_drift",
            "target_drift",
            "performance",
            "quality",
            "overfitting",
            "estimated_performance",
            "volume",
        ):
            assert check in kinds, check
        drift = results[results["check"] == "drift"]
        assert set(drift["method"]) == {"wasserstein", "jensenshannon"}
        assert drift["threshold"].eq(0.1).all()
        # the shadow version gets performance on the same windows
        shadow = store.read_results(model="flights", version=2)
        assert set(shadow["check"]) >= {"performance", "volume"} and "drift" not in set(shadow["check"])


def test_second_run_computes_nothing(demo_settings):
    with Store.open(demo_settings.db_path) as store:
        summary = run_monitoring(store=store, progress=lambda _: None)
    assert summary.total_computed == 0
    assert sum(summary.up_to_date.values()) > 0


def test_new_labels_recompute_only_their_window(demo_settings, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.db_path, db)
    with Store.open(db) as store:
        spec = store.get_spec("hotel")
        frame = store.query_df(
            "SELECT _entity_id, _ts FROM rows__hotel WHERE _split = 'production' "
            "AND _entity_id NOT IN (SELECT entity_id FROM labels WHERE model = 'hotel') LIMIT 1"
        )
        assert len(frame) == 1
        store.write_labels(
            model="hotel",
            labels=pd.DataFrame(
                {"entity_id": frame["_entity_id"], "label": [99.0], "label_ts": [pd.Timestamp("2017-09-10")]}
            ),
        )
        summary = run_monitoring(store=store, models=["hotel"], progress=lambda _: None)
    assert summary.computed["hotel"] == 2  # one window, for the live and the shadow version
    assert spec.window == "week"


def test_small_window_is_marked_not_enough_data(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        volume = store.read_results(model="churn", version=1, check="volume")
        small = volume[volume["value"] < 100]
        assert not small.empty and (small["status"] == "not_enough_data").all()
        others = store.read_results(model="churn", version=1)
        for ws in small["window_start"]:
            assert set(others[others["window_start"] == ws]["check"]) == {"volume"}
