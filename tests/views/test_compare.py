"""Version comparison on the same traffic."""

from __future__ import annotations

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
