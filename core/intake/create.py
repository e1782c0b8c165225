"""New models from a founder's file: train a ModelPulse model on it, or import their own model's predictions."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from core.config import Settings
from core.config import load_settings
from core.errors import DataError
from core.intake.mapping import Mapping
from core.intake.mapping import labels_of
from core.intake.mapping import rows_of
from core.intake.mapping import validate_model_file
from core.intake.privacy import key_for
from core.metrics import task_metrics
from core.modeling.training import train_with_yardstick
from core.modeling.versions import register_version
from core.modeling.yardstick import yardstick_rows
from core.progress import Progress
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.store import Store


def time_parts(ts: pd.Series, shares: tuple[float, float] = (0.6, 0.2)) -> pd.Series:
    """Oldest 60% train, next 20% validation, newest 20% test (replayed as production)."""
    order = ts.rank(method="first")
    n = len(ts)
    cut1, cut2 = n * shares[0], n * (shares[0] + shares[1])
    return pd.Series(
        np.where(order <= cut1, "train", np.where(order <= cut2, "validation", "production")), index=ts.index
    )


def _refuse_existing(store: Store, name: str) -> None:
    if store.get_spec(name, missing_ok=True) is not None:
        raise DataError(f"A model called `{name}` already exists; pick another name.")


def create_trained_model(
    *,
    store: Store,
    settings: Settings,
    mapping: Mapping,
    frame: pd.DataFrame,
    source: str,
    arch: ArchConfig | None = None,
    progress: Progress = print,
) -> tuple[ModelSpec, list[dict]]:
    """Validate, train a PyTorch model (and the HistGradientBoosting yardstick) on a time split, store it all.

    The newest 20% of the file is replayed as production so monitoring has something to show at once.
    Returns the spec and the version's quality next to the yardstick's, one row per split.
    """
    _refuse_existing(store, mapping.name)
    key = key_for(mapping.hashed_columns, settings, store.path)
    parts = validate_model_file(mapping, frame, source=source, external=False, limits=settings.limits, key=key)
    spec = parts.spec
    typed = parts.features.copy()
    typed[spec.target] = (
        parts.frame[mapping.target].astype("string").str.strip() if spec.is_classification else parts.labels
    )
    if spec.is_classification:
        typed[spec.target] = typed[spec.target].where(
            ~typed[spec.target].str.fullmatch(r"-?\d+\.0"), typed[spec.target].str[:-2]
        )
    typed[spec.timestamp] = parts.ts
    labelled = parts.labels.notna()
    split = time_parts(parts.ts[labelled])
    data = typed[labelled]
    pieces = {s: data[split == s] for s in ("train", "validation", "production")}
    if len(pieces["train"]) < 50 or len(pieces["validation"]) < 20:
        raise DataError(f"{source} has {int(labelled.sum()):,} rows with an outcome; training needs at least 100.")
    progress(
        f"Training on {len(pieces['train']):,} rows, validating on {len(pieces['validation']):,}, "
        f"testing on the newest {len(pieces['production']):,}"
    )
    model, report = train_with_yardstick(
        spec=spec,
        arch=arch or ArchConfig(),
        train=pieces["train"],
        valid=pieces["validation"],
        test=pieces["production"],
        seed=settings.seed,
        progress=lambda e, n, tl, vl: progress(f"epoch {e}/{n}: loss {tl:.4f}, validation {vl:.4f}"),
    )
    progress("Trained; the HistGradientBoosting yardstick was fitted on the same split")
    full_split = pd.Series("production", index=parts.frame.index)
    full_split[split.index] = split.to_numpy()
    rows = rows_of(
        spec,
        parts.frame,
        parts.ts,
        parts.features,
        split=full_split.to_numpy(),
        reference_set="reference-1",
        target=parts.labels.to_numpy(),
    )
    with store.transaction():
        store.upsert_model(spec)
        register_version(
            store,
            settings=settings,
            spec=spec,
            model=model,
            report=report,
            reference_set="reference-1",
            rows=rows,
            labels=labels_of(rows, parts.labels, mask=rows["_split"] == "production"),
            live=True,
            by="upload",
            source=source,
            kind="upload",
        )
    return spec, [row.as_dict() for row in yardstick_rows(spec, report)]


def create_external_model(
    *,
    store: Store,
    mapping: Mapping,
    frame: pd.DataFrame,
    source: str,
    reference_start: datetime,
    reference_end: datetime,
    settings: Settings | None = None,
) -> ModelSpec:
    """Import predictions of the user's own model: rows inside the chosen period are the reference."""
    _refuse_existing(store, mapping.name)
    limits = (settings or load_settings()).limits
    key = key_for(mapping.hashed_columns, settings, store.path)
    parts = validate_model_file(mapping, frame, source=source, external=True, limits=limits, key=key)
    spec, ts, labels = parts.spec, parts.ts, parts.labels
    in_ref = (ts >= pd.Timestamp(reference_start)) & (ts <= pd.Timestamp(reference_end))
    if int(in_ref.sum()) < 50:
        raise DataError(
            f"The reference period {pd.Timestamp(reference_start):%Y-%m-%d} to "
            f"{pd.Timestamp(reference_end):%Y-%m-%d} holds {int(in_ref.sum())} rows; pick one with at least 50."
        )
    if int((~in_ref).sum()) == 0:
        raise DataError(
            "Every row falls inside the reference period, so nothing is left to monitor; pick a shorter one."
        )
    rows = rows_of(
        spec,
        parts.frame,
        ts,
        parts.features,
        split=np.where(in_ref, "validation", "production"),
        reference_set="reference-1",
        target=labels.to_numpy() if labels is not None else None,
    )
    preds = parts.predictions
    metrics = {}
    if labels is not None and labels[in_ref].notna().sum() >= 20:
        known = (in_ref & labels.notna()).to_numpy()
        proba = preds.scores if spec.task == "multiclass" else preds.probability
        metrics["validation"] = task_metrics(
            spec.task, labels.to_numpy()[known], preds.prediction[known], proba[known] if proba is not None else None
        )
    meta = {
        "external": True,
        "features": spec.features,
        "metrics": metrics,
        "data_window": {"reference": [str(ts[in_ref].min()), str(ts[in_ref].max())]},
        "mapping": mapping.model_dump(mode="json"),
    }
    store.create_model(
        spec=spec,
        version=1,
        weights_path=None,
        weights_sha256=None,
        reference_set="reference-1",
        metadata=meta,
        rows=rows,
        predictions={1: preds},
        labels=labels_of(rows, labels, mask=pd.Series(~in_ref.to_numpy())),
        source=source,
        by="upload",
    )
    return spec
