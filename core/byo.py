"""Bring your own model and data: create a model from a mapped file (train one, or import the
predictions of an external model), then keep sending predictions and labels.

`log_predictions` and `log_labels` are the code-level API (exported as `core.log_predictions` and
`core.log_labels`); the upload page, the CLI's `ingest` and the inbox folder all call them, so every
path gives the same validation and the same messages. Each file is written in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from core.config import Settings
from core.errors import DataError
from core.errors import NotFoundError
from core.ingest import check_classes
from core.ingest import check_probabilities
from core.ingest import check_unique
from core.ingest import encode_labels
from core.ingest import normalise_columns
from core.ingest import parse_timestamps
from core.ingest import require
from core.ingest import validate_features
from core.metrics import task_metrics
from core.schema import ArchConfig
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.scoring import Predictions
from core.store import Store

Progress = Callable[[str], None]


class Mapping(BaseModel):
    """What each column of a user's file means, as chosen on the mapping step. Saved with the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    description: str = ""
    task: str
    timestamp: str
    entity: str
    target: str | None = None
    label_column: str = "outcome"
    """When the file has no outcomes yet: the column name later label files will use for them."""
    numerical: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    prediction: str | None = None
    probabilities: tuple[str, ...] = ()
    """External models: the positive class's probability (binary) or one column per class (multiclass)."""
    classes: tuple[str, ...] = ()
    positive_class: str | None = None
    window: str = "week"
    min_rows: int = Field(default=100, ge=1)
    business: BusinessConfig = BusinessConfig()


@dataclass(frozen=True)
class IngestResult:
    """What one file did to the store."""

    model: str
    rows: int
    labels: int
    batch_id: str
    message: str


