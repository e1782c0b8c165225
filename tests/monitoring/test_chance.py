"""The chance test behind category drift: a many-valued input's sampling noise is not drift, a real shift is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo.datasets import FLIGHTS
from core.monitoring.chance import shift_p_value
from core.monitoring.drift import drift_checks
from core.monitoring.drift import prepare_drift_reference
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import Status


def _counts(values: np.ndarray) -> pd.Series:
    return pd.Series(values).value_counts()


def test_p_values_of_one_distribution_are_spread_evenly_and_a_shift_is_far_below():
    """Same-distribution samples over 100 values (many of them rare) give roughly uniform p: about 5% of
    them under 0.05 and about 1% under 0.01; moving ten points of share to one value gives p near zero."""
    rng = np.random.default_rng(0)
    shares = rng.dirichlet(np.full(100, 0.5))
    ref = _counts(rng.choice(100, size=12_000, p=shares))
    ps = np.array([shift_p_value(ref, _counts(rng.choice(100, size=1_000, p=shares))) for _ in range(600)])
    assert 0.02 <= (ps < 0.05).mean() <= 0.09
    assert (ps < 0.01).mean() <= 0.025
    moved = shares * 0.9
    moved[0] += 0.1
    assert shift_p_value(ref, _counts(rng.choice(100, size=1_000, p=moved))) < 1e-6


def test_nothing_to_test_is_not_a_shift():
    one = pd.Series({"a": 10})
    assert shift_p_value(one, pd.Series({"a": 3})) == 1.0
    assert shift_p_value(pd.Series({"a": 10, "b": 5}), pd.Series(dtype="int64")) == 1.0


def _window(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    out = frame.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    out["_probability"] = np.random.default_rng(seed).random(n)
    return out


@pytest.fixture(scope="module")
def reference(flight_reference):
    ref = flight_reference.copy()
    ref["_probability"] = np.random.default_rng(9).random(len(ref))
    spec = FLIGHTS.spec
    return spec, prepare_drift_reference(spec, spec.features, ref, Thresholds())


def test_a_thousand_rows_of_the_same_flights_do_not_say_the_destination_moved(flight_reference, reference):
    """`dest` (about 100 airports) is over the 0.1 Jensen-Shannon line in most same-distribution windows of
    1,000 rows; the chance test keeps it ok and says why, in words."""
    spec, prepared = reference
    over = 0
    for seed in range(5):
        checks = drift_checks(
            spec=spec,
            features=spec.features,
            reference=prepared,
            current=_window(flight_reference, 1_000, seed),
            thresholds=Thresholds(),
        )
        dest = next(c for c in checks if c.check == Check.DRIFT and c.column == "dest")
        assert dest.status == Status.OK, dest.message
        if dest.value >= 0.1:
            over += 1
            assert dest.details["chance"] is True and dest.details["chance_p"] >= 0.001
            assert "luck of the draw" in dest.message and "1,000 rows" in dest.message
            assert f"{dest.details['values']:,} values" in dest.message
        share = next(c for c in checks if c.check == Check.DRIFT_SHARE)
        assert "dest" not in share.details["drifted"]
    assert over >= 3  # the line alone would have called it drift


def test_a_real_shift_in_a_category_still_drifts_at_a_thousand_rows(flight_reference, reference):
    spec, prepared = reference
    current = _window(flight_reference, 1_000, 11)
    current.loc[: len(current) // 4, "dest"] = "ORD"  # a quarter of the flights now go to Chicago
    checks = drift_checks(
        spec=spec, features=spec.features, reference=prepared, current=current, thresholds=Thresholds()
    )
    dest = next(c for c in checks if c.check == Check.DRIFT and c.column == "dest")
    assert dest.status == Status.WARN and dest.details["chance_p"] < 1e-6, dest.message
    assert "chance" not in dest.details and "has shifted" in dest.message
