"""The monitoring run on the reduced demo: every check, incremental windows, small windows."""

from __future__ import annotations

import pandas as pd

from core.refresh import refresh
from core.store import Store


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
        frame = store.query_df(
            "SELECT _entity_id, _ts FROM rows__hotel WHERE _split = 'production' "
            "AND _entity_id NOT IN (SELECT entity_id FROM labels WHERE model = 'hotel') LIMIT 1"
        )
        assert len(frame) == 1
        store.write_labels(
            model="hotel",
            labels=pd.DataFrame(
                {"entity_id": frame["_entity_id"], "label": [99.0], "label_ts": [pd.Timestamp("2017-09-10")]}
            ),
        )
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
