"""Permutation importance: a planted input ranks first and noise last, it is seeded and capped, and it is
measured when a version is registered (a version without it still works)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.modeling.features import target_codes
from core.modeling.importance import permutation_importance
from core.modeling.training import fit_model
from core.modeling.versions import register_version
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.store import Store
from core.store import stored_rows

ARCH = ArchConfig(hidden=(16,), max_epochs=15, patience=4, calendar=False, time_budget_s=None)


def planted_frame(n: int, *, seed: int, task: str) -> pd.DataFrame:
    """`signal` decides the outcome; `noise` and `colour` are drawn apart from it."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "case_id": [f"c{seed}-{i}" for i in range(n)],
            "seen_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "signal": signal,
            "noise": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    frame["outcome"] = np.where(signal > 0, "yes", "no") if task == "binary" else 3.0 * signal + 10.0
    return frame


def planted_spec(task: str) -> ModelSpec:
    classes = {"classes": ("no", "yes"), "positive_class": "yes"} if task == "binary" else {}
    return ModelSpec(
        name=f"planted_{task}",
        title=f"Planted {task}",
        task=task,
        target="outcome",
        timestamp="seen_at",
        entity="case_id",
        numerical=("signal", "noise"),
        categorical=("colour",),
        **classes,
    )


def reference_rows(spec: ModelSpec, train: pd.DataFrame, valid: pd.DataFrame) -> pd.DataFrame:
    ref = pd.concat([train, valid], ignore_index=True)
    return stored_rows(
        ref,
        ts=ref[spec.timestamp],
        entity_ids=ref[spec.entity],
        split=np.array(["train"] * len(train) + ["validation"] * len(valid)),
        reference_set="reference-1",
        target=target_codes(spec, ref[spec.target]),
    )


@pytest.fixture(scope="module", params=["binary", "regression"])
def planted(request):
    spec = planted_spec(request.param)
    train, valid = planted_frame(3000, seed=1, task=spec.task), planted_frame(1500, seed=2, task=spec.task)
    model, _ = fit_model(spec=spec, arch=ARCH, train=train, valid=valid, seed=3)
    return spec, model, reference_rows(spec, train, valid)


def as_read_back(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored rows as `Store.read_reference` gives them back: the outcome under `_label`."""
    return rows.rename(columns={"_target": "_label"})


def register(store, settings, spec, model, *, rows, said=None) -> int:
    """`model` as the live version of `spec` (`rows` its reference rows; None: it has none of its own)."""
    return register_version(
        store,
        settings=settings,
        spec=spec,
        model=model,
        report={},
        reference_set="reference-1" if rows is not None else "none",
        rows=rows,
        live=True,
        by="test",
        progress=said.append if said is not None else print,
    )


def test_the_planted_input_ranks_first_and_the_noise_last(planted):
    spec, model, rows = planted
    result = permutation_importance(model=model, rows=as_read_back(rows), version=1, seed=0)
    ranked = [f.feature for f in result.features]
    assert ranked[0] == "signal"
    assert set(ranked[1:]) == {"noise", "colour"}
    by = {f.feature: f for f in result.features}
    assert [f.rank for f in result.features] == [1, 2, 3]
    # shuffling the deciding input wrecks the answers; shuffling noise leaves them all but untouched
    if spec.task == "binary":
        assert result.metric == "roc_auc"
        assert by["signal"].importance > 0.3
        assert abs(by["noise"].importance) < 0.02 and abs(by["colour"].importance) < 0.02
    else:
        assert result.metric == "rmse"  # an error: importance is how much it grew
        assert by["signal"].importance > 1.0
        assert abs(by["noise"].importance) < 0.1 * by["signal"].importance
    assert all(f.spread >= 0 for f in result.features)
    assert result.weights()["signal"] > 0.8
    # measured on the validation rows only
    assert result.n_rows == int((rows["_split"] == "validation").sum())


def test_importance_is_seeded_and_capped(planted):
    _, model, rows = planted
    rows = as_read_back(rows)
    a = permutation_importance(model=model, rows=rows, version=1, seed=5, max_rows=400, repeats=3)
    b = permutation_importance(model=model, rows=rows, version=1, seed=5, max_rows=400, repeats=3)
    assert a.n_rows == 400
    assert a.features == b.features
    c = permutation_importance(model=model, rows=rows, version=1, seed=6, max_rows=400, repeats=3)
    assert c.features != a.features


def test_too_few_outcomes_are_refused_in_one_sentence(planted):
    _, model, rows = planted
    with pytest.raises(DataError, match="at least 50 reference rows"):
        permutation_importance(model=model, rows=as_read_back(rows).head(30), version=1)


def test_a_registered_version_has_its_importance_stored(planted, settings):
    spec, model, rows = planted
    with Store.open(settings.db_path, create=True) as store:
        store.upsert_model(spec)
        version = register(store, settings, spec, model, rows=rows)
        stored = store.read_importance(model=spec.name, version=version)
        assert stored is not None and stored.features[0].feature == "signal"
        assert stored.n_rows == int((rows["_split"] == "validation").sum())
        assert store.importance_versions(spec.name) == {version}
        # a version registered with no reference rows of its own: nothing to measure, still registered
        said = []
        store.upsert_model(spec.model_copy(update={"name": "bare"}))
        bare = register(store, settings, spec.model_copy(update={"name": "bare"}), model, rows=None, said=said)
        assert store.read_importance(model="bare", version=bare) is None
        assert store.live_version("bare").version == bare
        assert any("importance not measured" in s for s in said), said


def test_the_cli_measures_stored_versions_again(planted, settings):
    from tests.test_cli import _cli

    spec, model, rows = planted
    with Store.open(settings.db_path, create=True) as store:
        store.upsert_model(spec)
        register(store, settings, spec, model, rows=rows)
        before = store.read_importance(model=spec.name, version=1)
    out = _cli("importance", "--model", spec.name, db=settings.db_path, models_dir=settings.models_dir)
    assert out.returncode == 0, out.stderr
    assert f"{spec.name} v1: importance measured on 1,500 rows" in out.stdout and "(most: signal" in out.stdout
    with Store.open(settings.db_path, read_only=True) as store:
        again = store.read_importance(model=spec.name, version=1)
    # measured again (with the command's seed) and stored in place of the first measurement
    assert again.features[0].feature == "signal" and again.computed_at > before.computed_at
    wrong = _cli("importance", "--model", spec.name, "--version", "7", db=settings.db_path)
    assert wrong.returncode == 1 and f"v7 of `{spec.name}` cannot be measured" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    alone = _cli("importance", "--version", "1", db=settings.db_path)
    assert alone.returncode == 1 and "Name the model too" in alone.stderr
