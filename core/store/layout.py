"""How a model's rows are laid out: the per-model table `rows__<model>`, its system columns, the feature
columns a spec keeps, the frame :meth:`core.store.rows.RowsFamily.write_batch` takes, and how outcomes meet
their rows (each keeps its row's time)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.schema import ModelSpec
from core.schema import validate_column_name
from core.schema import validate_model_name

REFERENCE_SPLITS = ("train", "validation")
WINDOW_UNITS = {"day": "day", "week": "week", "month": "month"}
SYSTEM_COLUMNS = [
    '"_row_id" BIGINT NOT NULL',
    '"_split" VARCHAR NOT NULL',
    '"_set" VARCHAR NOT NULL',
    '"_ts" TIMESTAMP NOT NULL',
    '"_entity_id" VARCHAR NOT NULL',
    '"_target" DOUBLE',
    '"_batch_id" VARCHAR NOT NULL',
]


def rows_table_name(model: str) -> str:
    """Name of the per-model table holding feature rows."""
    return f"rows__{validate_model_name(model)}"


def feature_columns(spec: ModelSpec) -> dict[str, str]:
    """Feature and business columns kept for each row of `spec`'s model, with their SQL types."""
    cols = {c: "DOUBLE" for c in spec.numerical}
    cols.update({c: "VARCHAR" for c in spec.categorical})
    for extra in (spec.business.value_column, spec.business.quantity_column):
        if extra and extra not in cols:
            cols[validate_column_name(extra)] = "DOUBLE"
    return cols


def stored_rows(
    features: pd.DataFrame,
    *,
    ts: Any,
    entity_ids: Any,
    split: Any,
    reference_set: str,
    target: Any = None,
) -> pd.DataFrame:
    """Rows in the layout :meth:`RowsFamily.write_batch` takes: the feature columns plus

    - `_split`: `train`, `validation` or `production` (one value or one per row);
    - `_set`: `production` for production rows, `reference_set` for the others;
    - `_ts`, `_entity_id`: each row's time and id;
    - `_target`: the encoded outcome of reference rows (class index or value); production outcomes
      arrive as labels, never here.
    """
    rows = features.copy()
    rows["_split"] = np.asarray(split) if not isinstance(split, str) else split
    production = (rows["_split"] == "production").to_numpy()
    rows["_set"] = np.where(production, "production", reference_set)
    rows["_ts"] = np.asarray(ts)
    rows["_entity_id"] = np.asarray(entity_ids)
    target = np.full(len(rows), np.nan) if target is None else pd.to_numeric(np.asarray(target), errors="coerce")
    rows["_target"] = np.where(production, np.nan, target)
    return rows


def prepare_rows(spec: ModelSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` (as :func:`stored_rows` lays them out) with every kept column in its stored type."""
    cols = feature_columns(spec)
    n = len(rows)
    data: dict[str, Any] = {
        "_split": rows["_split"].astype("string").to_numpy(),
        "_set": rows["_set"].astype("string").to_numpy(),
        "_ts": pd.to_datetime(rows["_ts"]).astype("datetime64[us]").to_numpy(),
        "_entity_id": rows["_entity_id"].astype("string").to_numpy(),
        "_target": pd.to_numeric(rows["_target"], errors="coerce").astype("float64").to_numpy()
        if "_target" in rows
        else np.full(n, np.nan),
    }
    # build every column first and the frame once: column-by-column assignment is slow in pandas
    for col, sql_type in cols.items():
        if col not in rows:
            data[col] = np.full(n, np.nan) if sql_type == "DOUBLE" else pd.array([None] * n, dtype="string")
        elif sql_type == "DOUBLE":
            data[col] = pd.to_numeric(rows[col], errors="coerce").astype("float64").to_numpy()
        else:
            data[col] = rows[col].astype("string").to_numpy()
    return pd.DataFrame(data)


WINDOW_LABELS = "LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id AND l.row_ts >= ? AND l.row_ts < ?"
"""Outcomes of the rows `r` of one time range (parameters: model, start, end). The range is on the outcome's own
copy of its row's time, so DuckDB skips the row groups of older outcomes instead of probing every stored id."""


def insert_labels(source: str, table: str) -> str:
    """The statement storing the outcomes in `source` (quoted), each with the time of its production row in
    the model's quoted rows `table`, so that a window's outcomes are read by time (`WINDOW_LABELS`) rather than
    by probing every stored outcome's id."""
    times = (
        f"(SELECT _entity_id, max(_ts) AS ts FROM {table} "  # noqa: S608 - quoted names
        f"WHERE _split = 'production' AND _entity_id IN (SELECT entity_id FROM {source}) GROUP BY 1)"
    )
    return f"""INSERT INTO labels (model, entity_id, label, label_ts, batch_id, row_ts)
               SELECT s.model, s.entity_id, s.label, s.label_ts, s.batch_id, m.ts
               FROM {source} s LEFT JOIN {times} m ON m._entity_id = s.entity_id"""  # noqa: S608
