"""The Evidently adapter: drift verdicts, normalised directions, guarded pitfalls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.demo.datasets import FLIGHTS
from core.monitoring.drift import drift_checks
from core.monitoring.evidently_adapter import DriftRequest
from core.monitoring.evidently_adapter import drift_scores
from core.monitoring.evidently_adapter import is_drifted
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import Status


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