def _spec_from_mapping(mapping: Mapping, *, classes: tuple[str, ...], source: str) -> ModelSpec:
    positive = mapping.positive_class
    if mapping.task == "binary":
        positive = positive if positive in classes else classes[-1]
    try:
        return ModelSpec(
            name=mapping.name,
            title=mapping.title,
            description=mapping.description,
            task=mapping.task,  # type: ignore[arg-type]
            target=mapping.target or mapping.label_column,
            timestamp=mapping.timestamp,
            entity=mapping.entity,
            numerical=mapping.numerical,
            categorical=mapping.categorical,
            classes=classes,
            positive_class=positive if mapping.task == "binary" else None,
            window=mapping.window,  # type: ignore[arg-type]
            min_rows=mapping.min_rows,
            business=mapping.business,
            source=source,  # type: ignore[arg-type]
            prediction_column=mapping.prediction,
            probability_columns=mapping.probabilities,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DataError(f"The mapping is not usable: {first['msg'].removeprefix('Value error, ')}.") from exc


def _frame_rows(spec: ModelSpec, frame: pd.DataFrame, ts: pd.Series, features: pd.DataFrame) -> pd.DataFrame:
    rows = features.copy()
    rows["_ts"] = ts.to_numpy()
    rows["_entity_id"] = frame[spec.entity].astype("string").str.strip().to_numpy()
    for extra in (spec.business.value_column, spec.business.quantity_column):
        if extra and extra not in rows and extra in frame:
            rows[extra] = pd.to_numeric(frame[extra], errors="coerce")
    return rows


def _classes_for(mapping: Mapping, frame: pd.DataFrame, *, source: str) -> tuple[str, ...]:
    if mapping.task == "regression":
        return ()
    if mapping.classes:
        return tuple(mapping.classes)
    if mapping.target and mapping.target in frame:
        found = check_classes(mapping.target, frame[mapping.target], source=source)
        found = [c[:-2] if c.endswith(".0") and c[:-2].lstrip("-").isdigit() else c for c in found]
        found = sorted(set(found))
        if mapping.task == "binary" and len(found) != 2:
            raise DataError(f"In {source}, column `{mapping.target}` has {len(found)} classes; a yes/no model needs 2.")
        if mapping.task == "multiclass" and len(found) < 3:
            raise DataError(f"In {source}, column `{mapping.target}` has {len(found)} classes; use yes/no for two.")
        if mapping.task == "binary" and mapping.positive_class in found:
            neg = next(c for c in found if c != mapping.positive_class)
            return (neg, mapping.positive_class)
        return tuple(found)
    raise DataError("Name the classes (or map a target column) for a classification model.")


def validate_model_file(
    mapping: Mapping, frame: pd.DataFrame, *, source: str, external: bool
) -> tuple[ModelSpec, dict]:
    """Check a whole file against its mapping before anything is written; returns the spec and typed parts."""
    frame = normalise_columns(frame, source=source) if any(c != c.lower() for c in frame.columns) else frame
    needed = {mapping.timestamp: "the timestamp", mapping.entity: "the id of each row"}
    needed.update({c: "a feature" for c in (*mapping.numerical, *mapping.categorical)})
    if mapping.target:
        needed[mapping.target] = "the target"
    if external:
        if mapping.task == "regression" or mapping.task == "multiclass" and not mapping.probabilities:
            if not mapping.prediction:
                raise DataError("Map the column that holds your model's prediction.")
            needed[mapping.prediction] = "your model's prediction"
        for c in mapping.probabilities:
            needed[c] = "a predicted probability"
        if mapping.task == "binary" and not mapping.probabilities:
            raise DataError("Map the column that holds your model's probability of the positive class.")
    elif not mapping.target:
        raise DataError("Training needs a target column: map the column with the real outcome.")
    require(frame, needed, source=source)
    classes = _classes_for(mapping, frame, source=source)
    spec = _spec_from_mapping(mapping, classes=classes, source="external" if external else "trained")
    ts = parse_timestamps(frame, spec.timestamp, source=source)
    check_unique(frame, spec.entity, source=source, what="file")
    features = validate_features(frame, spec, source=source)
    labels = None
    if mapping.target:
        present = frame[mapping.target].notna() & (frame[mapping.target].astype("string").str.strip() != "")
        labels = pd.Series(np.nan, index=frame.index)
        if present.any():
            labels[present] = encode_labels(
                spec, frame.loc[present, mapping.target], source=source, column=mapping.target
            )
        if spec.is_classification and labels.dropna().nunique() < 2:
            check_classes(mapping.target, frame.loc[present, mapping.target], source=source)
    predictions = _external_predictions(spec, frame, source=source) if external else None
    return spec, {"frame": frame, "ts": ts, "features": features, "labels": labels, "predictions": predictions}


def _external_predictions(spec: ModelSpec, frame: pd.DataFrame, *, source: str) -> Predictions:
    if spec.task == "binary":
        p = check_probabilities(frame, list(spec.probability_columns), source=source)[:, 0]
        return Predictions(prediction=(p >= 0.5).astype("float64"), probability=p)
    if spec.task == "multiclass":
        if spec.probability_columns:
            if len(spec.probability_columns) != len(spec.classes):
                raise DataError(
                    f"Map one probability column per class ({len(spec.classes)} classes: {', '.join(spec.classes)})."
                )
            p = check_probabilities(frame, list(spec.probability_columns), source=source)
            return Predictions(prediction=p.argmax(axis=1).astype("float64"), probability=p.max(axis=1), scores=p)
        pred = encode_labels(spec, frame[spec.prediction_column], source=source, column=str(spec.prediction_column))
        return Predictions(prediction=pred.to_numpy(), probability=None)
    from core.ingest import parse_numbers

    pred = parse_numbers(frame, str(spec.prediction_column), source=source, allow_missing=False)
    return Predictions(prediction=pred.to_numpy(), probability=None)


def time_parts(ts: pd.Series, shares: tuple[float, float] = (0.6, 0.2)) -> pd.Series:
    """Oldest 60% train, next 20% validation, newest 20% test (replayed as production)."""
    order = ts.rank(method="first")
    n = len(ts)
    cut1, cut2 = n * shares[0], n * (shares[0] + shares[1])
    return pd.Series(
        np.where(order <= cut1, "train", np.where(order <= cut2, "validation", "production")), index=ts.index
    )


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
    """
    from core.registry import save_model
    from core.training import train_with_yardstick

    if store.get_spec(mapping.name, missing_ok=True) is not None:
        raise DataError(f"A model called `{mapping.name}` already exists; pick another name.")
    spec, parts = validate_model_file(mapping, frame, source=source, external=False)
    typed = parts["features"].copy()
    typed[spec.target] = (
        parts["frame"][mapping.target].astype("string").str.strip() if spec.is_classification else parts["labels"]
    )
    if spec.is_classification:
        typed[spec.target] = typed[spec.target].where(
            ~typed[spec.target].str.fullmatch(r"-?\d+\.0"), typed[spec.target].str[:-2]
        )
    typed[spec.timestamp] = parts["ts"]
    labelled = parts["labels"].notna()
    split = time_parts(parts["ts"][labelled])
    data = typed[labelled]
    pieces = {s: data[split == s] for s in ("train", "validation", "production")}
    if len(pieces["train"]) < 50 or len(pieces["validation"]) < 20:
        raise DataError(f"{source} has {int(labelled.sum()):,} rows with an outcome; training needs at least 100.")
    arch = arch or ArchConfig()
    progress(
        f"Training on {len(pieces['train']):,} rows, validating on {len(pieces['validation']):,}, "
        f"testing on the newest {len(pieces['production']):,}"
    )
    model, extra = train_with_yardstick(
        spec=spec,
        arch=arch,
        train=pieces["train"],
        valid=pieces["validation"],
        test=pieces["production"],
        seed=settings.seed,
        progress=lambda e, n, tl, vl: progress(f"epoch {e}/{n}: loss {tl:.4f}, validation {vl:.4f}"),
    )
    progress("Trained; the HistGradientBoosting yardstick was fitted on the same split")
    path, digest, meta = save_model(model, models_dir=settings.models_dir, version=1, extra=extra)
    rows = _frame_rows(spec, parts["frame"], parts["ts"], parts["features"])
    full_split = pd.Series("production", index=rows.index)
    full_split[split.index] = split.to_numpy()
    rows["_split"] = full_split.to_numpy()
    rows["_set"] = np.where(rows["_split"] == "production", "production", "reference-1")
    rows["_target"] = np.where(rows["_split"] == "production", np.nan, parts["labels"].to_numpy())
    preds = model.predict(rows)
    labels = _labels_for(spec, rows, parts["labels"], mask=rows["_split"] == "production")
    store.create_model(
        spec=spec,
        version=1,
        weights_path=str(path),
        weights_sha256=digest,
        reference_set="reference-1",
        metadata={k: v for k, v in meta.items() if k != "preprocessor"},
        rows=rows,
        predictions={1: preds},
        labels=labels,
        source=source,
        by="upload",
    )
    return spec, _quality(spec, extra)


def _quality(spec: ModelSpec, extra: dict) -> list[dict]:
    key = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}[spec.task]
    out = []
    for split in ("validation", "test"):
        ours = extra["metrics"].get(split, {}).get(key)
        theirs = extra["baseline"].get(split, {}).get(key)
        if ours is None or theirs is None:
            continue
        ok = ours <= theirs * 1.10 if key == "rmse" else ours >= theirs - 0.02
        out.append(
            {
                "split": split,
                "metric": key,
                "ModelPulse (PyTorch)": ours,
                "HistGradientBoosting": theirs,
                "within target": ok,
            }
        )
    return out


def _labels_for(
    spec: ModelSpec, rows: pd.DataFrame, labels: pd.Series | None, *, mask: pd.Series
) -> pd.DataFrame | None:
    if labels is None:
        return None
    keep = mask.to_numpy() & labels.notna().to_numpy()
    return pd.DataFrame(
        {
            "entity_id": rows["_entity_id"].to_numpy()[keep],
            "label": labels.to_numpy()[keep],
            "label_ts": pd.to_datetime(rows["_ts"]).to_numpy()[keep],
        }
    )


def create_external_model(
    *,
    store: Store,
    mapping: Mapping,
    frame: pd.DataFrame,
    source: str,
    reference_start: datetime,
    reference_end: datetime,
) -> ModelSpec:
    """Import predictions of the user's own model: rows inside the chosen period are the reference."""
    if store.get_spec(mapping.name, missing_ok=True) is not None:
        raise DataError(f"A model called `{mapping.name}` already exists; pick another name.")
    spec, parts = validate_model_file(mapping, frame, source=source, external=True)
    ts = parts["ts"]
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
    rows = _frame_rows(spec, parts["frame"], ts, parts["features"])
    rows["_split"] = np.where(in_ref, "validation", "production")
    rows["_set"] = np.where(in_ref, "reference-1", "production")
    labels = parts["labels"]
    rows["_target"] = np.where(in_ref, labels.to_numpy() if labels is not None else np.nan, np.nan)
    preds: Predictions = parts["predictions"]
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
        labels=_labels_for(spec, rows, labels, mask=pd.Series(~in_ref.to_numpy())),
        source=source,
        by="upload",
    )
    return spec


