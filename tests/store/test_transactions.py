"""One transaction across table families: a composed write commits or rolls back as a whole."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from core.demo.datasets import CHURN
from core.predictions import Predictions
from core.store import Store
from core.store.rows import RowsFamily
from tests.store.rows import hourly_churn_rows


@pytest.fixture
def store(any_settings):
    with Store.at(any_settings, create=True) as s:
        yield s


def test_a_failure_inside_a_composed_write_leaves_no_family_changed(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_model(CHURN.spec)
        store.add_version(
            model="churn", version=1, weights_path=None, weights_sha256=None, reference_set="r", metadata={}, live=True
        )
        store.write_batch(
            spec=CHURN.spec, rows=hourly_churn_rows(10), predictions={1: Predictions(np.zeros(10), np.zeros(10))}
        )
        assert store.model_status("churn").production_rows == 10  # reads inside see the writes so far
        raise RuntimeError("the process fails before the end")
    assert store.list_specs() == [] and store.counts()["batches"] == 0
    assert store.conn.fetch("SELECT count(*) FROM promotions")[0][0] == 0


def test_the_same_writes_commit_together(store):
    with store.transaction():
        store.upsert_model(CHURN.spec)
        store.add_version(
            model="churn", version=1, weights_path=None, weights_sha256=None, reference_set="r", metadata={}, live=True
        )
        store.write_batch(
            spec=CHURN.spec, rows=hourly_churn_rows(10), predictions={1: Predictions(np.zeros(10), np.zeros(10))}
        )
    status = store.model_status("churn")
    assert status.live_version == 1 and status.production_rows == 10 and status.predictions == 10


def test_facade_methods_keep_the_family_signature_and_words():
    assert inspect.signature(Store.write_batch) == inspect.signature(RowsFamily.write_batch)
    assert Store.read_window.__doc__ == RowsFamily.read_window.__doc__


def test_deleting_a_model_empties_every_family(store):
    store.upsert_model(CHURN.spec)
    store.add_version(
        model="churn", version=1, weights_path=None, weights_sha256=None, reference_set="r", metadata={}, live=True
    )
    store.write_batch(
        spec=CHURN.spec, rows=hourly_churn_rows(5), predictions={1: Predictions(np.zeros(5), np.zeros(5))}
    )
    store.delete_model("churn")
    assert all(n == 0 for n in store.counts().values())
    assert "rows__churn" not in store.conn.tables()
