"""Drift from counts made in the store (big windows) against the Evidently path, on real demo windows.

The switch size is lowered to 0 here, so every demo window goes through the counted path and can be
compared with what Evidently computes on the same rows. Tolerance: 0.01 on every score (the bench
checks the same on a 1M-row window), the same drift verdict and status, the same drill-down chart.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.monitoring import drift as drift_module
from core.monitoring.binned import CELLS
from core.monitoring.binned import groups_of
from core.monitoring.binned import prepare_binned
from core.monitoring.binned import wasserstein
from core.monitoring.drift import drift_checks
from core.monitoring.drift import target_drift_check
from core.monitoring.evidently_adapter import DriftRequest
from core.monitoring.runner import counted_window
from core.monitoring.runner import run_monitoring
from core.monitoring.runner import version_context
from core.monitoring.thresholds import Thresholds
from core.monitoring.validity import usable
from core.monitoring.windows import make_window
from core.predictions import Predictions
from core.store import Store
from core.store import stored_rows

TOLERANCE = 0.01
DRIFT_CHECKS = ("drift", "drift_share", "prediction_drift", "target_drift")


def _same_chart(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], list) and a[key] and isinstance(a[key][0], float):
            np.testing.assert_allclose(a[key], b[key], atol=2e-5)
        elif isinstance(a[key], float):
            assert a[key] == pytest.approx(b[key], abs=2e-5), key
        elif key != "labels":  # categories of equal share may be listed in another order
            assert a[key] == b[key], key


def _compare(evidently: list, counted: list) -> float:
    assert [(c.check, c.column) for c in evidently] == [(c.check, c.column) for c in counted]
    worst = 0.0
    for e, c in zip(evidently, counted, strict=True):
        assert c.status == e.status, (e.column, e.value, c.value)
        assert c.n_rows == e.n_rows and c.method == e.method, e.column
        if e.value is None:
            assert c.value is None, e.column
            continue
        assert c.value == pytest.approx(e.value, abs=TOLERANCE), (e.column, e.value, c.value)
        worst = max(worst, abs(c.value - e.value))
        if e.check == "drift_share":
            assert c.details["drifted"] == e.details["drifted"]
        elif e.details.get("kind") == "cat":
            shares = dict(zip(e.details["labels"], e.details["current"], strict=True))
            assert dict(zip(c.details["labels"], c.details["current"], strict=True)) == pytest.approx(
                shares, abs=2e-5
            ), e.column
        else:
            _same_chart({k: v for k, v in e.details.items() if k != "sampled_rows"}, c.details)
    return worst


@pytest.mark.parametrize("model", ["churn", "hotel", "flights"])
def test_counted_drift_equals_evidently_on_every_demo_window(demo_settings, model):
    # counted windows are all above `drift_chance_rows` in use (PUSHDOWN_ROWS); here small windows are counted
    # too, so the numbers' chance test, which only the small ones get, is left out of the comparison
    th = Thresholds(drift_chance_rows=0)
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec(model)
        info = store.live_version(model)
        ctx = version_context(store, spec, info, th)
        worst, windows = 0.0, 0
        for start in store.window_fingerprints(spec=spec)["window_start"]:
            window = make_window(start, spec.window)
            rows = store.read_window(spec=spec, version=info.version, start=window.start, end=window.end)
            frame, _ = usable(spec, rows, ctx.numeric)
            counted = counted_window(store, ctx, window)
            assert counted.counts.rows == len(frame)
            kw = dict(spec=spec, features=ctx.features, reference=ctx.drift, thresholds=th)
            evidently = drift_checks(current=frame, **kw)
            worst = max(worst, _compare(evidently, drift_checks(current=frame.iloc[:0], counted=counted, **kw)))
            labelled = frame[frame["_label"].notna()]
            assert counted.counts.labelled == len(labelled)
            if len(labelled):
                kw = dict(spec=spec, reference=ctx.drift, thresholds=th)
                e = target_drift_check(labelled=labelled, **kw)
                c = target_drift_check(labelled=labelled.iloc[:0], counted=counted, **kw)
                worst = max(worst, _compare([e], [c]))
                for key in ("current_rate", "current_mean"):
                    if key in e.details:
                        assert c.details[key] == pytest.approx(e.details[key], abs=1e-9)
            windows += 1
    assert windows >= 4
    assert worst <= TOLERANCE


def test_the_runner_counts_big_windows_without_evidently(demo_settings, tmp_path, monkeypatch):
    """With the switch at 0 rows, a whole monitoring run stores the same drift results with no Evidently
    drift run at all (the Evidently path would raise here)."""
    # the demo's windows are small, where the Evidently path also tests numbers for chance: both runs leave
    # that test out (`drift_chance_rows` 0), as counted windows in use are all far above it
    th = Thresholds(drift_chance_rows=0)
    db, evidently_db = tmp_path / "copy.duckdb", tmp_path / "evidently.duckdb"
    shutil.copy(demo_settings.db_path, db)
    shutil.copy(demo_settings.db_path, evidently_db)

    def no_evidently(**_: object) -> None:
        raise AssertionError("a counted window ran Evidently for drift")

    with Store.open(evidently_db) as store:
        store.clear_monitoring(model="flights")
        run_monitoring(store=store, models=["flights"], thresholds=th, progress=lambda _: None)
        before = store.read_results(model="flights", version=1, with_details=True)
    monkeypatch.setattr(drift_module, "drift_scores", no_evidently)
    with Store.open(db) as store:
        store.clear_monitoring(model="flights")
        summary = run_monitoring(
            store=store, models=["flights"], thresholds=th, pushdown_rows=0, progress=lambda _: None
        )
        after = store.read_results(model="flights", version=1, with_details=True)
    assert summary.computed["flights"] > 0
    keys = ["check", "column", "window_start"]
    a = before[before["check"].isin(DRIFT_CHECKS)].sort_values(keys).reset_index(drop=True)
    b = after[after["check"].isin(DRIFT_CHECKS)].sort_values(keys).reset_index(drop=True)
    assert len(a) == len(b) > 0 and a[keys].astype(str).equals(b[keys].astype(str))
    assert (a["status"] == b["status"]).all()
    np.testing.assert_allclose(b["value"].astype(float), a["value"].astype(float), atol=TOLERANCE)
    for d, e in zip(a["details"], b["details"], strict=True):
        assert json.loads(d).get("drifted") == json.loads(e).get("drifted")


def test_unusable_values_are_set_aside_as_in_the_evidently_path(demo_settings, tmp_path):
    """Infinite and absurd inputs count as missing and rows without a usable answer leave the window, in
    SQL exactly as `usable` does in pandas."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.db_path, db)
    th = Thresholds(drift_chance_rows=0)  # small windows counted: as in the test above
    with Store.open(db) as store:
        spec = store.get_spec("flights")
        start = store.window_fingerprints(spec=spec)["window_start"].iloc[3]
        window = make_window(start, spec.window)
        rows = store.read_window(spec=spec, version=1, start=window.start, end=window.end).head(300)
        feats = rows[spec.features].reset_index(drop=True)
        feats.loc[:9, "humid"] = np.inf
        feats.loc[10:19, "distance"] = -1e16
        new = stored_rows(
            feats,
            ts=rows["_ts"].to_numpy(),
            entity_ids=[f"X{i}" for i in range(len(feats))],
            split="production",
            reference_set="",
        )
        p = rows["_probability"].to_numpy(copy=True)
        p[20:30] = np.nan
        p[30:35] = 1.5
        predictions = {v: Predictions(rows["_prediction"].to_numpy(), p) for v in (1, 2)}
        store.write_batch(spec=spec, rows=new, predictions=predictions, source="test")
        ctx = version_context(store, spec, store.live_version("flights"), th)
        rows = store.read_window(spec=spec, version=1, start=window.start, end=window.end)
        frame, finding = usable(spec, rows, ctx.numeric)
        assert finding is not None and finding.details["rows_left_out"] == 15
        counted = counted_window(store, ctx, window)
    assert counted.counts.rows == len(frame)
    for name in ("humid", "distance"):
        assert int(counted.counts.numbers[name]["n"].sum()) == int(frame[name].notna().sum())
    kw = dict(spec=spec, features=ctx.features, reference=ctx.drift, thresholds=th)
    _compare(drift_checks(current=frame, **kw), drift_checks(current=frame.iloc[:0], counted=counted, **kw))