# ----------------------------------------------------------------------------- ongoing traffic
def log_predictions(
    *,
    model: str,
    frame: pd.DataFrame,
    store: Store | None = None,
    settings: Settings | None = None,
    source: str = "code",
) -> IngestResult:
    """Store a batch of production rows for `model` (features, id, time; predictions too for an external model).

    A ModelPulse-trained model scores the rows with its live version and every shadow version. Outcomes
    in the target column, if present, are stored as labels. Everything goes in one transaction.
    """
    with _store(store, settings) as st:
        spec = st.get_spec(model)
        frame = normalise_columns(frame, source=source)
        external = spec.source == "external"
        needed = {spec.timestamp: "the timestamp", spec.entity: "the id of each row"}
        needed.update({c: "a feature" for c in spec.features})
        if external:
            needed.update({c: "a predicted probability" for c in spec.probability_columns})
            if spec.prediction_column and not spec.probability_columns:
                needed[spec.prediction_column] = "your model's prediction"
        require(frame, needed, source=source)
        ts = parse_timestamps(frame, spec.timestamp, source=source)
        check_unique(frame, spec.entity, source=source, what="file")
        ids = frame[spec.entity].astype("string").str.strip()
        already = st.known_entities(model=model, ids=ids.tolist())
        if already:
            first = ids[ids.isin(already)].index[0]
            raise DataError(
                f"{len(already):,} ids in {source} were stored before, first at row {int(first) + 2} "
                f"('{ids[first]}'): this file may have been sent already."
            )
        features = validate_features(frame, spec, source=source)
        labels = None
        if spec.target in frame:
            present = frame[spec.target].notna() & (frame[spec.target].astype("string").str.strip() != "")
            if present.any():
                labels = pd.Series(np.nan, index=frame.index)
                labels[present] = encode_labels(
                    spec, frame.loc[present, spec.target], source=source, column=spec.target
                )
        rows = _frame_rows(spec, frame, ts, features)
        rows["_split"] = "production"
        rows["_set"] = "production"
        if external:
            predictions = {st.live_version(model).version: _external_predictions(spec, frame, source=source)}
        else:
            from core.pipeline import scoring_versions

            predictions = {v: m.predict(rows) for v, m in scoring_versions(st, model).items()}
            if not predictions:
                raise NotFoundError(f"Model `{model}` has no trained version to score with.")
        label_frame = _labels_for(spec, rows, labels, mask=pd.Series(True, index=rows.index))
        batch = st.write_batch(spec=spec, rows=rows, predictions=predictions, labels=label_frame, source=source)
        n_labels = 0 if label_frame is None else len(label_frame)
        return IngestResult(
            model=model,
            rows=len(rows),
            labels=n_labels,
            batch_id=batch,
            message=f"Stored {len(rows):,} predictions for {spec.title}"
            + (f" with {n_labels:,} outcomes." if n_labels else ".")
            + _ignored_note(spec, frame),
        )


