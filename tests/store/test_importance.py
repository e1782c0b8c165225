"""The importance family: a version's importance reads back as it was saved, a new save replaces it, and
deleting the model forgets it."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.store import FeatureImportance
from core.store import Store
from core.store import VersionImportance


def measured(version: int, *values: tuple[str, float]) -> VersionImportance:
    return VersionImportance(
        model="churn",
        version=version,
        metric="roc_auc",
        n_rows=1234,
        features=tuple(FeatureImportance(f, imp, 0.01, rank) for rank, (f, imp) in enumerate(values, 1)),
        computed_at=datetime(2024, 5, 1, 9, 30),
    )


def test_importance_round_trips_and_a_new_save_replaces_the_old(any_settings):
    with Store.at(any_settings, create=True) as store:
        assert store.read_importance(model="churn", version=1) is None
        first = measured(1, ("tenure", 0.12), ("contract", 0.05), ("gender", -0.001))
        store.save_importance(first)
        store.save_importance(measured(2, ("contract", 0.2)))
        assert store.read_importance(model="churn", version=1) == first
        assert store.importance_versions("churn") == {1, 2}

        again = measured(1, ("contract", 0.3), ("tenure", 0.1))
        store.save_importance(again)
        back = store.read_importance(model="churn", version=1)
        assert back == again and [f.feature for f in back.features] == ["contract", "tenure"]
        # shares: of the positive importance only, summing to one
        assert back.weights() == pytest.approx({"contract": 0.75, "tenure": 0.25})
        assert list(back.frame()["share"]) == pytest.approx([0.75, 0.25])

        store.delete_model("churn")
        assert store.read_importance(model="churn", version=1) is None
        assert store.importance_versions("churn") == set()


def test_negative_importance_counts_for_nothing(tmp_path):
    result = measured(1, ("gender", -0.01), ("partner", 0.0))
    assert result.weights() == {"gender": 0.0, "partner": 0.0}
