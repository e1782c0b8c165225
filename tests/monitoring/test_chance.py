"""The chance test behind category drift: a many-valued input's sampling noise is not drift, a real shift is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo.datasets import FLIGHTS
from core.monitoring.chance import numeric_p_value
from core.monitoring.chance import shift_p_value
from core.monitoring.drift import drift_checks
from core.monitoring.drift import prepare_drift_reference
from core.monitoring.drift import target_drift_check
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


def _checks(reference, current: pd.DataFrame) -> list:
    """Every drift check of `current` against the prepared flights reference, with the default thresholds."""
    spec, prepared = reference
    return drift_checks(spec=spec, features=spec.features, reference=prepared, current=current, thresholds=Thresholds())


def test_a_thousand_rows_of_the_same_flights_do_not_say_the_destination_moved(flight_reference, reference):
    """`dest` (about 100 airports) is over the 0.1 Jensen-Shannon line in most same-distribution windows of
    1,000 rows; the chance test keeps it ok and says why, in words."""
    over = 0
    for seed in range(5):
        checks = _checks(reference, _window(flight_reference, 1_000, seed))
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
    current = _window(flight_reference, 1_000, 11)
    current.loc[: len(current) // 4, "dest"] = "ORD"  # a quarter of the flights now go to Chicago
    checks = _checks(reference, current)
    dest = next(c for c in checks if c.check == Check.DRIFT and c.column == "dest")
    assert dest.status == Status.WARN and dest.details["chance_p"] < 1e-6, dest.message
    assert "chance" not in dest.details and "has shifted" in dest.message


def test_numbers_p_values_of_one_distribution_are_spread_evenly_and_a_shift_is_far_below():
    rng = np.random.default_rng(1)
    ref = pd.Series(rng.lognormal(size=5_000))
    ps = np.array([numeric_p_value(ref, pd.Series(rng.lognormal(size=40))) for _ in range(400)])
    assert 0.02 <= (ps < 0.05).mean() <= 0.09
    assert numeric_p_value(ref, pd.Series(rng.lognormal(mean=0.8, size=40))) < 1e-4
    assert numeric_p_value(ref, pd.Series([np.nan, np.nan])) == 1.0  # nothing to test


def test_thirty_rows_of_the_same_flights_do_not_say_the_numbers_or_answers_moved(flight_reference, reference):
    """Normed Wasserstein's sampling floor (about 1/sqrt(n)) is over the 0.1 line at 30 rows: without the
    test most numeric inputs of an unchanged window were called shifted. A real shift at 30 rows still is."""
    spec, _ = reference
    numeric = [c for c in spec.features if c in spec.numerical]
    over = 0
    for seed in range(3):
        checks = _checks(reference, _window(flight_reference, 30, seed))
        for c in checks:
            if c.check == Check.DRIFT and c.column in numeric and c.value is not None and c.value >= 0.1:
                over += 1
                assert c.status == Status.OK and c.details["chance"] is True, c.message
                assert "30 rows a difference that size is the luck of the draw" in c.message
        answers = next(c for c in checks if c.check == Check.PREDICTION_DRIFT)
        assert answers.status == Status.OK, answers.message
        share = next(c for c in checks if c.check == Check.DRIFT_SHARE)
        assert share.status == Status.OK and not set(share.details["drifted"]) & set(numeric)
    assert over >= 3 * len(numeric) // 2  # the line alone would have called most of them drift
    moved = _window(flight_reference, 30, 7)
    moved["distance"] = moved["distance"] * 3
    moved["_probability"] = 0.9 + 0.1 * moved["_probability"]
    checks = _checks(reference, moved)
    distance = next(c for c in checks if c.check == Check.DRIFT and c.column == "distance")
    assert distance.status == Status.WARN and distance.details["chance_p"] < 0.001
    assert next(c for c in checks if c.check == Check.PREDICTION_DRIFT).status != Status.OK


def test_twenty_outcomes_of_the_same_flights_do_not_say_the_outcome_moved(flight_reference):
    """Twenty outcomes move the share of delayed flights past the outcome-drift line by chance in many
    windows; the chance test keeps those ok. Every flight delayed is a shift at any size."""
    spec = FLIGHTS.spec
    index = spec.class_index()
    rows = flight_reference.assign(_label=flight_reference[spec.target].astype(str).map(index).astype("float64"))
    rows = rows[rows["_label"].notna()]  # cancelled flights have no outcome
    prepared = prepare_drift_reference(spec, [], rows.assign(_probability=0.5), Thresholds())
    over = 0
    for seed in range(30):
        window = _window(rows, 20, seed)
        check = target_drift_check(spec=spec, reference=prepared, labelled=window, thresholds=Thresholds())
        if check.value >= Thresholds().target_drift.warn:
            over += 1
            assert check.status == Status.OK and check.details["chance"] is True, check.message
            assert "luck of the draw" in check.message
    assert over >= 3  # the line alone would have called it drift
    delayed = _window(rows, 20, 99).assign(_label=float(index[str(spec.positive_class)]))
    check = target_drift_check(spec=spec, reference=prepared, labelled=delayed, thresholds=Thresholds())
    assert check.status != Status.OK and check.details["chance_p"] < 0.001
