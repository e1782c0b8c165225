"""Retention: rows and outcomes older than N days go; the monitoring results of their windows stay, are
never recomputed from what is left, and the purge is in the audit log."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.progress import quiet
from core.refresh import apply_retention
from core.refresh import refresh
from core.store import Store
from core.store import rows_table_name


def _results(store: Store, model: str) -> pd.DataFrame:
    frame = store.read_results(model=model, version=1)
    return frame[frame["window_start"].notna()].sort_values(["window_start", "check", "metric"]).reset_index(drop=True)


def test_retention_deletes_old_rows_and_keeps_their_results(copied_any):
    with Store.at(copied_any) as store:
        table = rows_table_name("churn")
        ts = store.query_df(f"SELECT _ts FROM {table} WHERE _split = 'production' ORDER BY _ts")["_ts"]  # noqa: S608
        middle = pd.Timestamp(ts.iloc[len(ts) // 2])
        now = datetime(2026, 12, 1)
        days = (now - middle.to_pydatetime()).days
        before = _results(store, "churn")
        labels_before = int(store.query_df("SELECT count(*) AS n FROM labels WHERE model = 'churn'")["n"][0])
        alerts_before = store.list_alerts(model="churn")[["id", "state"]].sort_values("id").reset_index(drop=True)
        store.retention.set_retention(model="churn", days=days, by="maya@startup.com")
        rows, outcomes = apply_retention(store, model="churn", now=now)
        cutoff = store.retention.frozen_before("churn")
        assert rows > 0 and outcomes > 0 and pd.Timestamp(cutoff) <= middle + pd.Timedelta(days=1)
        left = store.query_df(f"SELECT min(_ts) AS t, count(*) AS n FROM {table} WHERE _split = 'production'")  # noqa: S608
        assert pd.Timestamp(left["t"][0]) >= pd.Timestamp(cutoff)
        reference = store.query_df(f"SELECT count(*) AS n FROM {table} WHERE _split <> 'production'")  # noqa: S608
        assert int(reference["n"][0]) > 0  # the reference rows are not production rows: they stay
        labels_after = int(store.query_df("SELECT count(*) AS n FROM labels WHERE model = 'churn'")["n"][0])
        assert labels_after == labels_before - outcomes
        orphans = store.query_df(
            f"SELECT count(*) AS n FROM predictions p WHERE p.model = 'churn' AND p.row_id NOT IN "  # noqa: S608
            f"(SELECT _row_id FROM {table})"
        )
        assert int(orphans["n"][0]) == 0
        summary = refresh(store=store, progress=quiet, models=["churn"])
        after = _results(store, "churn")
        old = before[pd.to_datetime(before["window_start"]) < pd.Timestamp(cutoff)]
        kept = after[pd.to_datetime(after["window_start"]) < pd.Timestamp(cutoff)]
        assert len(old) > 0
        pd.testing.assert_frame_equal(old.reset_index(drop=True), kept.reset_index(drop=True))
        assert summary.computed["churn"] == 0  # nothing recomputed from the rows that are left
        alerts_after = store.list_alerts(model="churn")[["id", "state"]].sort_values("id").reset_index(drop=True)
        pd.testing.assert_frame_equal(alerts_before, alerts_after)
        lines = store.audit.read(action="model.retention").to_dict("records")
        first = lines[-1]  # newest first: the purge made above (the refresh may purge a later day's rows too)
        assert f"deleted {rows} rows and {outcomes} outcomes" in first["detail"] and "results" in first["detail"]
        assert apply_retention(store, model="churn", now=now) == (0, 0)  # idempotent
