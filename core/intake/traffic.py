"""Ongoing traffic for a model that exists: production rows (predictions) and outcomes that arrive later.

`log_predictions` and `log_labels` are the code-level API (exported as `core.log_predictions` and
`core.log_labels`); the upload page, the CLI's `ingest` and the inbox all call them, so every path
gives the same validation and the same messages. Each file is written in one transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.config import Settings
from core.config import load_settings
from core.errors import DataError
from core.errors import NotFoundError
from core.intake.checks import check_unique
from core.intake.checks import encode_labels
from core.intake.checks import encode_outcomes
from core.intake.checks import require_columns
from core.intake.checks import validate_features
from core.intake.dates import parse_timestamps
from core.intake.files import normalise_columns
from core.intake.ids import with_ids
from core.intake.mapping import external_predictions
from core.intake.mapping import labels_of
from core.intake.mapping import rows_of
from core.intake.privacy import apply_choices
from core.intake.privacy import choices_note
from core.intake.privacy import key_for
from core.modeling.versions import scoring_versions
from core.schema import ModelSpec
from core.store import Store


@dataclass(frozen=True)
class IngestResult:
    """What one file did to the store."""

    model: str
    rows: int
    labels: int
    batch_id: str
    message: str


@contextlib.contextmanager
def _store(store: Store | None, settings: Settings | None) -> Iterator[Store]:
    """Use the given store, or open the configured one for the duration of a call."""
    if store is not None:
        yield store
        return
    with Store.at(settings or load_settings()) as opened:
        yield opened


def log_predictions(
    *,
    model: str,
    frame: pd.DataFrame,
    store: Store | None = None,
    settings: Settings | None = None,
    source: str = "code",
    by: str = "code",
    batch_id: str | None = None,
) -> IngestResult:
    """Store a batch of production rows for `model` (features, id, time; predictions too for an external model).

    A ModelPulse-trained model scores the rows with its live version and every shadow version. Outcomes
    in the target column, if present, are stored as labels. Everything goes in one transaction. A `batch_id`
    the sender chose makes sending the same batch again (a retry after a timeout) store it once.
    """
    limits = (settings or load_settings()).limits
    with _store(store, settings) as st:
        spec = st.get_spec(model)
        if (before := _stored_before(st, model, batch_id)) is not None:
            return before
        frame = normalise_columns(frame, source=source)
        columns = list(frame.columns)
        frame = with_ids(spec, _private(spec, frame, settings, st), source=source, limits=limits)
        external = spec.source == "external"
        needed = {spec.timestamp: "the timestamp", spec.entity: "the id of each row"}
        needed.update({c: "a feature" for c in spec.features})
        if external:
            needed.update({c: "a predicted probability" for c in spec.probability_columns})
            if spec.prediction_column and not spec.probability_columns:
                needed[spec.prediction_column] = "your model's prediction"
        require_columns(frame, needed, source=source)
        ts = parse_timestamps(frame, spec.timestamp, source=source, limits=limits, date_order=spec.date_order)
        check_unique(frame, spec.entity, source=source, what="file")
        ids = frame[spec.entity].astype("string").str.strip()
        already = st.known_entities(model=model, ids=ids.tolist())
        if already:
            first = ids[ids.isin(already)].index[0]
            raise DataError(
                f"{len(already):,} ids in {source} were stored before, first at row {int(first) + 2} "
                f"('{ids[first]}'): this file may have been sent already."
            )
        features = validate_features(frame, spec, source=source, limits=limits)
        labels = None
        if spec.target in frame:
            labels = encode_outcomes(spec, frame[spec.target], source=source, column=spec.target)
            labels = labels if labels.notna().any() else None
        rows = rows_of(spec, frame, ts, features, split="production")
        if external:
            predictions = {st.live_version(model).version: external_predictions(spec, frame, source=source)}
        else:
            predictions = {v: m.predict(rows) for v, m in scoring_versions(st, model).items()}
            if not predictions:
                raise NotFoundError(f"Model `{model}` has no trained version to score with.")
        label_frame = labels_of(rows, labels, mask=pd.Series(True, index=rows.index))
        batch = st.write_batch(
            spec=spec,
            rows=rows,
            predictions=predictions,
            labels=label_frame,
            source=source,
            actor=by,
            batch_id=batch_id,
        )
        n_labels = 0 if label_frame is None else len(label_frame)
        return IngestResult(
            model=model,
            rows=len(rows),
            labels=n_labels,
            batch_id=batch,
            message=f"Stored {len(rows):,} predictions for {spec.title}"
            + (f" with {n_labels:,} outcomes." if n_labels else ".")
            + _ignored_note(spec, frame)
            + choices_note(hashed=spec.hashed_columns, dropped=spec.dropped_columns, columns=columns),
        )


def log_labels(
    *,
    model: str,
    frame: pd.DataFrame,
    store: Store | None = None,
    settings: Settings | None = None,
    source: str = "code",
    by: str = "code",
    batch_id: str | None = None,
) -> IngestResult:
    """Store outcomes that arrived later, joined to stored predictions by id, in one transaction.

    The file needs the id column and the target column; an optional `label_time` column says when each
    outcome became known (default: now).
    """
    limits = (settings or load_settings()).limits
    with _store(store, settings) as st:
        spec = st.get_spec(model)
        if (before := _stored_before(st, model, batch_id)) is not None:
            return before
        frame = _private(spec, normalise_columns(frame, source=source), settings, st)
        frame = with_ids(spec, frame, source=source, limits=limits)
        require_columns(frame, {spec.entity: "the id of each row", spec.target: "the outcome"}, source=source)
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
            parse_timestamps(frame, "label_time", source=source, limits=limits, date_order=spec.date_order)
            if "label_time" in frame
            else pd.Series(pd.Timestamp.now().floor("s"), index=frame.index)
        )
        batch = st.write_labels(
            model=model,
            labels=pd.DataFrame({"entity_id": ids.to_numpy(), "label": labels.to_numpy(), "label_ts": when.to_numpy()}),
            source=source,
            actor=by,
            batch_id=batch_id,
        )
        return IngestResult(
            model=model,
            rows=0,
            labels=len(frame),
            batch_id=batch,
            message=f"Stored {len(frame):,} outcomes for {spec.title}.",
        )


def _stored_before(store: Store, model: str, batch_id: str | None) -> IngestResult | None:
    """The result of a batch sent before under the same `batch_id` (so sending it again writes nothing), or None."""
    if batch_id is None:
        return None
    try:
        batch = store.get_batch(batch_id)
    except NotFoundError:
        return None
    if batch["model"] != model or pd.notna(batch["removed_at"]):
        return None  # the store refuses these with its own sentence when the batch is written
    return IngestResult(
        model=model,
        rows=0,
        labels=0,
        batch_id=batch_id,
        message=f"Batch {batch_id} was stored before ({int(batch['n_rows']):,} rows on "
        f"{pd.Timestamp(batch['created_at']):%Y-%m-%d %H:%M}); nothing was written twice.",
    )


def _private(spec: ModelSpec, frame: pd.DataFrame, settings: Settings | None, store: Store) -> pd.DataFrame:
    """The file as the model's personal-data choices want it, before any check reads a value: dropped
    columns removed, hashed ones replaced by their keyed hash (the same key as the model's first file)."""
    hashed = [c for c in spec.hashed_columns if c in frame.columns]
    return apply_choices(
        frame,
        hashed=hashed,
        dropped=spec.dropped_columns,
        key=key_for(hashed, settings, store.path),
    )


def _ignored_note(spec: ModelSpec, frame: pd.DataFrame) -> str:
    """Say which columns of a file the model does not use (a new column upstream is worth knowing about)."""
    used = {spec.timestamp, spec.entity, spec.target, "label_time", *spec.features, *spec.probability_columns}
    used |= set(spec.id_columns)
    used |= {c for c in (spec.prediction_column, spec.business.value_column, spec.business.quantity_column) if c}
    extra = [c for c in frame.columns if c not in used]
    if not extra:
        return ""
    names = ", ".join(f"`{c}`" for c in extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
    return f" Not used by the model, so not stored: {names}."
