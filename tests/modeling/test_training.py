"""Training, save/load and the model registry's refusal of bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.demo.datasets import HOTEL
from core.errors import ModelFileError
from core.errors import TrainingError
from core.modeling.registry import load_model
from core.modeling.registry import save_model
from core.modeling.training import evaluate
from core.modeling.training import fit_model
from core.schema import ArchConfig


@pytest.fixture(scope="module")
def churn_parts():
    frame = CHURN.load(REPO_ROOT / "data")
    split = CHURN.split(frame)
    return {s: frame[split == s] for s in ("train", "validation", "production")}


@pytest.fixture(scope="module")
def churn_model(churn_parts):
    arch = ArchConfig(hidden=(32, 16), max_epochs=15, patience=4)
    return fit_model(spec=CHURN.spec, arch=arch, train=churn_parts["train"], valid=churn_parts["validation"], seed=3)


def test_training_converges_on_real_slice(churn_model, churn_parts):
    model, trainer = churn_model
    losses = trainer.history_.column("train_loss")
    assert losses[-1] < losses[0] * 0.9, losses
    # churn in the shipped data is predictable: a coin flip scores 0.5
    assert evaluate(model, churn_parts["validation"])["roc_auc"] > 0.72
    assert 1 <= trainer.best_epoch_ <= len(trainer.history_)


def test_regression_model_learns_prices():
    frame = HOTEL.load(REPO_ROOT / "data")
    split = HOTEL.split(frame)
    train, valid = frame[split == "train"], frame[split == "validation"]
    model, _ = fit_model(spec=HOTEL.spec, arch=ArchConfig(hidden=(32,), max_epochs=8), train=train, valid=valid, seed=1)
    rmse = evaluate(model, valid)["rmse"]
    naive = float(np.sqrt(np.mean((valid["avg_price_per_room"] - train["avg_price_per_room"].mean()) ** 2)))
    assert rmse < naive * 0.7


def test_training_is_seeded(churn_parts):
    arch = ArchConfig(hidden=(16,), max_epochs=3)
    a, _ = fit_model(spec=CHURN.spec, arch=arch, train=churn_parts["train"], valid=churn_parts["validation"], seed=11)
    b, _ = fit_model(spec=CHURN.spec, arch=arch, train=churn_parts["train"], valid=churn_parts["validation"], seed=11)
    np.testing.assert_array_equal(
        a.predict(churn_parts["production"]).probability, b.predict(churn_parts["production"]).probability
    )


def test_one_class_target_is_refused(churn_parts):
    train = churn_parts["train"][churn_parts["train"]["churn"] == "No"]
    with pytest.raises(TrainingError, match="only one class"):
        fit_model(spec=CHURN.spec, arch=ArchConfig(max_epochs=1), train=train, valid=churn_parts["validation"], seed=1)


@pytest.fixture
def saved(churn_model, tmp_path) -> tuple[Path, str]:
    model, _ = churn_model
    path, digest, _ = save_model(model, models_dir=tmp_path, version=1)
    return path, digest


def test_save_load_round_trip_gives_identical_predictions(churn_model, churn_parts, saved):
    model, _ = churn_model
    path, digest = saved
    loaded = load_model(path, expected_sha256=digest)
    before = model.predict(churn_parts["production"])
    after = loaded.predict(churn_parts["production"])
    np.testing.assert_array_equal(before.probability, after.probability)
    assert loaded.spec == model.spec
    meta = json.loads((path.parent / "meta.json").read_text())
    for key in ("spec", "preprocessor", "arch", "training_seconds", "seed", "weights_sha256"):
        assert key in meta


def test_tampered_weights_are_refused(saved):
    path, digest = saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="changed after it was saved"):
        load_model(path, expected_sha256=digest)


def test_truncated_weights_are_refused_in_one_sentence(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:200])
    meta_path = path.parent / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("weights_sha256")  # a truncation nobody recorded a checksum for
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert "damaged" in info.value.user_message
    assert "\n" not in info.value.user_message


class _Evil:
    def __reduce__(self):
        return (Path("/tmp/modelpulse-pwned").touch, ())


def test_pickled_object_is_never_unpickled(saved):
    path, _ = saved
    marker = Path("/tmp/modelpulse-pwned")
    marker.unlink(missing_ok=True)
    torch.save({"layer": _Evil()}, path)
    meta_path = path.parent / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("weights_sha256")
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not marker.exists()


def test_weights_that_do_not_match_the_metadata_are_refused(saved):
    path, _ = saved
    state = torch.load(path, weights_only=True)
    state["head.weight"] = torch.zeros(1, 3)
    torch.save(state, path)
    meta_path = path.parent / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("weights_sha256")
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="does not match its metadata"):
        load_model(path)


def test_wrong_schema_metadata_is_refused(saved):
    path, _ = saved
    (path.parent / "meta.json").write_text(json.dumps({"format": "something-else/9"}))
    with pytest.raises(ModelFileError, match="not ModelPulse model metadata"):
        load_model(path)


def test_missing_weights_file(saved, tmp_path):
    path, _ = saved
    shutil.copy(path.parent / "meta.json", tmp_path / "meta.json")
    with pytest.raises(ModelFileError, match="missing"):
        load_model(tmp_path / "weights.pt")
