"""Workflows that tie training, scoring and the store together (used by the CLI and the pages)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.config import Settings
from core.errors import DataError
from core.registry import load_version
from core.registry import save_model
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.scoring import TrainedModel
from core.store import Store
from core.training import train_with_yardstick

Progress = Callable[[str], None]


def scoring_versions(store: Store, name: str) -> dict[int, TrainedModel]:
    """Every version of `name` that has a network: the live one scores, the others shadow-score."""
    out = {}
    for info in store.list_versions(name):
        if info.weights_path:
            out[info.version] = load_version(store, model=name, version=info.version)
    return out


def backfill(store: Store, *, name: str, version: int, model: TrainedModel, progress: Progress = print) -> int:
    """Shadow-score every stored row of `name` that `version` has not scored yet, so versions compare on
    the same traffic. Returns the number of rows scored."""
    spec = store.get_spec(name)
    missing = store.rows_without_predictions(spec=spec, version=version)
    if missing.empty:
        return 0
    progress(f"  scoring {len(missing):,} stored rows with v{version}")
    store.write_predictions(
        spec=spec,
        version=version,
        row_ids=missing["_row_id"].to_numpy(),
        ts=missing["_ts"].to_numpy(),
        entity_ids=missing["_entity_id"].to_numpy(),
        predictions=model.predict(missing),
    )
    return len(missing)


def time_split(frame: pd.DataFrame, *, timestamp: str, validation_share: float = 0.2) -> pd.Series:
    """Split labelled training data by time: the oldest (1 - share) train, the newest share validates."""
    ts = pd.to_datetime(frame[timestamp])
    cut = ts.quantile(1 - validation_share)
    return pd.Series(np.where(ts < cut, "train", "validation"), index=frame.index)


def train_new_version(
    *,
    store: Store,
    settings: Settings,
    name: str,
    frame: pd.DataFrame,
    split: pd.Series,
    arch: ArchConfig,
    live: bool,
    by: str,
    progress: Progress = print,
) -> tuple[int, dict]:
    """Train, save and register a new version of `name` on `frame` (split into train/validation[/test]).

    The version's reference rows are stored under their own set, and it shadow-scores every stored
    production row so the compare page has the same traffic for all versions.
    """
    spec = store.get_spec(name)
    labelled = frame[frame[spec.target].notna()]
    parts = {s: labelled[split.loc[labelled.index] == s] for s in ("train", "validation", "test")}
    if parts["train"].empty or parts["validation"].empty:
        raise DataError("Training needs rows in both the training and the validation period.")
    version = store.next_version(name)
    progress(f"Training {name} v{version} on {len(parts['train']):,} rows, validating on {len(parts['validation']):,}")
    progress("  the HistGradientBoosting yardstick is trained on the same split afterwards")
    model, extra = train_with_yardstick(
        spec=spec,
        arch=arch,
        train=parts["train"],
        valid=parts["validation"],
        test=parts["test"],
        seed=settings.seed,
        progress=lambda e, n, tl, vl: progress(f"  epoch {e}/{n}: loss {tl:.4f}, validation {vl:.4f}"),
    )
    path, digest, meta = save_model(model, models_dir=settings.models_dir, version=version, extra=extra)
    reference_set = f"reference-{version}"
    ref = pd.concat([parts["train"], parts["validation"]])
    rows = ref.copy()
    rows["_split"] = split.loc[ref.index].to_numpy()
    rows["_set"] = reference_set
    rows["_ts"] = pd.to_datetime(ref[spec.timestamp])
    rows["_entity_id"] = ref[spec.entity].astype("string")
    target = ref[spec.target].astype("string").map(spec.class_index()) if spec.is_classification else ref[spec.target]
    rows["_target"] = pd.to_numeric(target, errors="coerce")
    store.add_version(
        model=name,
        version=version,
        weights_path=str(path),
        weights_sha256=digest,
        reference_set=reference_set,
        metadata={k: v for k, v in meta.items() if k != "preprocessor"},
        live=live,
        by=by,
    )
    others = {v: m for v, m in scoring_versions(store, name).items() if v != version}
    preds = {version: model.predict(rows)}
    preds.update({v: m.predict(rows) for v, m in others.items()})
    store.write_batch(spec=spec, rows=rows, predictions=preds, source=f"reference for v{version}", kind="reference")
    backfill(store, name=name, version=version, model=model, progress=progress)
    return version, extra


def update_business(store: Store, *, model: str, **changes: object) -> ModelSpec:
    """Change the money settings of a model (value per outcome, retention rate, ...) and save them."""
    from pydantic import ValidationError

    from core.schema import BusinessConfig

    spec = store.get_spec(model)
    try:
        business = BusinessConfig.model_validate({**spec.business.model_dump(), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise DataError(f"The money setting `{field}` is not valid: {first['msg']}.") from exc
    for column in (business.value_column, business.quantity_column):
        if column and column not in store.stored_columns(spec):
            raise DataError(f"Column `{column}` is not stored for {spec.title}, so it cannot carry money values.")
    updated = spec.model_copy(update={"business": business})
    store.upsert_model(updated)
    return updated