def test_wasserstein_from_cells_equals_scipy_where_the_distributions_cross(flights):
    """Real flights values against a window that moved both ways (its distribution crosses the
    reference's many times) plus two far outliers, and the production values as they are; integer columns
    put atoms inside cells. The cells' W1 is within 1e-3 reference standard deviations of scipy's."""
    frame, split = flights
    rng = np.random.default_rng(3)
    for column in ("temp", "hour", "distance", "humid", "pressure", "wind_dir"):
        ref = frame.loc[split == "train", column].dropna().to_numpy(float)
        cur = frame.loc[split == "production", column].dropna().to_numpy(float)
        moved = np.where(rng.random(cur.size) < 0.5, cur * 1.1, cur * 0.93)
        moved = np.concatenate([moved, [ref.max() * 40, ref.min() - 1000]])
        prepared = prepare_binned(pd.DataFrame({column: ref}), [DriftRequest(column, "num")]).columns[column]
        bins = prepared.bins
        assert bins is not None and bins.per_bin * bins.bins >= CELLS
        for window in (moved, cur):
            ours = wasserstein(reference=prepared.groups, current=groups_of(window, bins=bins), bins=bins)
            exact = stats.wasserstein_distance(ref, window)
            assert abs(ours - exact) / np.std(ref) <= 1e-3, (column, ours, exact)
        same = wasserstein(reference=prepared.groups, current=groups_of(ref[::-1], bins=bins), bins=bins)
        assert same == pytest.approx(0.0, abs=1e-9 * np.std(ref))
