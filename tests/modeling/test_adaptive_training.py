"""Training adapts to the data: epochs until validation stops improving within a time budget, a
learning-rate schedule, calendar and cyclic encodings; quality on two datasets nothing was tuned on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.new_data import chicago
from bench.new_data import run
from bench.new_data import taxi
from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.modeling.features import Preprocessor
from core.modeling.registry import load_model
from core.modeling.registry import save_model
from core.modeling.training import fit_model
from core.monitoring.performance import gap_check
from core.monitoring.thresholds import Thresholds
from core.schema import ArchConfig


@pytest.fixture(scope="module")
def churn_parts():
    frame = CHURN.load(REPO_ROOT / "data")
    split = CHURN.split(frame)
    return {s: frame[split == s] for s in ("train", "validation")}


def test_training_stops_at_its_time_budget_and_says_why(churn_parts):
    arch = ArchConfig(hidden=(32,), max_epochs=10_000, patience=10_000, time_budget_s=1.0)
    model, trainer = fit_model(
        spec=CHURN.spec, arch=arch, train=churn_parts["train"], valid=churn_parts["validation"], seed=1
    )
    assert model.metadata["stopped_by"] == "the time budget"
    assert 1 <= len(trainer.history_) < 10_000 and model.metadata["training_seconds"] < 5


def test_the_learning_rate_halves_when_validation_stalls(churn_parts):
    arch = ArchConfig(hidden=(32,), max_epochs=40, patience=40, time_budget_s=None, lr=3e-3)
    _, trainer = fit_model(
        spec=CHURN.spec, arch=arch, train=churn_parts["train"], valid=churn_parts["validation"], seed=1
    )
    rates = trainer.history_.column("lr")
    assert rates[0] == pytest.approx(3e-3) and min(rates) <= 1.5e-3
    assert all(b <= a for a, b in zip(rates, rates[1:], strict=False))


def test_calendar_and_cyclic_encodings_are_learned_saved_and_used_alike(churn_parts, tmp_path):
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01 06:00", periods=500, freq="7h"),
            "hour": np.arange(500) % 24,
            "x": np.linspace(0, 1, 500),
        }
    )
    pre = Preprocessor(numerical=["hour", "x"], categorical=[], time_column="ts", calendar=True, cyclic=True).fit(frame)
    assert pre.calendar_ == ["hour", "weekday", "month"] and pre.cyclic_ == {"hour": "hour"}
    x, _ = pre.transform(frame)
    assert x.shape[1] == pre.n_numeric_inputs == 2 + 2 * 4
    stored = frame.rename(columns={"ts": "_ts"})  # stored rows carry the time as `_ts`
    assert np.allclose(Preprocessor.from_dict(pre.to_dict()).transform(stored)[0], x)
    dates_only = frame.assign(ts=pd.date_range("2024-01-01", periods=500, freq="D"))
    assert Preprocessor(numerical=["x"], categorical=[], time_column="ts", calendar=True).fit(dates_only).calendar_ == [
        "weekday",
        "month",
    ]
    arch = ArchConfig(hidden=(16,), max_epochs=2)
    model, _ = fit_model(
        spec=CHURN.spec, arch=arch, train=churn_parts["train"], valid=churn_parts["validation"], seed=1
    )
    assert model.preprocessor.calendar_  # signup times vary by weekday and month
    weights, digest, _ = save_model(model, models_dir=tmp_path, version=1)
    again = load_model(weights, expected_sha256=digest)
    assert np.allclose(
        again.predict(churn_parts["validation"]).probability, model.predict(churn_parts["validation"]).probability
    )


def test_the_overfitting_gap_is_judged_against_the_yardstick_on_the_same_split():
    th = Thresholds()
    alone = gap_check(metric="roc_auc", better=0.90, worse=0.78, thresholds=th, kind="train_validation", n_rows=100)
    assert alone.status != "ok"  # a 13% drop, with nothing to compare it with, is an alarm
    judged = gap_check(
        metric="roc_auc",
        better=0.90,
        worse=0.78,
        thresholds=th,
        kind="train_validation",
        n_rows=100,
        yardstick=(0.97, 0.79),
    )
    assert judged.status == "ok" and judged.value < 0 and "no more by heart than the yardstick" in judged.message
    worse = gap_check(
        metric="roc_auc",
        better=0.99,
        worse=0.70,
        thresholds=th,
        kind="train_validation",
        n_rows=100,
        yardstick=(0.80, 0.78),
    )
    assert worse.status != "ok" and "more than the yardstick" in worse.message


@pytest.mark.parametrize("case", [chicago, taxi], ids=["chicago ridership", "taxi tips"])
def test_default_training_comes_within_target_of_the_yardstick_on_data_it_was_never_tuned_for(case):
    result = run(case, ArchConfig())
    assert result["ok"], result
