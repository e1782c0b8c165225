"""A shared store's small files: every commit writes Parquet files of its own, and compaction merges them
without changing a value (real DuckLake catalog, tests/lakes.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.predictions import Predictions
from core.store import Store
from tests.lakes import lake_env
from tests.store.rows import hourly_churn_rows
from tests.test_cli import _cli


def test_compaction_merges_small_files_and_changes_no_value(lake_settings):
    with Store.at(lake_settings) as store:
        store.upsert_model(CHURN.spec)
        for b in range(30):  # thirty small commits, as a busy service sends them
            store.write_batch(
                spec=CHURN.spec,
                rows=hourly_churn_rows(10, 10 * b),
                predictions={1: Predictions(np.zeros(10), np.zeros(10))},
            )
        before = store.checksums()
        done = store.compact(keep_days=0)
        assert done["files_before"] >= 90  # rows, predictions and the batch record: a file each per commit
        assert done["files_after"] <= done["files_before"] // 10
        assert done["files_deleted"] >= done["files_before"] - done["files_after"]
        assert store.checksums() == before
        assert store.counts()["rows__churn"] == 300


def test_the_compact_command_says_what_it_did(lake_settings, settings):
    Store.at(lake_settings).close()
    out = _cli_lake("compact", "--keep-days", "0", cfg=lake_settings)
    assert out.returncode == 0, out.stderr
    assert "Data files:" in out.stdout and "unreferenced files deleted" in out.stdout
    Store.at(settings, create=True).close()
    out = _cli("compact", db=settings.db_path)
    assert out.returncode == 0 and "nothing to compact" in out.stdout


def _cli_lake(*args: str, cfg):
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=REPO_ROOT,
        env=lake_env(cfg),
        capture_output=True,
        text=True,
        timeout=300,
    )
