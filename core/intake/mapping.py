"""A founder's file mapped to a model: what each column means, checked as a whole before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from core.business import KINDS
from core.config import Limits
from core.errors import DataError
from core.intake.checks import DEFAULT_LIMITS
from core.intake.checks import check_classes
from core.intake.checks import check_probabilities
from core.intake.checks import check_unique
from core.intake.checks import encode_labels
from core.intake.checks import encode_outcomes
from core.intake.checks import parse_numbers
from core.intake.checks import printable
from core.intake.checks import require_columns
from core.intake.checks import validate_features
from core.intake.dates import read_timestamps
from core.intake.files import normalise_columns
from core.intake.ids import with_ids
from core.intake.privacy import apply_choices
from core.predictions import Predictions
from core.schema import ID_COLUMN
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.schema import privacy_problem
from core.store import stored_rows


class Mapping(BaseModel):
    """What each column of a user's file means, as chosen on the mapping step. Saved with the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    description: str = ""
    task: str
    timestamp: str
    entity: str | None = None
    """The id column; None when the file has none and ModelPulse makes the ids (`id_from`)."""
    id_from: str = "column"
    """`column`, `row_order` (the row's time and order) or `hash` (of `id_columns`)."""
    id_columns: tuple[str, ...] = ()
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
    hashed_columns: tuple[str, ...] = ()
    """Personal-data columns to keep only as a keyed hash, in this file and every later one."""
    dropped_columns: tuple[str, ...] = ()
    """Personal-data columns to remove from this file and every later one."""


