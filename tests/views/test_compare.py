"""Version comparison on the same traffic."""

from __future__ import annotations

import pandas as pd
import pytest

from core.demo.datasets import HOTEL
from core.store import Store
from core.views.compare import compare_versions


def test_comparison_interval_brackets_the_difference(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("hotel")
        stats = store.read_window_stats(model="hotel")
    result = compare_versions(spec, stats, a=1, b=2, metric="rmse")
    assert result.windows >= 10
    assert result.ci_low <= result.diff <= result.ci_high
    assert f"{result.b_better_windows} of {result.windows} weeks" in result.recommendation
    same = compare_versions(spec, stats, a=1, b=1, metric="rmse")
    assert same.diff == 0 and same.ci_low == 0 and same.ci_high == 0 and not same.significant
    assert "cannot yet tell them apart" in same.recommendation


def _regression_windows(errors_a: list[float], errors_b: list[float]) -> pd.DataFrame:
    """Window statistics of two hotel versions whose squared errors per row are the given values."""
    rows = []
    for version, errors in ((1, errors_a), (2, errors_b)):
        for k, err in enumerate(errors):
            n = 100
            stats = {"n": n, "n_labelled": n, "sum_sq_err": err**2 * n, "sum_abs_err": err * n, "sum_y": 100.0 * n}
            stats |= {"sum_y2": (100.0**2 + 25.0) * n, "money_error": err * n, "qty_labelled": n}
            rows.append({"version": version, "window_start": pd.Timestamp("2017-03-06") + pd.Timedelta(weeks=k)})
            rows[-1] |= {"n_labels": n, "stats": stats}
    return pd.DataFrame(rows)


@pytest.mark.parametrize("metric", ["rmse", "mae"])
def test_a_newer_version_that_is_worse_on_a_lower_is_better_metric_is_not_recommended(metric):
    stats = _regression_windows([20, 22, 19, 21, 20, 23], [30, 33, 29, 31, 32, 30])
    result = compare_versions(HOTEL.spec, stats, a=1, b=2, metric=metric)
    assert result.diff > 0 and result.significant
    assert result.b_is_better is False and result.recommended == 1
    assert (
        "v2 is really worse. Keep v1." in result.recommendation
        and "Consider making v2 live" not in result.recommendation
    )
    assert (
        "(lower is better)" in result.recommendation
        and "v2 did better than v1 in 0 of 6 weeks" in result.recommendation
    )
    flipped = compare_versions(HOTEL.spec, stats, a=2, b=1, metric=metric)
    assert flipped.b_is_better is True and flipped.recommended == 1
    assert "Consider making v1 live." in flipped.recommendation


def test_a_newer_version_that_is_worse_on_a_higher_is_better_metric_is_not_recommended():
    stats = _regression_windows([20, 22, 19, 21, 20, 23], [30, 33, 29, 31, 32, 30])
    result = compare_versions(HOTEL.spec, stats, a=1, b=2, metric="r2")
    assert result.diff < 0 and result.b_is_better is False and result.recommended == 1
