"""The reduced demo stores the same monitoring results, statistics and alerts as it did before the
restructuring of `core/` (tests/golden/reduced_demo.json.gz, taken with the code of commit dd0aca6)."""

from __future__ import annotations

from tests.golden.snapshot import differences
from tests.golden.snapshot import load_golden
from tests.golden.snapshot import snapshot


def test_reduced_demo_stores_what_it_stored_before(demo_settings):
    expected = load_golden()
    actual = snapshot(demo_settings.db_path)
    assert list(actual) == list(expected)
    for table in expected:
        found = differences(expected[table], actual[table], where=table)
        assert not found, f"{len(found)} differences in {table}, first: " + "; ".join(found[:5])
    # the snapshot is not empty: every demo model has windows, checks and alerts
    for table in ("checks", "windows", "window_stats", "alerts"):
        assert {row[0 if table != "alerts" else 1] for row in expected[table]} == {"churn", "hotel", "flights"}
