"""Batches: every write of rows or outcomes, who sent it, and taking one back.

A batch that is taken back loses its rows, every version's predictions on them, their outcomes and
any outcomes that came in the same batch (or, for an outcomes batch, those outcomes), in one
transaction; its `batches` row stays, marked
removed with who and when, so the history of the store stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.errors import NotFoundError
from core.errors import StoreError
from core.store.connection import Connection
from core.store.connection import quote_ident
from core.store.rows import rows_table_name

REMOVABLE = ("predictions", "labels")
"""Batches a person may take back; the rows a model was created or trained with go with the model."""


@dataclass(frozen=True)
class RemovedBatch:
    """What taking a batch back removed."""

    batch_id: str
    model: str
    kind: str
    rows: int
    predictions: int
    labels: int
    first_ts: datetime | None
    last_ts: datetime | None


class BatchesFamily:
    """The `batches` table, and removing one batch's data from the rows, predictions and labels tables."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def list_batches(self, *, model: str, include_removed: bool = True) -> pd.DataFrame:
        """Batches of `model`, newest first: id, kind, when, source, rows, who, and removal if any."""
        sql = (
            "SELECT id, kind, created_at, source, n_rows, actor, removed_at, removed_by, removed_rows "
            "FROM batches WHERE model = ?"
        )
        if not include_removed:
            sql += " AND removed_at IS NULL"
        return self.conn.query_df(sql + " ORDER BY created_at DESC, id", [model])

    def get_batch(self, batch_id: str) -> dict:
        """One batch as a dict, or NotFoundError naming the id."""
        frame = self.conn.query_df("SELECT * FROM batches WHERE id = ?", [batch_id])
        if frame.empty:
            raise NotFoundError(f"There is no batch {batch_id!r}; `python -m core batches --model NAME` lists them.")
        return frame.iloc[0].to_dict()

    def remove_batch(self, *, batch_id: str, by: str) -> RemovedBatch:
        """Take one batch back in one transaction; see the module docstring."""
        if not by.strip():
            raise StoreError("Say who is removing the batch (a name or email).")
        batch = self.get_batch(batch_id)
        if pd.notna(batch["removed_at"]):
            raise StoreError(
                f"Batch {batch_id} was already removed on {pd.Timestamp(batch['removed_at']):%Y-%m-%d %H:%M} "
                f"by {batch['removed_by']}."
            )
        if batch["kind"] not in REMOVABLE:
            raise StoreError(
                f"Batch {batch_id} holds the {batch['kind']} rows of model `{batch['model']}`; they go with the model "
                "or its version, so it cannot be removed on its own."
            )
        model = batch["model"]
        sql = _statements(quote_ident(rows_table_name(model)))
        with self.conn.transaction() as cur:
            if batch["kind"] == "labels":
                n_labels, first, last = cur.execute(sql["label_span"], [model, batch_id]).fetchone()
                cur.execute("DELETE FROM labels WHERE model = ? AND batch_id = ?", [model, batch_id])
                n_rows, n_predictions = 0, 0
            else:
                n_rows, first, last = cur.execute(sql["row_span"], [batch_id]).fetchone()
                n_predictions = cur.execute(sql["count_predictions"], [model, batch_id]).fetchone()[0]
                n_labels = cur.execute(sql["count_labels"], [model, batch_id, batch_id]).fetchone()[0]
                cur.execute(sql["delete_predictions"], [model, batch_id])
                cur.execute(sql["delete_labels"], [model, batch_id, batch_id])
                cur.execute(sql["delete_rows"], [batch_id])
            cur.execute(
                "UPDATE batches SET removed_at = ?, removed_by = ?, removed_rows = ? WHERE id = ?",
                [datetime.now(), by.strip(), int(n_rows) + int(n_labels), batch_id],
            )
        return RemovedBatch(
            batch_id=batch_id,
            model=model,
            kind=batch["kind"],
            rows=int(n_rows),
            predictions=int(n_predictions),
            labels=int(n_labels),
            first_ts=first,
            last_ts=last,
        )


def _statements(table: str) -> dict[str, str]:
    """The statements that take one batch back, for a model's (already quoted) rows table."""
    rows = f"SELECT _row_id FROM {table} WHERE _batch_id = ?"  # noqa: S608 - quoted, validated name
    ids = f"SELECT _entity_id FROM {table} WHERE _batch_id = ?"  # noqa: S608
    return {
        "label_span": f"SELECT count(*), min(r._ts), max(r._ts) FROM labels l JOIN {table} r "  # noqa: S608
        "ON r._entity_id = l.entity_id WHERE l.model = ? AND l.batch_id = ?",
        "row_span": f"SELECT count(*), min(_ts), max(_ts) FROM {table} WHERE _batch_id = ?",  # noqa: S608
        "count_predictions": f"SELECT count(*) FROM predictions WHERE model = ? AND row_id IN ({rows})",  # noqa: S608
        "count_labels": f"SELECT count(*) FROM labels WHERE model = ? AND (batch_id = ? OR entity_id IN ({ids}))",  # noqa: S608
        "delete_predictions": f"DELETE FROM predictions WHERE model = ? AND row_id IN ({rows})",  # noqa: S608
        "delete_labels": f"DELETE FROM labels WHERE model = ? AND (batch_id = ? OR entity_id IN ({ids}))",  # noqa: S608
        "delete_rows": f"DELETE FROM {table} WHERE _batch_id = ?",  # noqa: S608
    }
