"""Ids for files that have none: a row's time and its order among rows with the same time, or a hash
of columns whose values together tell rows apart. Later files of the model get their ids the same way,
so outcomes still find their predictions."""

from __future__ import annotations

import hashlib

import pandas as pd

from core.config import Limits
from core.errors import DataError
from core.intake.checks import DEFAULT_LIMITS
from core.intake.checks import require_columns
from core.intake.checks import spreadsheet_row
from core.intake.dates import parse_timestamps
from core.schema import ID_COLUMN
from core.schema import ModelSpec
from core.wording import plural


def with_ids(spec: ModelSpec, frame: pd.DataFrame, *, source: str, limits: Limits = DEFAULT_LIMITS) -> pd.DataFrame:
    """`frame` with the model's id column filled in when the model makes its own ids; else unchanged."""
    if spec.id_from == "column":
        return frame
    if spec.id_from == "row_order":
        require_columns(
            frame,
            {spec.timestamp: "the time of each row (this model numbers its rows by time and order)"},
            source=source,
        )
        ts = parse_timestamps(frame, spec.timestamp, source=source, limits=limits, date_order=spec.date_order)
        order = ts.groupby(ts).cumcount()
        ids = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "#" + order.astype(str)
        return frame.assign(**{ID_COLUMN: ids.to_numpy()})
    require_columns(frame, {c: "part of each row's id" for c in spec.id_columns}, source=source)
    joined = frame[list(spec.id_columns)].astype("string").fillna("").agg("\x1f".join, axis=1)
    ids = joined.map(lambda key: hashlib.sha1(key.encode()).hexdigest()[:16])
    repeated = ids.duplicated(keep="first")
    if repeated.any():
        first = int(repeated.to_numpy().nonzero()[0][0])
        names = ", ".join(f"`{c}`" for c in spec.id_columns)
        raise DataError(
            f"In {source}, the columns {names} do not tell rows apart: {plural(int(repeated.sum()), 'row')} repeat "
            f"an earlier row's values, first at row {spreadsheet_row(first)}. Add a column that differs, or "
            "number the rows instead."
        )
    return frame.assign(**{ID_COLUMN: ids.to_numpy()})
