"""Versions of a model: the one routine that stores a trained network as a version, and what builds on it.

:func:`register_version` is used by the demo, by models trained from an uploaded file and by
`python -m core train`: it saves the weights and metadata, then records the version, its reference
rows (scored by every version) and the shadow scores of every row already stored, in one
transaction. :func:`yardstick_rows` is the one place that says whether a version is within target
of the HistGradientBoosting yardstick, on the task's primary metric.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import faults
from core.config import Settings
from core.errors import DataError
from core.errors import ModelFileError
from core.modeling.features import target_codes
from core.modeling.importance import record_importance
from core.modeling.registry import load_version
from core.modeling.registry import recorded_path
from core.modeling.registry import save_model
from core.modeling.scoring import TrainedModel
from core.modeling.training import train_with_yardstick
from core.progress import Progress
from core.progress import quiet
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.store import Store
from core.store import stored_rows


def loadable_versions(store: Store, name: str) -> tuple[dict[int, TrainedModel], dict[int, ModelFileError]]:
    """Every version of `name` that has a network: (those that load, the refusal of each that does not)."""
    models, problems = {}, {}
    for info in store.list_versions(name):
        if not info.weights_path:
            continue
        try:
            models[info.version] = load_version(store, model=name, version=info.version)
        except ModelFileError as exc:
            problems[info.version] = exc
    return models, problems


def scoring_versions(store: Store, name: str) -> dict[int, TrainedModel]:
    """Every version of `name` whose network loads: the live one scores, the others shadow-score.

    A live version that cannot load stops the caller (one sentence); a shadow version that cannot load is
    left out, so one missing file never blocks the live version's traffic. Its rows wait in its scoring
    backlog (`Store.scoring_backlog`) until the file is back; :func:`cannot_score` says which and why.
    """
    models, problems = loadable_versions(store, name)
    live = store.live_version(name)
    if live is not None and live.version in problems:
        raise ModelFileError(
            f"v{live.version} of `{name}` is live but cannot score, so nothing was stored: "
            f"{problems[live.version].user_message}"
        ) from problems[live.version]
    return models


def cannot_score(store: Store, name: str) -> dict[int, str]:
    """Versions of `name` with a network that cannot be loaded now, each with the reason in a sentence."""
    _, problems = loadable_versions(store, name)
    return {v: f"v{v} cannot score: {exc.user_message}" for v, exc in problems.items()}


def register_version(
    store: Store,
    *,
    settings: Settings,
    spec: ModelSpec,
    model: TrainedModel,
    report: dict,
    reference_set: str,
    rows: pd.DataFrame | None,
    live: bool,
    by: str,
    labels: pd.DataFrame | None = None,
    source: str = "",
    kind: str = "reference",
    version: int | None = None,
    progress: Progress = quiet,
) -> int:
    """Store `model` as the next version of `spec`'s model; returns its number.

    `rows` (in :func:`core.store.stored_rows` layout) are the version's reference rows under
    `reference_set`, and for a model made from one file also its production rows (with `labels`);
    None reuses a reference set already stored. In ONE transaction: the version is recorded (live,
    or shadow beside the live one), `rows` are stored with the predictions of this and every other
    scoring version, and every stored row this version has not scored is shadow-scored, so versions
    compare on the same traffic. The model must be registered already (inside the same transaction
    for a new one). `version` defaults to the next free number. Then, in a transaction of its own, the
    version's permutation importance is measured on its reference rows (:mod:`core.modeling.importance`).
    """
    with store.transaction():
        version = store.next_version(spec.name) if version is None else version
        path, digest, meta = save_model(model, models_dir=settings.models_dir, version=version, extra=report)
        faults.point("model.files_written")
        others = scoring_versions(store, spec.name)
        backlog = store.rows_without_predictions(spec=spec, version=version)
        store.add_version(
            model=spec.name,
            version=version,
            weights_path=recorded_path(path, store_path=store.path),
            weights_sha256=digest,
            reference_set=reference_set,
            metadata={k: v for k, v in meta.items() if k != "preprocessor"},
            live=live,
            by=by,
        )
        if rows is not None:
            preds = {version: model.predict(rows)} | {v: m.predict(rows) for v, m in others.items()}
            store.write_batch(
                spec=spec, rows=rows, predictions=preds, labels=labels, source=source, kind=kind, actor=by
            )
        if len(backlog):
            progress(f"  scoring {len(backlog):,} stored rows with v{version}")
            store.write_predictions(
                spec=spec,
                version=version,
                row_ids=backlog["_row_id"].to_numpy(),
                ts=backlog["_ts"].to_numpy(),
                entity_ids=backlog["_entity_id"].to_numpy(),
                predictions=model.predict(backlog),
            )
        faults.point("version.before_commit")
    # after the version's own commit: a version whose importance could not be measured (or a process stopped
    # here) still scores and is monitored; `python -m core importance` measures it later
    try:
        record_importance(store, spec=spec, model=model, version=version, seed=settings.seed, progress=progress)
    except DataError as exc:
        progress(f"  v{version}: importance not measured. {exc.user_message}")
    return version


def stored_training_frame(store: Store, spec: ModelSpec) -> pd.DataFrame:
    """The model's stored cases with known outcomes, in the model's own column names, to train on.

    Raises a DataError in one sentence when the store holds too few outcomes to train a version.
    """
    frame = store.read_labelled(spec=spec)
    if len(frame) < 100:
        raise DataError(
            f"{spec.title} has {len(frame):,} stored cases with a known outcome; training needs at least 100. "
            f"Send more outcomes, or pass a file: `python -m core train --model {spec.name} --data FILE`."
        )
    target = frame.pop("_label")
    if spec.is_classification:
        names = {float(i): name for name, i in spec.class_index().items()}
        target = target.map(names)
    return frame.rename(columns={"_ts": spec.timestamp, "_entity_id": spec.entity}).assign(**{spec.target: target})


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
    """Train a new version of `name` on `frame` (split into train/validation[/test]) and register it.

    Its training and validation rows become its own reference set; it shadow-scores every stored row.
    """
    spec = store.get_spec(name)
    labelled = frame[frame[spec.target].notna()]
    parts = {s: labelled[split.loc[labelled.index] == s] for s in ("train", "validation", "test")}
    if parts["train"].empty or parts["validation"].empty:
        raise DataError("Training needs rows in both the training and the validation period.")
    version = store.next_version(name)
    progress(f"Training {name} v{version} on {len(parts['train']):,} rows, validating on {len(parts['validation']):,}")
    progress("  the HistGradientBoosting yardstick is trained on the same split afterwards")
    model, report = train_with_yardstick(
        spec=spec,
        arch=arch,
        train=parts["train"],
        valid=parts["validation"],
        test=parts["test"],
        seed=settings.seed,
        progress=lambda e, n, tl, vl: progress(f"  epoch {e}/{n}: loss {tl:.4f}, validation {vl:.4f}"),
    )
    ref = pd.concat([parts["train"], parts["validation"]])
    rows = stored_rows(
        ref,
        ts=pd.to_datetime(ref[spec.timestamp]),
        entity_ids=ref[spec.entity].astype("string"),
        split=split.loc[ref.index].to_numpy(),
        reference_set=f"reference-{version}",
        target=target_codes(spec, ref[spec.target]),
    )
    register_version(
        store,
        settings=settings,
        spec=spec,
        model=model,
        report=report,
        reference_set=f"reference-{version}",
        rows=rows,
        live=live,
        by=by,
        source=f"reference for v{version}",
        version=version,
        progress=progress,
    )
    return version, report
