"""register_version: the one way a trained network becomes a stored version, in one transaction."""

from __future__ import annotations

import pytest

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.errors import DataError
from core.metrics import within_yardstick
from core.modeling.features import target_codes
from core.modeling.training import train_with_yardstick
from core.modeling.versions import register_version
from core.modeling.yardstick import yardstick_rows
from core.schema import ArchConfig
from core.store import Store
from core.store import stored_rows


@pytest.fixture(scope="module")
def trained():
    frame = CHURN.load(REPO_ROOT / "data")
    split = CHURN.split(frame)
    parts = {s: frame[split == s] for s in ("train", "validation")}
    arch = ArchConfig(hidden=(16,), max_epochs=2)
    model, report = train_with_yardstick(
        spec=CHURN.spec, arch=arch, train=parts["train"], valid=parts["validation"], test=None, seed=1
    )
    ref = frame[split != "production"]
    rows = stored_rows(
        ref,
        ts=ref[CHURN.spec.timestamp],
        entity_ids=ref[CHURN.spec.entity],
        split=split[ref.index].to_numpy(),
        reference_set="reference-3",
        target=target_codes(CHURN.spec, ref[CHURN.spec.target]),
    )
    return model, report, rows


def test_a_new_version_is_recorded_in_the_shadow_and_scores_every_stored_row(copied, trained):
    model, report, rows = trained
    with Store.open(copied.db_path) as store:
        before = store.model_status("churn").predictions
        stored = store.counts()["rows__churn"]
        version = register_version(
            store,
            settings=copied,
            spec=store.get_spec("churn"),
            model=model,
            report=report,
            reference_set="reference-3",
            rows=rows,
            live=False,
            by="test",
        )
        assert version == 3
        assert store.live_version("churn").version == 1
        assert store.rows_without_predictions(spec=CHURN.spec, version=3).empty
        # its reference rows are scored by every version; every older row by the new one
        assert store.model_status("churn").predictions == before + 3 * len(rows) + stored
        assert store.get_version("churn", 3).metadata["baseline"]["name"] == "HistGradientBoosting"


def test_a_version_that_fails_while_scoring_leaves_nothing_behind(copied, trained):
    model, report, rows = trained
    with Store.open(copied.db_path) as store:
        before = store.counts()
        with pytest.raises(DataError, match="no column `tenure`"):
            register_version(
                store,
                settings=copied,
                spec=store.get_spec("churn"),
                model=model,
                report=report,
                reference_set="reference-3",
                rows=rows.drop(columns=["tenure"]),
                live=True,
                by="test",
            )
        assert store.counts() == before
        assert [v.version for v in store.list_versions("churn")] == [1, 2]


def test_the_yardstick_margin_points_the_right_way_for_scores_and_errors():
    assert within_yardstick("roc_auc", 0.75, 0.76) and not within_yardstick("roc_auc", 0.73, 0.76)
    assert within_yardstick("rmse", 10.9, 10.0) and not within_yardstick("rmse", 11.1, 10.0)
    report = {"metrics": {"validation": {"rmse": 11.0}}, "baseline": {"validation": {"rmse": 10.5}}}
    (row,) = yardstick_rows(
        CHURN.spec.model_copy(update={"task": "regression", "classes": (), "positive_class": None}), report
    )
    assert row.metric == "rmse" and row.within_target and row.as_dict()["within target"]