def _ignored_note(spec: ModelSpec, frame: pd.DataFrame) -> str:
    """Say which columns of a file the model does not use (a new column upstream is worth knowing about)."""
    used = {spec.timestamp, spec.entity, spec.target, "label_time", *spec.features, *spec.probability_columns}
    used |= {c for c in (spec.prediction_column, spec.business.value_column, spec.business.quantity_column) if c}
    extra = [c for c in frame.columns if c not in used]
    if not extra:
        return ""
    names = ", ".join(f"`{c}`" for c in extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
    return f" Not used by the model, so not stored: {names}."


def log_labels(
    *,
    model: str,
    frame: pd.DataFrame,
    store: Store | None = None,
    settings: Settings | None = None,
    source: str = "code",
) -> IngestResult:
    """Store outcomes that arrived later, joined to stored predictions by id, in one transaction.

    The file needs the id column and the target column; an optional `label_time` column says when each
    outcome became known (default: now).
    """
    with _store(store, settings) as st:
        spec = st.get_spec(model)
        frame = normalise_columns(frame, source=source)
        require(frame, {spec.entity: "the id of each row", spec.target: "the outcome"}, source=source)
        check_unique(frame, spec.entity, source=source, what="label file")
        ids = frame[spec.entity].astype("string").str.strip()
        known = st.known_entities(model=model, ids=ids.tolist())
        unknown = ~ids.isin(known)
        if unknown.any():
            first = int(np.flatnonzero(unknown.to_numpy())[0])
            raise DataError(
                f"In {source}, {int(unknown.sum()):,} labels are for ids the model never scored, first at "
                f"row {first + 2} ('{ids.iloc[first]}')."
            )
        labels = encode_labels(spec, frame[spec.target], source=source, column=spec.target)
        when = (
            parse_timestamps(frame, "label_time", source=source)
            if "label_time" in frame
            else pd.Series(pd.Timestamp.now().floor("s"), index=frame.index)
        )
        batch = st.write_labels(
            model=model,
            labels=pd.DataFrame({"entity_id": ids.to_numpy(), "label": labels.to_numpy(), "label_ts": when.to_numpy()}),
            source=source,
        )
        return IngestResult(
            model=model,
            rows=0,
            labels=len(frame),
            batch_id=batch,
            message=f"Stored {len(frame):,} outcomes for {spec.title}.",
        )


class _store:
    """Use the given store, or open the configured one for the duration of a call."""

    def __init__(self, store: Store | None, settings: Settings | None) -> None:
        self.given = store
        self.settings = settings
        self.opened: Store | None = None

    def __enter__(self) -> Store:
        if self.given is not None:
            return self.given
        from core.config import load_settings

        cfg = self.settings or load_settings()
        self.opened = Store.open(cfg.db_path)
        return self.opened

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.close()
