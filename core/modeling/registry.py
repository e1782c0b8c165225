"""Saving and loading model versions: a `state_dict` file plus JSON metadata, never a pickle.

Layout: `<models_dir>/<model>/v<N>/weights.pt` and `meta.json`. The metadata carries the feature
schema, preprocessing statistics, architecture, metrics, training time, data window and seed, plus
the SHA-256 of the weights file. Loading checks the hash, reads the weights with
`torch.load(..., weights_only=True)` and insists every tensor matches the architecture; any
problem becomes one :class:`ModelFileError` sentence.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import torch

from core.errors import ModelFileError
from core.modeling.features import Preprocessor
from core.modeling.features import TargetScaler
from core.modeling.network import TabularNet
from core.modeling.scoring import TrainedModel
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.store import Store

FORMAT = "modelpulse-tabular/1"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary name, fsync it, rename it over `path` and fsync the folder, so a kill at
    any moment leaves either the old file or the whole new one, never a part."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def recorded_path(weights: Path, *, store_path: Path) -> str:
    """How the store records a weights file: relative to the store's folder when it lies under it, so a
    store copied or restored with its `models/` folder works wherever it lands; absolute otherwise."""
    weights, base = Path(weights).resolve(), Path(store_path).resolve().parent
    try:
        return weights.relative_to(base).as_posix()
    except ValueError:
        return str(weights)


def weights_file(store: Store, info) -> Path:
    """Where a version's weights file is now.

    A relative record is read from the store's folder. Older stores recorded absolute paths, or paths
    relative to the directory the demo was seeded from; when that file is gone, the same version's file in
    `models/` beside the store is used, which is where a copied or restored store has it.
    """
    recorded = Path(info.weights_path)
    base = Path(store.path).parent
    primary = recorded if recorded.is_absolute() else base / recorded
    for candidate in (primary, base / "models" / info.model / f"v{info.version}" / "weights.pt", recorded):
        if candidate.is_file():
            return candidate
    return primary


def build_metadata(model: TrainedModel, *, version: int, extra: dict) -> dict:
    """Everything needed to rebuild and judge a version, as JSON-ready data."""
    return {
        "format": FORMAT,
        "version": version,
        "spec": json.loads(model.spec.model_dump_json()),
        "arch": json.loads(model.arch.model_dump_json()),
        "preprocessor": model.preprocessor.to_dict(),
        "target_scaler": None
        if model.target_scaler is None
        else {"mean": model.target_scaler.mean, "std": model.target_scaler.std, "log": model.target_scaler.log},
        "threshold": model.threshold,
        "n_numeric": model.preprocessor.n_numeric_inputs,
        "cardinalities": model.preprocessor.cardinalities,
        "torch": torch.__version__,
        **model.metadata,
        **extra,
    }


def save_model(
    model: TrainedModel, *, models_dir: Path, version: int, extra: dict | None = None
) -> tuple[Path, str, dict]:
    """Write weights and metadata for `version`; returns (weights path, sha256, metadata)."""
    folder = Path(models_dir) / model.spec.name / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "weights.pt"
    buffer = io.BytesIO()
    torch.save(model.net.state_dict(), buffer)
    write_atomically(weights, buffer.getvalue())
    digest = sha256_file(weights)
    meta = build_metadata(model, version=version, extra=extra or {})
    meta["weights_sha256"] = digest
    write_atomically(folder / "meta.json", json.dumps(meta, indent=1, default=float).encode())
    return weights, digest, meta


def _net_from_meta(meta: dict, spec: ModelSpec, arch: ArchConfig) -> TabularNet:
    out_dim = len(spec.classes) if spec.task == "multiclass" else 1
    return TabularNet.for_arch(
        arch, n_numeric=int(meta["n_numeric"]), cardinalities=[int(c) for c in meta["cardinalities"]], out_dim=out_dim
    )


def read_metadata(folder: Path) -> dict:
    """Read and minimally check `meta.json` in a version folder."""
    path = Path(folder) / "meta.json"
    if not path.is_file():
        raise ModelFileError(f"The model metadata file {path} is missing.")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"The model metadata file {path} is not valid JSON ({exc.__class__.__name__}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"The file {path} is not ModelPulse model metadata (expected format {FORMAT}).")
    return meta


def load_model(weights_path: Path | str, *, expected_sha256: str | None = None) -> TrainedModel:
    """Load a saved version, refusing anything tampered, truncated or mismatched.

    `expected_sha256` is the hash the store recorded when the version was saved; the file's own
    metadata hash is checked too.
    """
    weights = Path(weights_path)
    meta = read_metadata(weights.parent)
    if not weights.is_file():
        raise ModelFileError(f"The model weights file {weights} is missing.")
    digest = sha256_file(weights)
    for label, want in (("its metadata", meta.get("weights_sha256")), ("the store", expected_sha256)):
        if want is not None and want != digest:
            raise ModelFileError(
                f"The model weights file {weights} was changed after it was saved (its checksum does not match "
                f"{label}); retrain or restore the original file."
            )
    try:
        spec = ModelSpec.model_validate(meta["spec"])
        arch = ArchConfig.model_validate(meta["arch"])
        pre = Preprocessor.from_dict(meta["preprocessor"])
        ts = meta.get("target_scaler")
        scaler = TargetScaler(mean=float(ts["mean"]), std=float(ts["std"]), log=bool(ts["log"])) if ts else None
        net = _net_from_meta(meta, spec, arch)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"The model metadata in {weights.parent} is incomplete or wrong ({exc}).") from exc
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError) as exc:
        raise ModelFileError(
            f"The model weights file {weights} is damaged or is not a plain PyTorch state_dict; nothing was loaded."
        ) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(f"The model weights file {weights} does not hold a state_dict of tensors.")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).split("\n")[1].strip() if "\n" in str(exc) else str(exc)
        raise ModelFileError(
            f"The model weights file {weights} does not match its metadata's architecture ({first})."
        ) from exc
    net.eval()
    info = {k: v for k, v in meta.items() if k not in ("preprocessor",)}
    return TrainedModel(
        spec=spec,
        arch=arch,
        net=net,
        preprocessor=pre,
        target_scaler=scaler,
        threshold=float(meta.get("threshold", 0.5)),
        metadata=info,
    )


def load_version(store: Store, *, model: str, version: int | None = None) -> TrainedModel:
    """Load `version` of `model` (the live one when None) as recorded in the store."""
    info = store.live_version(model) if version is None else store.get_version(model, version)
    if info is None:
        raise ModelFileError(f"Model `{model}` has no live version yet.")
    if not info.weights_path:
        raise ModelFileError(
            f"Model `{model}` v{info.version} makes its predictions outside ModelPulse; there is no network to load."
        )
    return load_model(weights_file(store, info), expected_sha256=info.weights_sha256)