def spec_from_mapping(mapping: Mapping, *, classes: tuple[str, ...], source: str) -> ModelSpec:
    """The model spec a mapping defines; anything unusable is one sentence."""
    if mapping.business.kind not in KINDS:
        raise DataError(
            f"There is no kind of money setting called `{mapping.business.kind}`; use one of {', '.join(KINDS)}."
        )
    positive = mapping.positive_class
    hashed = set(mapping.hashed_columns)
    # a hashed value is text: a number input that is hashed becomes a category input
    numerical = tuple(c for c in mapping.numerical if c not in hashed)
    categorical = (*mapping.categorical, *(c for c in mapping.numerical if c in hashed))
    if mapping.task == "binary":
        if positive is not None and positive not in classes:
            # falling back to a class would have the model look for the wrong outcome, silently
            shown = ", ".join(f"`{printable(c)}`" for c in classes)
            where = f"`{mapping.target}`" if mapping.target else "the class names"
            raise DataError(
                f"The 'yes' outcome `{printable(positive)}` is not one of the values of {where} ({shown}); pick the "
                "one the model looks for."
            )
        positive = positive if positive is not None else classes[-1]
    try:
        return ModelSpec(
            name=mapping.name,
            title=mapping.title,
            description=mapping.description,
            task=mapping.task,  # type: ignore[arg-type]
            target=mapping.target or mapping.label_column,
            timestamp=mapping.timestamp,
            entity=mapping.entity if mapping.id_from == "column" else ID_COLUMN,
            id_from=mapping.id_from,  # type: ignore[arg-type]
            id_columns=mapping.id_columns,
            numerical=numerical,
            categorical=categorical,
            classes=classes,
            positive_class=positive if mapping.task == "binary" else None,
            window=mapping.window,  # type: ignore[arg-type]
            min_rows=mapping.min_rows,
            business=mapping.business,
            source=source,  # type: ignore[arg-type]
            prediction_column=mapping.prediction,
            probability_columns=mapping.probabilities,
            hashed_columns=mapping.hashed_columns,
            dropped_columns=mapping.dropped_columns,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DataError(f"The mapping is not usable: {first['msg'].removeprefix('Value error, ')}.") from exc


def check_privacy(mapping: Mapping) -> None:
    """The personal-data choices fit the columns' roles (checked before they change the frame)."""
    try:
        problem = privacy_problem(
            hashed=mapping.hashed_columns,
            dropped=mapping.dropped_columns,
            timestamp=mapping.timestamp,
            target=mapping.target or mapping.label_column,
            entity=str(mapping.entity) if mapping.id_from == "column" else ID_COLUMN,
            numerical=(),  # a hashed number input becomes a category input (`spec_from_mapping`)
            features=[*mapping.numerical, *mapping.categorical],
            id_columns=mapping.id_columns,
            outputs=(*mapping.probabilities, *([mapping.prediction] if mapping.prediction else [])),
            money=tuple(c for c in (mapping.business.value_column, mapping.business.quantity_column) if c),
        )
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise DataError(f"The mapping is not usable: {problem}.")


def rows_of(
    spec: ModelSpec,
    frame: pd.DataFrame,
    ts: pd.Series,
    features: pd.DataFrame,
    *,
    split: object,
    reference_set: str = "production",
    target: object = None,
) -> pd.DataFrame:
    """A validated file's rows in the store's layout (features, money columns, time, tidy id, split)."""
    inputs = features.copy()
    for extra in (spec.business.value_column, spec.business.quantity_column):
        if extra and extra not in inputs and extra in frame:
            inputs[extra] = pd.to_numeric(frame[extra], errors="coerce")
    return stored_rows(
        inputs,
        ts=ts.to_numpy(),
        entity_ids=frame[spec.entity].astype("string").str.strip().to_numpy(),
        split=split,
        reference_set=reference_set,
        target=target,
    )


def labels_of(rows: pd.DataFrame, labels: pd.Series | None, *, mask: pd.Series) -> pd.DataFrame | None:
    """Outcomes of the rows under `mask` that have one, as labels known at the row's own time."""
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


def classes_for(mapping: Mapping, frame: pd.DataFrame, *, source: str) -> tuple[str, ...]:
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


@dataclass(frozen=True)
class ValidatedFile:
    """A whole file checked against its mapping: the spec it defines and its typed parts."""

    spec: ModelSpec
    frame: pd.DataFrame
    ts: pd.Series
    features: pd.DataFrame
    labels: pd.Series | None
    """Encoded outcomes (NaN where a row has none), or None when the file has no target column."""
    predictions: Predictions | None
    """An imported model's own predictions."""


def validate_model_file(
    mapping: Mapping,
    frame: pd.DataFrame,
    *,
    source: str,
    external: bool,
    limits: Limits = DEFAULT_LIMITS,
    key: bytes | None = None,
) -> ValidatedFile:
    """Check a whole file against its mapping (and the limits on what it may hold) before anything is written.

    Personal-data choices come first: dropped columns leave the frame and hashed ones are replaced by their
    keyed hash (`key`) before any check reads a value, so no raw value reaches a message or the store.
    """
    frame = normalise_columns(frame, source=source) if any(c != c.lower() for c in frame.columns) else frame
    needed = {mapping.timestamp: "the timestamp"}
    if mapping.id_from == "column":
        if not mapping.entity:
            raise DataError("Pick the column that identifies each row, or let ModelPulse number the rows.")
        needed[mapping.entity] = "the id of each row"
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
    for col in mapping.hashed_columns:
        needed.setdefault(col, "personal data to store as a keyed hash")
    for col in mapping.dropped_columns:
        needed.setdefault(col, "personal data to drop")
    require_columns(frame, needed, source=source)
    check_privacy(mapping)
    frame = apply_choices(frame, hashed=mapping.hashed_columns, dropped=mapping.dropped_columns, key=key)
    classes = classes_for(mapping, frame, source=source)
    spec = spec_from_mapping(mapping, classes=classes, source="external" if external else "trained")
    ts, order = read_timestamps(frame, spec.timestamp, source=source, limits=limits)
    spec = spec.model_copy(update={"date_order": order}) if order else spec  # later files are read the same way
    frame = with_ids(spec, frame, source=source, limits=limits)
    check_unique(frame, spec.entity, source=source, what="file")
    features = validate_features(frame, spec, source=source, limits=limits)
    labels = None
    if mapping.target:
        labels = encode_outcomes(spec, frame[mapping.target], source=source, column=mapping.target)
        if spec.is_classification and labels.dropna().nunique() < 2:
            check_classes(mapping.target, frame.loc[labels.notna(), mapping.target], source=source)
    predictions = external_predictions(spec, frame, source=source) if external else None
    return ValidatedFile(spec=spec, frame=frame, ts=ts, features=features, labels=labels, predictions=predictions)


def external_predictions(spec: ModelSpec, frame: pd.DataFrame, *, source: str) -> Predictions:
    """An imported model's predictions from its mapped columns, checked (probabilities in 0..1, adding up)."""
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
    pred = parse_numbers(frame, str(spec.prediction_column), source=source, allow_missing=False)
    return Predictions(prediction=pred.to_numpy(), probability=None)
