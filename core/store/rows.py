"""What the models saw and said: the per-model rows tables, `predictions`, `labels` and `batches`.

Each model has a table `rows__<model>` holding one row per scored case (its features, time, id and
whether it is training, validation or production data). Every version's answers on those rows live
in `predictions`, outcomes that arrive later in `labels` (joined by the case's id), and every write
is recorded as a batch.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from core import faults
from core.errors import StoreError
from core.predictions import Predictions
from core.schema import ModelSpec
from core.store.claims import batch_taken
from core.store.claims import reserve_ids
from core.store.claims import valid_batch_id
from core.store.connection import Connection
from core.store.connection import Cursor
from core.store.connection import quote_ident
from core.store.layout import REFERENCE_SPLITS  # noqa: F401 - where callers have always found them
from core.store.layout import SYSTEM_COLUMNS
from core.store.layout import WINDOW_LABELS
from core.store.layout import WINDOW_UNITS  # noqa: F401
from core.store.layout import feature_columns
from core.store.layout import insert_labels
from core.store.layout import prepare_rows
from core.store.layout import rows_table_name
from core.store.layout import stored_rows  # noqa: F401
from core.store.mappers import predictions_frame
from core.store.types import ModelStatus


class RowsFamily:
    """Rows, predictions, labels and batches of every model."""

    tables = ("predictions", "labels", "batches")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ writing
    def ensure_table(self, spec: ModelSpec) -> str:
        """Create the model's rows table, or add the columns a changed spec needs. Returns its name."""
        table = rows_table_name(spec.name)
        wanted = feature_columns(spec)
        with self.conn.transaction() as cur:
            have = self.conn.columns(cur, table)
            if not have:  # made whole at once: DuckLake loses rows inlined into a table made and altered in one commit
                columns = [*SYSTEM_COLUMNS, *(f"{quote_ident(c)} {t}" for c, t in wanted.items())]
                cur.execute(f"CREATE TABLE {quote_ident(table)} ({', '.join(columns)})")
            for col, sql_type in wanted.items():
                if have and col not in have:
                    sql = f"ALTER TABLE {quote_ident(table)} ADD COLUMN {quote_ident(col)} {sql_type}"
                    cur.execute(sql)
        return table

    def _record_batch(
        self, cur: Cursor, *, batch_id: str, model: str, kind: str, n_rows: int, source: str, actor: str
    ) -> None:
        cur.execute(
            "INSERT INTO batches (id, model, kind, n_rows, source, created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [batch_id, model, kind, n_rows, source, datetime.now(), actor],
        )

    def write_batch(
        self,
        *,
        spec: ModelSpec,
        rows: pd.DataFrame,
        predictions: dict[int, Predictions] | None = None,
        labels: pd.DataFrame | None = None,
        source: str = "",
        kind: str = "predictions",
        actor: str = "modelpulse",
        batch_id: str | None = None,
    ) -> str:
        """Write feature rows, each version's predictions on them and any labels, in ONE transaction.

        `rows` holds `_split`, `_set`, `_ts`, `_entity_id` (and `_target` for reference rows) plus
        the model's feature columns; `predictions` maps version -> :class:`Predictions` aligned with
        `rows`; `labels` has `entity_id`, `label`, `label_ts`. Returns the batch id.

        A `batch_id` chosen by the sender makes sending the same batch again harmless: a batch already
        stored is not written twice (its id is returned), and one another process is writing right now is
        refused with a sentence. On a shared store the row ids (and the batch id) are reserved first in a
        short locked transaction, so writers on many processes then append in parallel.
        """
        for version, pred in (predictions or {}).items():
            if len(pred.prediction) != len(rows):
                raise StoreError(
                    f"v{version} gave {len(pred.prediction):,} predictions for {len(rows):,} rows; nothing was written."
                )
        named = batch_id is not None
        batch_id = valid_batch_id(batch_id) if named else uuid.uuid4().hex
        prepared = prepare_rows(spec, rows)
        shared = self.conn.backend == "ducklake"
        start = None
        if shared:
            start = self.conn.retried(lambda: self._reserve(spec, len(prepared), batch_id if named else None))
            if start is None:
                return batch_id  # stored before: sending it again changes nothing
        # rows and predictions only: nothing to clash with, so no write lock; outcomes replace older ones
        append = shared and (labels is None or labels.empty)
        return self.conn.retried(
            lambda: self._write_rows(
                spec=spec,
                prepared=prepared,
                predictions=predictions,
                labels=labels,
                batch=dict(batch_id=batch_id, source=source, kind=kind, actor=actor),
                start=start,
                named=named,
                append=append,
            )
        )

    def _write_rows(
        self,
        *,
        spec: ModelSpec,
        prepared: pd.DataFrame,
        predictions: dict[int, Predictions] | None,
        labels: pd.DataFrame | None,
        batch: dict,
        start: int | None,
        named: bool,
        append: bool,
    ) -> str:
        batch_id = batch["batch_id"]
        with self.conn.transaction(append=append) as cur:
            if start is None:  # one writer (the file): reserve inside the same transaction, so a kill leaves no gap
                start = self._reserve_in(cur, spec, len(prepared), batch_id if named else None)
                if start is None:
                    return batch_id
            row_ids = np.arange(start, start + len(prepared), dtype="int64")
            # as Arrow, with the ids added: `prepared` stays as it was, for a retry
            table = pa.Table.from_pandas(prepared, preserve_index=False)
            table = table.add_column(0, "_row_id", pa.array(row_ids))
            table = table.append_column("_batch_id", pa.array(np.full(len(prepared), batch_id, dtype=object)))
            self.conn.insert(cur, rows_table_name(spec.name), table)
            for version, pred in (predictions or {}).items():
                out = predictions_frame(
                    model=spec.name,
                    version=version,
                    row_ids=row_ids,
                    ts=prepared["_ts"],
                    entity_ids=prepared["_entity_id"],
                    pred=pred,
                    batch_id=batch_id,
                )
                self.conn.insert(cur, "predictions", out)
            n_labels = self._insert_labels(cur, spec.name, labels, batch_id) if labels is not None else 0
            self._record_batch(
                cur,
                batch_id=batch_id,
                model=spec.name,
                kind=batch["kind"],
                n_rows=len(prepared) + n_labels,
                source=batch["source"],
                actor=batch["actor"],
            )
            faults.point("batch.before_commit")
        faults.point("batch.committed")
        return batch_id

    def _reserve(self, spec: ModelSpec, n: int, batch_id: str | None) -> int | None:
        with self.conn.transaction() as cur:
            return self._reserve_in(cur, spec, n, batch_id)

    @staticmethod
    def _reserve_in(cur: Cursor, spec: ModelSpec, n: int, batch_id: str | None) -> int | None:
        """The first of `n` row ids taken for the model, or None when the named batch is stored already."""
        if batch_id is not None and batch_taken(cur, model=spec.name, batch_id=batch_id):
            return None
        return reserve_ids(cur, model=spec.name, table=quote_ident(rows_table_name(spec.name)), n=n)

    def _insert_labels(self, cur: Cursor, model: str, labels: pd.DataFrame, batch_id: str) -> int:
        if labels.empty:
            return 0
        frame = pd.DataFrame(
            {
                "model": model,
                "entity_id": labels["entity_id"].astype("string").to_numpy(),
                "label": pd.to_numeric(labels["label"]).astype("float64").to_numpy(),
                "label_ts": pd.to_datetime(labels["label_ts"]).astype("datetime64[us]").to_numpy(),
                "batch_id": batch_id,
            }
        )
        with self.conn.registered(cur, frame, "labels") as source:
            # a corrected label replaces the earlier one for the same entity
            sql = f"DELETE FROM labels WHERE model = ? AND entity_id IN (SELECT entity_id FROM {source})"  # noqa: S608
            cur.execute(sql, [model])
            cur.execute(insert_labels(source, quote_ident(rows_table_name(model))))
        return len(frame)

    def write_labels(
        self,
        *,
        model: str,
        labels: pd.DataFrame,
        source: str = "",
        actor: str = "modelpulse",
        batch_id: str | None = None,
    ) -> str:
        """Store labels (`entity_id`, `label`, `label_ts`) in one transaction; returns the batch id (a `batch_id`
        the sender chose is stored once, however often it is sent)."""
        named = batch_id is not None
        batch_id = valid_batch_id(batch_id) if named else uuid.uuid4().hex

        def write() -> str:
            with self.conn.transaction() as cur:  # outcomes replace older ones: under the write lock
                if named and batch_taken(cur, model=model, batch_id=batch_id):
                    return batch_id
                n = self._insert_labels(cur, model, labels, batch_id)
                self._record_batch(
                    cur, batch_id=batch_id, model=model, kind="labels", n_rows=n, source=source, actor=actor
                )
            return batch_id

        return self.conn.retried(write)

    def write_predictions(
        self,
        *,
        spec: ModelSpec,
        version: int,
        row_ids: np.ndarray,
        ts: np.ndarray,
        entity_ids: np.ndarray,
        predictions: Predictions,
    ) -> str:
        """Add one version's predictions for rows already stored, in one transaction."""
        batch_id = uuid.uuid4().hex
        frame = predictions_frame(
            model=spec.name,
            version=version,
            row_ids=row_ids,
            ts=ts,
            entity_ids=entity_ids,
            pred=predictions,
            batch_id=batch_id,
        )
        with self.conn.transaction() as cur:
            self.conn.insert(cur, "predictions", frame)
            self._record_batch(
                cur,
                batch_id=batch_id,
                model=spec.name,
                kind="backfill",
                n_rows=len(frame),
                source=f"v{version} shadow scores",
                actor="modelpulse",
            )
        return batch_id

    def delete_model(self, model: str) -> None:
        """Forget every row, prediction, label and batch of `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            self.conn.delete(cur, self.tables, where="model = ?", params=[model])
            sql = f"DROP TABLE IF EXISTS {quote_ident(rows_table_name(model))}"
            cur.execute(sql)

    # ------------------------------------------------------------------ reading
    def known_entities(self, *, model: str, ids: list[str]) -> set[str]:
        """Which of `ids` are already stored for `model`."""
        if not ids:
            return set()
        table = quote_ident(rows_table_name(model))
        wanted = pa.table({"id": pa.array([str(i) for i in ids], type=pa.string())})
        with self.conn.reading() as cur, self.conn.registered(cur, wanted, "ids") as source:
            sql = f"SELECT DISTINCT r._entity_id FROM {table} r JOIN {source} i ON i.id = r._entity_id"  # noqa: S608
            found = cur.execute(sql).fetchall()
        return {r[0] for r in found}

    def counts(self, specs: list[ModelSpec]) -> dict[str, int]:
        """Row counts of the shared tables and each model's rows table."""
        out = {}
        for t in self.tables:
            out[t] = int(self.conn.fetch(f"SELECT count(*) FROM {quote_ident(t)}")[0][0])  # noqa: S608
        for spec in specs:
            table = rows_table_name(spec.name)
            out[table] = int(self.conn.fetch(f"SELECT count(*) FROM {quote_ident(table)}")[0][0])  # noqa: S608
        return out

    def model_status(self, spec: ModelSpec, *, versions: list[int], live: int | None) -> ModelStatus:
        """Stored rows, label coverage and date range of one model."""
        table = quote_ident(rows_table_name(spec.name))
        prod = self.conn.fetch(
            f"""SELECT count(*), min(r._ts), max(r._ts), count(l.entity_id)
                FROM {table} r LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                WHERE r._split = 'production'""",  # noqa: S608
            [spec.name],
        )[0]
        n_pred = int(self.conn.fetch("SELECT count(*) FROM predictions WHERE model = ?", [spec.name])[0][0])
        return ModelStatus(
            name=spec.name,
            title=spec.title,
            task=spec.task,
            versions=versions,
            live_version=live,
            production_rows=int(prod[0]),
            predictions=n_pred,
            labelled_rows=int(prod[3]),
            first_ts=prod[1],
            last_ts=prod[2],
        )

    def read_reference(self, *, spec: ModelSpec, reference_set: str, version: int) -> pd.DataFrame:
        """Reference rows (train + validation) of a set, with `version`'s predictions on them."""
        # the set's row ids bound the predictions read, so the scan of predictions skips every row group of
        # production answers (which grow with the store) instead of probing them all
        table = quote_ident(rows_table_name(spec.name))
        sql = f"SELECT min(_row_id), max(_row_id) FROM {table} WHERE _set = ? AND _split IN ('train', 'validation')"  # noqa: S608
        lo, hi = self.conn.fetch(sql, [reference_set])[0]
        return self._read_rows(
            spec=spec,
            version=version,
            where="r._set = ? AND r._split IN ('train', 'validation') AND p.row_id BETWEEN ? AND ?",
            params=[reference_set, lo if lo is not None else 0, hi if hi is not None else -1],
            with_labels=False,
            ordered=True,
        )

    def read_window(self, *, spec: ModelSpec, version: int, start: datetime, end: datetime) -> pd.DataFrame:
        """Production rows with `start <= ts < end`, `version`'s predictions and any labels that arrived."""
        return self._read_rows(
            spec=spec,
            version=version,
            where="r._split = 'production' AND r._ts >= ? AND r._ts < ? AND p.ts >= ? AND p.ts < ?",
            params=[start, end, start, end],
            with_labels=True,
            label_range=(start, end),
        )

    def _read_rows(
        self,
        *,
        spec: ModelSpec,
        version: int,
        where: str,
        params: list,
        with_labels: bool,
        ordered: bool = False,
        label_range: tuple[datetime, datetime] | None = None,
    ) -> pd.DataFrame:
        # Sorting a million-row window costs more than the checks that read it, and only sampling cares
        # about order: the reference is read ordered once, and the runner sorts a window it will sample.
        table = quote_ident(rows_table_name(spec.name))
        feats = ", ".join(f"r.{quote_ident(c)}" for c in feature_columns(spec))
        label_sql = (
            "l.label AS _label, l.label_ts AS _label_ts" if with_labels else "r._target AS _label, NULL AS _label_ts"
        )
        join = WINDOW_LABELS if with_labels else ""
        scores = "p.scores AS _scores" if spec.task == "multiclass" else "NULL AS _scores"
        sql = f"""SELECT r._row_id, r._split, r._ts, r._entity_id, {feats},
                         p.prediction AS _prediction, p.probability AS _probability, {scores}, {label_sql}
                  FROM {table} r
                  JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
                  {join}
                  WHERE {where}
                  {"ORDER BY r._ts, r._row_id" if ordered else ""}"""  # noqa: S608
        args: list = [spec.name, int(version)] + ([spec.name, *label_range] if with_labels else []) + params
        return self.conn.query_df(sql, args)

    def rows_without_predictions(self, *, spec: ModelSpec, version: int) -> pd.DataFrame:
        """Stored rows (with features) that `version` has not scored yet."""
        table = quote_ident(rows_table_name(spec.name))
        feats = ", ".join(f"r.{quote_ident(c)}" for c in feature_columns(spec))
        return self.conn.query_df(
            f"""SELECT r._row_id, r._ts, r._entity_id, {feats} FROM {table} r
                WHERE NOT EXISTS (SELECT 1 FROM predictions p
                                  WHERE p.model = ? AND p.version = ? AND p.row_id = r._row_id)
                ORDER BY r._row_id""",  # noqa: S608
            [spec.name, int(version)],
        )

    def reference_rows(self, *, spec: ModelSpec, reference_set: str) -> int:
        """How many training and validation rows a reference set holds (0 means a version cannot be monitored)."""
        table = quote_ident(rows_table_name(spec.name))
        sql = f"SELECT count(*) FROM {table} WHERE _set = ? AND _split IN ('train', 'validation')"  # noqa: S608
        return int(self.conn.fetch(sql, [reference_set])[0][0])

    def scoring_backlog(self, *, spec: ModelSpec, versions: list[int]) -> dict[int, int]:
        """How many stored rows each of `versions` has not scored yet (counts only: cheap on every refresh)."""
        table = quote_ident(rows_table_name(spec.name))
        n_rows = int(self.conn.fetch(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608
        scored = dict(
            self.conn.fetch("SELECT version, count(*) FROM predictions WHERE model = ? GROUP BY version", [spec.name])
        )
        return {v: n_rows - int(scored.get(v, 0)) for v in versions if n_rows > int(scored.get(v, 0))}

    def read_labelled(self, *, spec: ModelSpec) -> pd.DataFrame:
        """Every stored case with a known outcome, once per id (its latest row): `_ts`, `_entity_id`, the
        stored feature columns and `_label` (a reference row's target, or the outcome that arrived)."""
        table = quote_ident(rows_table_name(spec.name))
        feats = ", ".join(f"r.{quote_ident(c)}" for c in feature_columns(spec))
        return self.conn.query_df(
            f"""SELECT r._ts, r._entity_id, {feats}, coalesce(l.label, r._target) AS _label
                FROM {table} r LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                WHERE coalesce(l.label, r._target) IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY r._entity_id ORDER BY r._row_id DESC) = 1
                ORDER BY r._ts, r._entity_id""",  # noqa: S608
            [spec.name],
        )
