"""The monitoring run on the reduced demo: every check, incremental windows, small windows."""

from __future__ import annotations

import pandas as pd

from core.monitoring.thresholds import Thresholds
from core.refresh import refresh
from core.store import Store


def _label_one_row(store: Store, model: str, *, label: float, label_ts: pd.Timestamp) -> pd.DataFrame:
    """Give the earliest production row of `model` that has no outcome one; returns its id and time."""
    row = store.query_df(
        f"SELECT _entity_id, _ts FROM rows__{model} WHERE _split = 'production' "  # noqa: S608 - a demo model's name
        f"AND _entity_id NOT IN (SELECT entity_id FROM labels WHERE model = ?) ORDER BY _ts LIMIT 1",
        [model],
    )
    assert len(row) == 1
    store.write_labels(
        model=model, labels=pd.DataFrame({"entity_id": row["_entity_id"], "label": [label], "label_ts": [label_ts]})
    )
    return row


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
        summary = refresh(store=store, progress=lambda _: None)
    assert summary.total_computed == 0
    assert sum(summary.up_to_date.values()) > 0


def test_new_labels_recompute_only_their_window(demo_settings, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.db_path, db)
    with Store.open(db) as store:
        spec = store.get_spec("hotel")
        _label_one_row(store, "hotel", label=99.0, label_ts=pd.Timestamp("2017-09-10"))
        summary = refresh(store=store, models=["hotel"], progress=lambda _: None)
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


def test_calibration_samples_follow_their_windows(demo_settings, tmp_path):
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.db_path, db)
    with Store.open(db) as store:
        spec = store.get_spec("flights")
        live = store.live_version("flights").version
        marks = store.calibration_marks(model="flights", version=live)
        counts = store.window_fingerprints(spec=spec)
        labelled = {pd.Timestamp(w) for w, n in zip(counts["window_start"], counts["n_labels"], strict=True) if n}
        assert set(marks) == labelled and len(labelled) > 3
        shadow = [v.version for v in store.list_versions("flights") if v.version != live]
        assert all(store.calibration_marks(model="flights", version=v) == {} for v in shadow)  # never estimated
        # the demo's windows are below the sample size: a calibration reads every answered row of its period
        start, end = min(labelled), max(labelled)
        read = store.read_calibration(
            spec=spec, version=live, start=start, end=end, known_by=end, max_rows=Thresholds().estimate_calibration_rows
        )
        truth = store.query_df(
            """SELECT count(*) AS n FROM rows__flights r
               JOIN predictions p ON p.model = 'flights' AND p.version = ? AND p.row_id = r._row_id
               JOIN labels l ON l.model = 'flights' AND l.entity_id = r._entity_id
               WHERE r._split = 'production' AND r._ts >= ? AND r._ts < ? AND l.label_ts <= ?""",
            [live, start, end, end],
        )
        assert len(read) == int(truth["n"][0]) > 1000 and (read["_weight"] == 1.0).all()
        # a late outcome for one old window makes that window's sample again, and no other
        row = _label_one_row(store, "flights", label=1.0, label_ts=pd.Timestamp("2030-01-01"))
        refresh(store=store, models=["flights"], progress=lambda _: None)
        after = store.calibration_marks(model="flights", version=live)
    changed = {w for w in after if after[w] != marks.get(w)}
    assert spec.window == "week" and changed == {pd.Timestamp(row["_ts"][0]).to_period("W-SUN").start_time}
