"""The demo seed: deterministic replay, clear errors for broken data files."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pandas as pd
import pytest

from core.config import REPO_ROOT
from core.demo.datasets import load_flights
from core.demo.seed import seed_demo
from core.errors import DataError
from core.store import Store
from tests.conftest import make_settings


def _seed(root):
    cfg = make_settings(root)
    seed_demo(settings=cfg, names=["churn"], max_epochs=3, monitor=False, progress=lambda _: None)
    with Store.open(cfg.db_path, read_only=True) as store:
        preds = store.query_df(
            "SELECT version, entity_id, ts, prediction, probability FROM predictions ORDER BY version, entity_id, ts"
        )
        labels = store.query_df("SELECT entity_id, label, label_ts FROM labels ORDER BY entity_id")
        batches = store.query_df("SELECT kind, n_rows, source FROM batches ORDER BY created_at")
    return preds, labels, batches


def test_replay_is_deterministic(tmp_path):
    a = _seed(tmp_path / "a")
    b = _seed(tmp_path / "b")
    for left, right in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(left, right)
    preds, labels, batches = a
    assert len(preds) > 0 and len(labels) > 0
    # replayed month by month, labels a month behind: the newest month's outcomes have not arrived
    replay = batches[batches["source"].str.startswith("demo replay")]
    assert list(replay["source"]) == sorted(replay["source"])
    newest = preds[preds["version"] == 1]["ts"].max()
    assert newest >= pd.Timestamp("2018-03-01")
    assert labels["label_ts"].max() <= pd.Timestamp("2018-04-01")


def test_a_data_file_missing_a_column_is_named(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data)
    pd.read_parquet(data / "weather.parquet").drop(columns=["visib"]).to_parquet(data / "weather.parquet")
    with pytest.raises(DataError) as info:
        load_flights(data)
    assert info.value.user_message == f"{data / 'weather.parquet'} is missing the column `visib`."


def test_a_missing_data_file_is_named(tmp_path):
    cfg = replace(make_settings(tmp_path / "x"), data_dir=tmp_path / "nothing")
    with pytest.raises(DataError, match="telco_churn.parquet is missing"):
        seed_demo(settings=cfg, names=["churn"], monitor=False, progress=lambda _: None)
