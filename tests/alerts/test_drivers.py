"""Drivers: a drift alert names, in one sentence, the inputs behind the change that matter to the model, and
which way they moved; an input that moved but that the model ignores is not blamed; no importance, no
sentence. Real drift checks (Evidently) on a planted shift, stored in and read back from a real store."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from core.alerts import evaluate_alerts
from core.monitoring.drift import drift_checks
from core.monitoring.drivers import drift_drivers
from core.monitoring.drivers import drivers_sentence
from core.monitoring.drivers import importance_sentence
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.results import WindowResult
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.store import FeatureImportance
from core.store import Store
from core.store import VersionImportance

SPEC = ModelSpec(
    name="stays",
    title="Hotel stays",
    task="binary",
    target="cancelled",
    timestamp="booked_at",
    entity="booking_id",
    numerical=("lead_time", "special_requests", "adults"),
    categorical=("market_segment",),
    classes=("no", "yes"),
    positive_class="yes",
    business=BusinessConfig(entity="booking"),
)
START = datetime(2024, 3, 4)


def frame(n: int, *, seed: int, shifted: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    online = 0.7 if shifted else 1 / 3
    other = (1 - online) / 2
    return pd.DataFrame(
        {
            "lead_time": rng.normal(60 + (25 if shifted else 0), 25, n),
            "special_requests": rng.normal(1 + (3 if shifted else 0), 1, n),
            "adults": rng.normal(2, 0.5, n),
            "market_segment": rng.choice(["Online", "Offline", "Corporate"], size=n, p=[online, other, other]),
            "_probability": rng.uniform(size=n),
        }
    )


def measured(**values: float) -> VersionImportance:
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    return VersionImportance(
        model=SPEC.name,
        version=1,
        metric="roc_auc",
        n_rows=3000,
        features=tuple(FeatureImportance(f, v, 0.001, r) for r, (f, v) in enumerate(ranked, 1)),
    )


@pytest.fixture(scope="module")
def checks() -> list[CheckResult]:
    """Lead time and requests went up, more bookings came from Online; the number of adults stayed put."""
    reference, current = frame(3000, seed=1, shifted=False), frame(1000, seed=2, shifted=True)
    found = drift_checks(
        spec=SPEC, features=SPEC.features, reference=reference, current=current, thresholds=Thresholds()
    )
    moved = {c.column for c in found if c.check == Check.DRIFT and c.status == Status.WARN}
    assert moved == {"lead_time", "special_requests", "market_segment"}
    volume = CheckResult(check=Check.VOLUME, metric="rows", value=1000.0, status=Status.OK, message="1,000 rows.")
    worse = CheckResult(
        check=Check.PERFORMANCE,
        metric="roc_auc",
        value=0.61,
        reference=0.84,
        status=Status.ALERT,
        n_rows=1000,
        message="Ranking quality 0.61 against 0.84.",
    )
    return [volume, worse, *found]


@pytest.fixture
def store(tmp_path, checks):
    """A store holding one window with those checks, read back as the alerts read it."""
    with Store.open(tmp_path / "s.duckdb", create=True) as s:
        s.upsert_model(SPEC)
        result = WindowResult(
            model=SPEC.name,
            version=1,
            start=START,
            end=datetime(2024, 3, 11),
            n_rows=1000,
            n_labels=0,
            fingerprint="planted",
            checks=tuple(checks),
        )
        s.save_window(result=result, scope="full")
        yield s


def window(store: Store) -> pd.DataFrame:
    return store.read_results(model=SPEC.name, version=1, with_details=True)


def test_the_input_the_model_relies_on_drives_the_change_and_its_direction_is_said(store):
    importance = measured(lead_time=0.20, market_segment=0.05, special_requests=0.0005, adults=0.1)
    drivers = drift_drivers(spec=SPEC, window=window(store), importance=importance)
    assert [d.column for d in drivers] == ["lead_time", "market_segment", "special_requests"]
    assert drivers[0].direction == "higher lead time"
    assert drivers[1].direction == "more bookings with market segment Online"
    assert sum(d.share for d in drivers) == pytest.approx(1.0)
    # requests moved furthest of all, but the model barely uses them
    assert max(drivers, key=lambda d: d.drift).column == "special_requests"
    assert drivers[-1].share < 0.05
    sentence = drivers_sentence(spec=SPEC, window=window(store), importance=importance)
    assert sentence == "Almost all of the change comes from higher lead time.", sentence


def test_the_inputs_that_make_up_most_of_the_change_are_named(store):
    importance = measured(lead_time=0.04, market_segment=0.20, special_requests=0.01)
    sentence = drivers_sentence(spec=SPEC, window=window(store), importance=importance)
    assert sentence == (
        "Most of the change comes from more bookings with market segment Online and higher lead time."
    ), sentence


def test_inputs_the_model_ignores_are_not_blamed(store):
    importance = measured(lead_time=0.001, market_segment=0.001, special_requests=0.0, adults=0.3)
    sentence = drivers_sentence(spec=SPEC, window=window(store), importance=importance)
    assert sentence == (
        "The inputs that moved (special requests, lead time and market segment) barely affect the model's answers."
    ), sentence


def test_the_drift_alert_names_the_most_important_drifted_input(store):
    store.save_importance(measured(lead_time=0.20, market_segment=0.05, special_requests=0.0005))
    changes = evaluate_alerts(store=store, spec=SPEC, version=1)
    drift = next(a for a in changes.alerts if a.rule == "drift")
    assert "Almost all of the change comes from higher lead time." in drift.what, drift.what
    assert drift.what.endswith(".") and "special requests" in drift.what.split("Almost all")[0]
    # the quality alert of the same window says what changed beneath it
    worse = next(a for a in changes.alerts if a.rule == "performance")
    assert worse.what.endswith("Almost all of the change comes from higher lead time."), worse.what


def test_without_importance_the_alert_says_no_drivers(store):
    changes = evaluate_alerts(store=store, spec=SPEC, version=1)
    drift = next(a for a in changes.alerts if a.rule == "drift")
    assert "of the change" not in drift.what
    assert drivers_sentence(spec=SPEC, window=window(store), importance=None) == ""


def test_a_window_where_nothing_moved_says_so():
    reference, current = frame(3000, seed=1, shifted=False), frame(1000, seed=3, shifted=False)
    found = drift_checks(
        spec=SPEC, features=SPEC.features, reference=reference, current=current, thresholds=Thresholds()
    )
    rows = pd.DataFrame(
        [{"check": str(c.check), "column": c.column, "value": c.value, "status": str(c.status)} for c in found]
    )
    importance = measured(lead_time=0.2, market_segment=0.05, special_requests=0.01, adults=0.1)
    assert drift_drivers(spec=SPEC, window=rows, importance=importance) == []
    said = drivers_sentence(spec=SPEC, window=rows, importance=importance)
    assert said == "No input moved far from the data the model learned from."


def test_what_drives_the_answers_in_one_sentence():
    assert importance_sentence(None) == ""
    said = importance_sentence(measured(lead_time=0.3, market_segment=0.1, special_requests=-0.01))
    assert said == (
        "The model's answers depend most on lead time and market segment: together 100% of what its inputs explain."
    )
