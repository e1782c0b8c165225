"""The DuckDB store: the only module that writes SQL.

One database file holds models, versions (and which is live), reference data, every prediction,
labels that arrive later, monitoring results and alerts. Rules kept here:

- every value is a parameter; identifiers (per-model table and column names) are validated by
  `core.schema` and quoted by :func:`quote_ident`;
- every write is one transaction: a batch that fails leaves nothing behind;
- bulk rows go in through a registered Arrow table (`INSERT ... SELECT`), never row by row;
- each query runs on its own cursor, so one store object can serve several threads;
- the database is opened by :func:`connect` alone, so a DuckLake catalog can replace the file later.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import NotFoundError
from core.errors import StoreError
from core.errors import StoreLockedError
from core.errors import StoreMissingError
from core.schema import ModelSpec
from core.schema import validate_column_name
from core.schema import validate_model_name

SCHEMA_VERSION = 3
DUCKDB_MAGIC = b"DUCK"
MEMORY_LIMIT = "1GB"
"""DuckDB's buffer pool defaults to 80% of the machine's memory; monitoring reads one window at a time,
so a small pool keeps the whole process under 2 GB with 10 million stored predictions (bench/RESULTS.md)."""
REFERENCE_SPLITS = ("train", "validation")

MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE models (
            name VARCHAR PRIMARY KEY,
            spec JSON NOT NULL,
            rows_table VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE model_versions (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL,
            weights_path VARCHAR,
            weights_sha256 VARCHAR,
            reference_set VARCHAR NOT NULL,
            metadata JSON NOT NULL,
            is_live BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (model, version))""",
        """CREATE TABLE promotions (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            promoted_at TIMESTAMP NOT NULL,
            promoted_by VARCHAR NOT NULL,
            note VARCHAR)""",
        """CREATE TABLE batches (
            id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            n_rows BIGINT NOT NULL,
            source VARCHAR,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE predictions (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            row_id BIGINT NOT NULL,
            ts TIMESTAMP NOT NULL,
            entity_id VARCHAR NOT NULL,
            prediction DOUBLE,
            probability DOUBLE,
            scores DOUBLE[],
            batch_id VARCHAR NOT NULL)""",
        """CREATE TABLE labels (
            model VARCHAR NOT NULL,
            entity_id VARCHAR NOT NULL,
            label DOUBLE NOT NULL,
            label_ts TIMESTAMP NOT NULL,
            batch_id VARCHAR NOT NULL,
            PRIMARY KEY (model, entity_id))""",
    ],
    2: [
        """CREATE TABLE monitor_windows (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            scope VARCHAR NOT NULL,
            window_start TIMESTAMP NOT NULL,
            window_end TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            fingerprint VARCHAR NOT NULL,
            computed_at TIMESTAMP NOT NULL,
            seconds DOUBLE,
            PRIMARY KEY (model, version, scope, window_start))""",
        """CREATE TABLE check_results (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            scope VARCHAR NOT NULL,
            window_start TIMESTAMP,
            window_end TIMESTAMP,
            check_kind VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            column_name VARCHAR,
            method VARCHAR,
            value DOUBLE,
            threshold DOUBLE,
            reference DOUBLE,
            lower DOUBLE,
            upper DOUBLE,
            status VARCHAR NOT NULL,
            message VARCHAR NOT NULL,
            n_rows BIGINT,
            details JSON)""",
        """CREATE TABLE window_stats (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            window_start TIMESTAMP NOT NULL,
            window_end TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            stats JSON NOT NULL,
            PRIMARY KEY (model, version, window_start))""",
        """CREATE TABLE alerts (
            id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            version INTEGER,
            rule VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            what VARCHAR NOT NULL,
            cost VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            cost_value DOUBLE,
            value DOUBLE,
            threshold DOUBLE,
            first_window TIMESTAMP,
            last_window TIMESTAMP,
            windows INTEGER NOT NULL,
            opened_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            resolved_at TIMESTAMP)""",
        """CREATE TABLE alert_events (
            alert_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            happened_at TIMESTAMP NOT NULL,
            event VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            comment VARCHAR,
            window_start TIMESTAMP)""",
    ],
    3: [
        """CREATE TABLE daily_stats (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            day DATE NOT NULL,
            window_start TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            stats JSON NOT NULL,
            PRIMARY KEY (model, version, day))""",
    ],
}


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL after checking it carries no quote or control character."""
    if not isinstance(name, str) or not name or '"' in name or re.search(r"[\x00-\x1f]", name):
        raise StoreError(f"{name!r} cannot be used as a table or column name.")
    return f'"{name}"'


def rows_table_name(model: str) -> str:
    """Name of the per-model table holding feature rows."""
    return f"rows__{validate_model_name(model)}"


def _now() -> datetime:
    return datetime.now()


def _describe_lock(exc: Exception) -> str:
    match = re.search(r"PID (\d+)", str(exc))
    return f" (process {match.group(1)})" if match else ""


def connect(path: Path, *, read_only: bool = False, create: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store's database file; the single place a connection is made.

    Raises a :class:`StoreError` subclass with one sentence for a missing, damaged or locked file;
    nothing is written to a file that is not a DuckDB database.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise StoreMissingError(
                f"No ModelPulse store at {path}. Create the demo with `make run` (or `python -m core demo`), "
                "or point MODELPULSE_DB at an existing store."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.is_dir():
        raise StoreError(f"The store path {path} is a folder, not a DuckDB file.")
    else:
        with path.open("rb") as fh:
            header = fh.read(12)
        if len(header) < 12 or header[8:12] != DUCKDB_MAGIC:
            raise StoreError(
                f"The store file {path} is not a DuckDB database (it is empty, damaged or another kind of file); "
                "it was left untouched. Move it away or set MODELPULSE_DB to another path."
            )
    try:
        return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": MEMORY_LIMIT})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"The store {path} is open in another process{_describe_lock(exc)}, probably the running app. "
                f"Send data through the app instead: drop the file into {path.parent / 'inbox'}/<model>/ "
                "(labels into <model>/labels/), or use the upload page; or stop that process first."
            ) from exc
        raise StoreError(f"The store file {path} could not be opened: it looks damaged ({exc}).") from exc
    except duckdb.Error as exc:
        raise StoreError(f"The store file {path} could not be opened: {exc}.") from exc


@dataclass(frozen=True)
class VersionInfo:
    """One saved model version as the store records it."""

    model: str
    version: int
    created_at: datetime
    weights_path: str | None
    weights_sha256: str | None
    reference_set: str
    metadata: dict
    is_live: bool


@dataclass(frozen=True)
class ModelStatus:
    """Counts for one model, as shown by `python -m core status` and the Home page."""

    name: str
    title: str
    task: str
    versions: list[int]
    live_version: int | None
    production_rows: int
    predictions: int
    labelled_rows: int
    first_ts: datetime | None
    last_ts: datetime | None

    @property
    def label_coverage(self) -> float:
        """Share of production rows whose label has arrived."""
        return self.labelled_rows / self.production_rows if self.production_rows else 0.0


class Store:
    """A ModelPulse store on one DuckDB file. Use :meth:`open`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self.closed = False

    # ------------------------------------------------------------------ opening and schema
    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False, create: bool = False) -> Store:
        """Open (and, unless read-only, migrate) the store at `path`."""
        path = Path(path)
        con = connect(path, read_only=read_only, create=create)
        store = cls(con, path, read_only=read_only)
        try:
            store._check_or_migrate()
        except BaseException:
            con.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        self.closed = True
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    def query_df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a read query with parameters on a fresh cursor and return a DataFrame."""
        cur = self._cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def _fetch(self, sql: str, params: list | tuple | None = None) -> list[tuple]:
        cur = self._cursor()
        try:
            return cur.execute(sql, params or []).fetchall()
        finally:
            cur.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction on its own cursor: commit on success, roll back on any error."""
        if self.read_only:
            raise StoreError(f"The store {self.path} was opened read-only; this change needs write access.")
        with self._lock:
            cur = self._cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                cur.close()
                raise
            try:
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise StoreError(f"Saving to the store failed and nothing was written: {exc}") from exc
            finally:
                cur.close()

    def _tables(self) -> set[str]:
        return {
            r[0] for r in self._fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
        }

    def schema_version(self) -> int:
        """The schema version recorded in the file (0 for an empty database)."""
        if "schema_version" not in self._tables():
            return 0
        row = self._fetch("SELECT max(version) FROM schema_version")[0]
        return int(row[0] or 0)

    def _check_or_migrate(self) -> None:
        try:
            tables = self._tables()
            if tables and "schema_version" not in tables:
                raise StoreError(
                    f"{self.path} is a DuckDB database but not a ModelPulse store (it has no schema_version table); "
                    "it was left untouched."
                )
            current = self.schema_version()
        except duckdb.Error as exc:
            raise StoreError(f"The store file {self.path} could not be read: it looks damaged ({exc}).") from exc
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"The store {self.path} was written by a newer ModelPulse (schema {current}, this code knows "
                f"{SCHEMA_VERSION}); upgrade ModelPulse to open it."
            )
        if current < SCHEMA_VERSION:
            if self.read_only:
                raise StoreError(f"The store {self.path} needs an upgrade; open it once with write access.")
            self.migrate()

    def migrate(self) -> int:
        """Apply missing migrations, each in its own transaction; idempotent. Returns the version reached."""
        with self.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
        current = self.schema_version()
        for version in sorted(v for v in MIGRATIONS if v > current):
            with self.transaction() as cur:
                for statement in MIGRATIONS[version]:
                    cur.execute(statement)
                cur.execute("INSERT INTO schema_version VALUES (?, ?)", [version, _now()])
        return self.schema_version()

    # ------------------------------------------------------------------ models and versions
    def upsert_model(self, spec: ModelSpec) -> None:
        """Register a model (or update its description) and make sure its rows table has every column."""
        existing = self.get_spec(spec.name, missing_ok=True)
        if existing is not None and existing.task != spec.task:
            raise StoreError(
                f"Model `{spec.name}` already exists as a {existing.task} model; it cannot become {spec.task}."
            )
        with self.transaction() as cur:
            self._upsert_model(cur, spec, existing=existing)

    def _upsert_model(self, cur: duckdb.DuckDBPyConnection, spec: ModelSpec, *, existing: ModelSpec | None) -> None:
        table = rows_table_name(spec.name)
        cols = [
            '"_row_id" BIGINT NOT NULL',
            '"_split" VARCHAR NOT NULL',
            '"_set" VARCHAR NOT NULL',
            '"_ts" TIMESTAMP NOT NULL',
            '"_entity_id" VARCHAR NOT NULL',
            '"_target" DOUBLE',
            '"_batch_id" VARCHAR NOT NULL',
        ]
        sql = f"CREATE TABLE IF NOT EXISTS {quote_ident(table)} ({', '.join(cols)})"
        cur.execute(sql)
        have = {
            r[0]
            for r in cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
            ).fetchall()
        }
        for col, sql_type in self._feature_columns(spec).items():
            if col not in have:
                sql = f"ALTER TABLE {quote_ident(table)} ADD COLUMN {quote_ident(col)} {sql_type}"
                cur.execute(sql)
        payload = spec.model_dump_json()
        if existing is None:
            cur.execute("INSERT INTO models VALUES (?, ?, ?, ?, ?)", [spec.name, payload, table, _now(), _now()])
        else:
            cur.execute("UPDATE models SET spec = ?, updated_at = ? WHERE name = ?", [payload, _now(), spec.name])

    @staticmethod
    def _feature_columns(spec: ModelSpec) -> dict[str, str]:
        cols = {c: "DOUBLE" for c in spec.numerical}
        cols.update({c: "VARCHAR" for c in spec.categorical})
        for extra in (spec.business.value_column, spec.business.quantity_column):
            if extra and extra not in cols:
                cols[validate_column_name(extra)] = "DOUBLE"
        return cols

    def stored_columns(self, spec: ModelSpec) -> list[str]:
        """Feature and business columns kept for each row of `spec`'s model."""
        return list(self._feature_columns(spec))

    def get_spec(self, name: str, *, missing_ok: bool = False) -> ModelSpec | None:
        """The stored spec of model `name`."""
        rows = self._fetch("SELECT spec FROM models WHERE name = ?", [name])
        if not rows:
            if missing_ok:
                return None
            raise NotFoundError(f"There is no model called `{name}` in the store.")
        return ModelSpec.model_validate_json(rows[0][0])

    def list_specs(self) -> list[ModelSpec]:
        """All models, in the order they were created."""
        return [
            ModelSpec.model_validate_json(r[0])
            for r in self._fetch("SELECT spec FROM models ORDER BY created_at, name")
        ]

    def next_version(self, model: str) -> int:
        """The number the next saved version of `model` gets."""
        return int(
            self._fetch("SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE model = ?", [model])[0][0]
        )

    def add_version(
        self,
        *,
        model: str,
        version: int,
        weights_path: str | None,
        weights_sha256: str | None,
        reference_set: str,
        metadata: dict,
        live: bool,
        by: str = "modelpulse",
    ) -> None:
        """Record a saved version; with `live=True` it becomes the live one (recorded as a promotion)."""
        self.get_spec(model)
        with self.transaction() as cur:
            self._add_version(
                cur,
                model=model,
                version=version,
                weights_path=weights_path,
                weights_sha256=weights_sha256,
                reference_set=reference_set,
                metadata=metadata,
                live=live,
                by=by,
            )

    def _add_version(
        self,
        cur: duckdb.DuckDBPyConnection,
        *,
        model: str,
        version: int,
        weights_path: str | None,
        weights_sha256: str | None,
        reference_set: str,
        metadata: dict,
        live: bool,
        by: str,
    ) -> None:
        cur.execute(
            "INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, ?, ?, FALSE)",
            [
                model,
                version,
                _now(),
                weights_path,
                weights_sha256,
                reference_set,
                json.dumps(metadata, default=float),
            ],
        )
        if live:
            self._promote(cur, model=model, version=version, by=by, note="first live version")

    @staticmethod
    def _promote(cur: duckdb.DuckDBPyConnection, *, model: str, version: int, by: str, note: str | None) -> None:
        cur.execute("UPDATE model_versions SET is_live = (version = ?) WHERE model = ?", [version, model])
        cur.execute("INSERT INTO promotions VALUES (?, ?, ?, ?, ?)", [model, version, _now(), by, note])

    def set_live(self, *, model: str, version: int, by: str, note: str | None = None) -> None:
        """Make `version` the live version of `model`, recording who did it and when."""
        if not by.strip():
            raise StoreError("Say who is promoting the version (a name or email).")
        self.get_version(model, version)
        with self.transaction() as cur:
            self._promote(cur, model=model, version=version, by=by.strip(), note=note)

    def promotions(self, model: str) -> pd.DataFrame:
        """Promotion history of `model`, newest first."""
        return self.query_df(
            "SELECT version, promoted_at, promoted_by, note FROM promotions WHERE model = ? ORDER BY promoted_at DESC",
            [model],
        )

    def _version_from_row(self, r: tuple) -> VersionInfo:
        return VersionInfo(
            model=r[0],
            version=int(r[1]),
            created_at=r[2],
            weights_path=r[3],
            weights_sha256=r[4],
            reference_set=r[5],
            metadata=json.loads(r[6]),
            is_live=bool(r[7]),
        )

    def list_versions(self, model: str) -> list[VersionInfo]:
        """All versions of `model`, oldest first."""
        rows = self._fetch("SELECT * FROM model_versions WHERE model = ? ORDER BY version", [model])
        return [self._version_from_row(r) for r in rows]

    def get_version(self, model: str, version: int) -> VersionInfo:
        """One version, or NotFoundError."""
        rows = self._fetch("SELECT * FROM model_versions WHERE model = ? AND version = ?", [model, int(version)])
        if not rows:
            raise NotFoundError(f"Model `{model}` has no version {version}.")
        return self._version_from_row(rows[0])

    def live_version(self, model: str) -> VersionInfo | None:
        """The live version of `model`, if one is set."""
        rows = self._fetch("SELECT * FROM model_versions WHERE model = ? AND is_live", [model])
        return self._version_from_row(rows[0]) if rows else None

    # ------------------------------------------------------------------ writing rows
    @staticmethod
    def _arrow(frame: pd.DataFrame) -> pa.Table:
        return pa.Table.from_pandas(frame, preserve_index=False)

    def _insert(self, cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
        name = f"batch_{uuid.uuid4().hex}"
        cur.register(name, self._arrow(frame))
        try:
            cols = ", ".join(quote_ident(c) for c in frame.columns)
            sql = f"INSERT INTO {quote_ident(table)} ({cols}) SELECT {cols} FROM {quote_ident(name)}"  # noqa: S608
            cur.execute(sql)
        finally:
            cur.unregister(name)

    def _prepare_rows(self, spec: ModelSpec, rows: pd.DataFrame) -> pd.DataFrame:
        cols = self._feature_columns(spec)
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

    def write_batch(
        self,
        *,
        spec: ModelSpec,
        rows: pd.DataFrame,
        predictions: dict[int, Any] | None = None,
        labels: pd.DataFrame | None = None,
        source: str = "",
        kind: str = "predictions",
    ) -> str:
        """Write feature rows, each version's predictions on them and any labels, in ONE transaction.

        `rows` holds `_split`, `_set`, `_ts`, `_entity_id` (and `_target` for reference rows) plus
        the model's feature columns; `predictions` maps version -> :class:`core.scoring.Predictions`
        aligned with `rows`; `labels` has `entity_id`, `label`, `label_ts`. Returns the batch id.
        """
        with self.transaction() as cur:
            return self._write_batch(
                cur, spec=spec, rows=rows, predictions=predictions, labels=labels, source=source, kind=kind
            )

    def _write_batch(
        self,
        cur: duckdb.DuckDBPyConnection,
        *,
        spec: ModelSpec,
        rows: pd.DataFrame,
        predictions: dict[int, Any] | None,
        labels: pd.DataFrame | None,
        source: str,
        kind: str,
    ) -> str:
        batch_id = uuid.uuid4().hex
        table = rows_table_name(spec.name)
        for version, pred in (predictions or {}).items():
            if len(pred.prediction) != len(rows):
                raise StoreError(
                    f"v{version} gave {len(pred.prediction):,} predictions for {len(rows):,} rows; nothing was written."
                )
        prepared = self._prepare_rows(spec, rows)
        sql = f"SELECT coalesce(max(_row_id), 0) FROM {quote_ident(table)}"  # noqa: S608
        start = int(cur.execute(sql).fetchone()[0])
        row_ids = np.arange(start + 1, start + 1 + len(prepared), dtype="int64")
        prepared.insert(0, "_row_id", row_ids)
        prepared["_batch_id"] = batch_id
        if len(prepared):
            self._insert(cur, table, prepared)
        for version, pred in (predictions or {}).items():
            frame = _predictions_frame(
                model=spec.name,
                version=version,
                row_ids=row_ids,
                ts=prepared["_ts"],
                entity_ids=prepared["_entity_id"],
                pred=pred,
                batch_id=batch_id,
            )
            if len(frame):
                self._insert(cur, "predictions", frame)
        n_labels = self._insert_labels(cur, spec.name, labels, batch_id) if labels is not None else 0
        cur.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
            [batch_id, spec.name, kind, len(prepared) + n_labels, source, _now()],
        )
        return batch_id

    def create_model(
        self,
        *,
        spec: ModelSpec,
        version: int,
        weights_path: str | None,
        weights_sha256: str | None,
        reference_set: str,
        metadata: dict,
        rows: pd.DataFrame,
        predictions: dict[int, Any],
        labels: pd.DataFrame | None,
        source: str,
        by: str,
    ) -> str:
        """Register a new model, its first (live) version and the whole file's rows in ONE transaction."""
        if self.get_spec(spec.name, missing_ok=True) is not None:
            raise StoreError(f"A model called `{spec.name}` already exists.")
        with self.transaction() as cur:
            self._upsert_model(cur, spec, existing=None)
            self._add_version(
                cur,
                model=spec.name,
                version=version,
                weights_path=weights_path,
                weights_sha256=weights_sha256,
                reference_set=reference_set,
                metadata=metadata,
                live=True,
                by=by,
            )
            return self._write_batch(
                cur, spec=spec, rows=rows, predictions=predictions, labels=labels, source=source, kind="upload"
            )

    def known_entities(self, *, model: str, ids: list[str]) -> set[str]:
        """Which of `ids` are already stored for `model`."""
        if not ids:
            return set()
        table = quote_ident(rows_table_name(model))
        name = f"ids_{uuid.uuid4().hex}"
        cur = self._cursor()
        try:
            cur.register(name, pa.table({"id": pa.array([str(i) for i in ids], type=pa.string())}))
            found = cur.execute(
                f"SELECT DISTINCT r._entity_id FROM {table} r JOIN {quote_ident(name)} i "  # noqa: S608
                "ON i.id = r._entity_id"
            ).fetchall()
            cur.unregister(name)
        finally:
            cur.close()
        return {r[0] for r in found}

    def _insert_labels(self, cur: duckdb.DuckDBPyConnection, model: str, labels: pd.DataFrame, batch_id: str) -> int:
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
        name = f"labels_{uuid.uuid4().hex}"
        cur.register(name, self._arrow(frame))
        try:
            # a corrected label replaces the earlier one for the same entity
            cur.execute(
                f"DELETE FROM labels WHERE model = ? AND entity_id IN (SELECT entity_id FROM {quote_ident(name)})",  # noqa: S608
                [model],
            )
            sql = f"INSERT INTO labels SELECT * FROM {quote_ident(name)}"  # noqa: S608
            cur.execute(sql)
        finally:
            cur.unregister(name)
        return len(frame)

    def write_labels(self, *, model: str, labels: pd.DataFrame, source: str = "") -> str:
        """Store labels (`entity_id`, `label`, `label_ts`) in one transaction; returns the batch id."""
        self.get_spec(model)
        batch_id = uuid.uuid4().hex
        with self.transaction() as cur:
            n = self._insert_labels(cur, model, labels, batch_id)
            cur.execute("INSERT INTO batches VALUES (?, ?, 'labels', ?, ?, ?)", [batch_id, model, n, source, _now()])
        return batch_id

    def delete_model(self, model: str) -> None:
        """Remove a model and everything stored for it, in one transaction."""
        table = rows_table_name(model)
        with self.transaction() as cur:
            for t in ("predictions", "labels", "model_versions", "promotions", "batches"):
                sql = f"DELETE FROM {quote_ident(t)} WHERE model = ?"  # noqa: S608
                cur.execute(sql, [model])
            for t in self._extra_model_tables():
                sql = f"DELETE FROM {quote_ident(t)} WHERE model = ?"  # noqa: S608
                cur.execute(sql, [model])
            cur.execute("DELETE FROM models WHERE name = ?", [model])
            sql = f"DROP TABLE IF EXISTS {quote_ident(table)}"
            cur.execute(sql)

    def _extra_model_tables(self) -> list[str]:
        # tables added by later migrations that carry a `model` column
        known = {"predictions", "labels", "model_versions", "promotions", "batches", "models", "schema_version"}
        rows = self._fetch(
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE column_name = 'model' AND table_schema = 'main'"
        )
        return sorted({r[0] for r in rows} - known)

    # ------------------------------------------------------------------ reading
    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (used by tests and `status`)."""
        out = {}
        for t in ("models", "model_versions", "predictions", "labels", "batches"):
            out[t] = int(self._fetch(f"SELECT count(*) FROM {quote_ident(t)}")[0][0])  # noqa: S608
        for spec in self.list_specs():
            table = rows_table_name(spec.name)
            out[table] = int(self._fetch(f"SELECT count(*) FROM {quote_ident(table)}")[0][0])  # noqa: S608
        return out

    def model_status(self, model: str) -> ModelStatus:
        """Versions, live version, stored rows, label coverage and date range of one model."""
        spec = self.get_spec(model)
        versions = self.list_versions(model)
        live = next((v.version for v in versions if v.is_live), None)
        table = quote_ident(rows_table_name(model))
        prod = self._fetch(
            f"""SELECT count(*), min(r._ts), max(r._ts), count(l.entity_id)
                FROM {table} r LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                WHERE r._split = 'production'""",  # noqa: S608
            [model],
        )[0]
        n_pred = int(self._fetch("SELECT count(*) FROM predictions WHERE model = ?", [model])[0][0])
        return ModelStatus(
            name=model,
            title=spec.title,
            task=spec.task,
            versions=[v.version for v in versions],
            live_version=live,
            production_rows=int(prod[0]),
            predictions=n_pred,
            labelled_rows=int(prod[3]),
            first_ts=prod[1],
            last_ts=prod[2],
        )

    def read_reference(self, *, spec: ModelSpec, reference_set: str, version: int) -> pd.DataFrame:
        """Reference rows (train + validation) of a set, with `version`'s predictions on them."""
        return self._read_rows(
            spec=spec,
            version=version,
            where="r._set = ? AND r._split IN ('train', 'validation')",
            params=[reference_set],
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
        )

    def _read_rows(
        self, *, spec: ModelSpec, version: int, where: str, params: list, with_labels: bool, ordered: bool = False
    ) -> pd.DataFrame:
        # Sorting a million-row window costs more than the checks that read it, and only sampling cares
        # about order: the reference is read ordered once, and the runner sorts a window it will sample.
        table = quote_ident(rows_table_name(spec.name))
        feats = ", ".join(f"r.{quote_ident(c)}" for c in self._feature_columns(spec))
        label_sql = (
            "l.label AS _label, l.label_ts AS _label_ts" if with_labels else "r._target AS _label, NULL AS _label_ts"
        )
        join = "LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id" if with_labels else ""
        scores = "p.scores AS _scores" if spec.task == "multiclass" else "NULL AS _scores"
        sql = f"""SELECT r._row_id, r._split, r._ts, r._entity_id, {feats},
                         p.prediction AS _prediction, p.probability AS _probability, {scores}, {label_sql}
                  FROM {table} r
                  JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
                  {join}
                  WHERE {where}
                  {"ORDER BY r._ts, r._row_id" if ordered else ""}"""  # noqa: S608
        args: list = [spec.name, int(version)] + ([spec.name] if with_labels else []) + params
        return self.query_df(sql, args)

    def rows_without_predictions(self, *, spec: ModelSpec, version: int) -> pd.DataFrame:
        """Stored rows (with features) that `version` has not scored yet."""
        table = quote_ident(rows_table_name(spec.name))
        feats = ", ".join(f"r.{quote_ident(c)}" for c in self._feature_columns(spec))
        return self.query_df(
            f"""SELECT r._row_id, r._ts, r._entity_id, {feats} FROM {table} r
                WHERE NOT EXISTS (SELECT 1 FROM predictions p
                                  WHERE p.model = ? AND p.version = ? AND p.row_id = r._row_id)
                ORDER BY r._row_id""",  # noqa: S608
            [spec.name, int(version)],
        )

    def write_predictions(
        self,
        *,
        spec: ModelSpec,
        version: int,
        row_ids: np.ndarray,
        ts: np.ndarray,
        entity_ids: np.ndarray,
        predictions: Any,
    ) -> str:
        """Add one version's predictions for rows already stored, in one transaction."""
        batch_id = uuid.uuid4().hex
        frame = _predictions_frame(
            model=spec.name,
            version=version,
            row_ids=row_ids,
            ts=ts,
            entity_ids=entity_ids,
            pred=predictions,
            batch_id=batch_id,
        )
        with self.transaction() as cur:
            self._insert(cur, "predictions", frame)
            cur.execute(
                "INSERT INTO batches VALUES (?, ?, 'backfill', ?, ?, ?)",
                [batch_id, spec.name, len(frame), f"v{version} shadow scores", _now()],
            )
        return batch_id

    # ------------------------------------------------------------------ monitoring
    _TRUNC = {"day": "day", "week": "week", "month": "month"}

    def window_fingerprints(self, *, spec: ModelSpec) -> pd.DataFrame:
        """Per production window: rows, labels and a fingerprint that changes when either changes."""
        unit = self._TRUNC[spec.window]
        table = quote_ident(rows_table_name(spec.name))
        return self.query_df(
            f"""SELECT date_trunc('{unit}', r._ts) AS window_start, count(*) AS n_rows, count(l.entity_id) AS n_labels,
                       coalesce(sum(l.label), 0) AS label_sum, max(l.label_ts) AS last_label
                FROM {table} r LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                WHERE r._split = 'production'
                GROUP BY 1 ORDER BY 1""",  # noqa: S608 - unit comes from a fixed mapping
            [spec.name],
        )

    def computed_windows(self, *, model: str, version: int, scope: str) -> dict[datetime, str]:
        """window_start -> fingerprint of windows already computed for this version and scope."""
        rows = self._fetch(
            "SELECT window_start, fingerprint FROM monitor_windows WHERE model = ? AND version = ? AND scope = ?",
            [model, int(version), scope],
        )
        return {pd.Timestamp(r[0]): r[1] for r in rows}

    def save_window(self, *, result: Any, scope: str) -> None:
        """Replace one window's results (checks, stats, bookkeeping) in one transaction."""
        records = result.to_records()
        with self.transaction() as cur:
            key = [result.model, int(result.version), scope, result.start]
            cur.execute(
                "DELETE FROM check_results WHERE model = ? AND version = ? AND scope = ? AND window_start = ?", key
            )
            cur.execute(
                "DELETE FROM monitor_windows WHERE model = ? AND version = ? AND scope = ? AND window_start = ?", key
            )
            if records:
                self._insert(cur, "check_results", self._check_frame(records, scope))
            cur.execute(
                "INSERT INTO monitor_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    result.model,
                    int(result.version),
                    scope,
                    result.start,
                    result.end,
                    int(result.n_rows),
                    int(result.n_labels),
                    result.fingerprint,
                    _now(),
                    float(result.seconds),
                ],
            )
            cur.execute(
                "DELETE FROM daily_stats WHERE model = ? AND version = ? AND window_start = ?",
                [result.model, int(result.version), result.start],
            )
            if result.daily:
                days = pd.DataFrame(
                    {
                        "model": result.model,
                        "version": int(result.version),
                        "day": pd.to_datetime([d for d, _ in result.daily]).date,
                        "window_start": pd.Timestamp(result.start),
                        "n_rows": [int(s["n"]) for _, s in result.daily],
                        "n_labels": [int(s["n_labelled"]) for _, s in result.daily],
                        "stats": [json.dumps(s, default=_json_default) for _, s in result.daily],
                    }
                )
                days["window_start"] = days["window_start"].astype("datetime64[us]")
                self._insert(cur, "daily_stats", days)
            if result.stats:
                cur.execute(
                    "DELETE FROM window_stats WHERE model = ? AND version = ? AND window_start = ?",
                    [result.model, int(result.version), result.start],
                )
                cur.execute(
                    "INSERT INTO window_stats VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        result.model,
                        int(result.version),
                        result.start,
                        result.end,
                        int(result.n_rows),
                        int(result.n_labels),
                        json.dumps(result.stats, default=_json_default),
                    ],
                )

    def save_version_checks(self, *, model: str, version: int, records: list[dict]) -> None:
        """Replace the version-level checks (no window: e.g. the train/validation gap)."""
        with self.transaction() as cur:
            cur.execute(
                "DELETE FROM check_results WHERE model = ? AND version = ? AND window_start IS NULL",
                [model, int(version)],
            )
            if records:
                self._insert(cur, "check_results", self._check_frame(records, "version"))

    @staticmethod
    def _check_frame(records: list[dict], scope: str) -> pd.DataFrame:
        frame = pd.DataFrame(records)
        out = pd.DataFrame(
            {
                "model": frame["model"].astype("string"),
                "version": frame["version"].astype("int32"),
                "scope": scope,
                "window_start": pd.to_datetime(frame["window_start"]).astype("datetime64[us]"),
                "window_end": pd.to_datetime(frame["window_end"]).astype("datetime64[us]"),
                "check_kind": frame["check"].astype("string"),
                "metric": frame["metric"].astype("string"),
                "column_name": frame["column"].astype("string"),
                "method": frame["method"].astype("string"),
            }
        )
        for col in ("value", "threshold", "reference", "lower", "upper"):
            out[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        out["status"] = frame["status"].astype("string")
        out["message"] = frame["message"].astype("string")
        out["n_rows"] = frame["n_rows"].astype("int64")
        out["details"] = [json.dumps(d, default=_json_default) if d else None for d in frame["details"]]
        return out

    def read_results(
        self,
        *,
        model: str,
        version: int | None = None,
        check: str | None = None,
        scope: str | None = None,
        with_details: bool = False,
    ) -> pd.DataFrame:
        """Stored check results of `model`, oldest window first."""
        sql = [
            'SELECT model, version, scope, window_start, window_end, check_kind AS "check", metric,',
            'column_name AS "column", method, value, threshold, reference, lower, upper, status, message, n_rows',
            ", details" if with_details else "",
            "FROM check_results WHERE model = ?",
        ]
        params: list = [model]
        for col, value in (("version", version), ("check_kind", check), ("scope", scope)):
            if value is not None:
                sql.append(f"AND {col} = ?")
                params.append(value)
        sql.append("ORDER BY window_start NULLS FIRST, check_kind, metric, column_name")
        return self.query_df(" ".join(sql), params)

    def read_window_stats(self, *, model: str, version: int | None = None) -> pd.DataFrame:
        """Per-window sufficient statistics (counts and sums that pool exactly across windows)."""
        return self._read_stats("window_stats", "window_start, window_end", model=model, version=version)

    def read_daily_stats(self, *, model: str, version: int | None = None) -> pd.DataFrame:
        """Per-day sufficient statistics, for KPIs over any calendar period."""
        frame = self._read_stats("daily_stats", "day, window_start", model=model, version=version)
        frame["day"] = pd.to_datetime(frame["day"])
        return frame

    def _read_stats(self, table: str, keys: str, *, model: str, version: int | None) -> pd.DataFrame:
        # `table` and `keys` are fixed strings from the two callers above, never user input
        sql = f"SELECT version, {keys}, n_rows, n_labels, stats FROM {quote_ident(table)} WHERE model = ?"  # noqa: S608
        params: list = [model]
        if version is not None:
            sql += " AND version = ?"
            params.append(int(version))
        frame = self.query_df(sql + f" ORDER BY version, {keys.split(',')[0]}", params)
        frame["stats"] = [json.loads(s) for s in frame["stats"]]
        return frame

    def read_calibration(
        self,
        *,
        spec: ModelSpec,
        version: int,
        start: datetime,
        end: datetime,
        known_by: datetime,
        max_rows: int = 200_000,
    ) -> pd.DataFrame:
        """Probability, label and time of production rows in `[start, end)` whose label arrived by `known_by`.

        More than `max_rows` rows in the period are sampled (reservoir, fixed seed) before the joins: two
        parameters of a calibration need no more, and joining only the sample keeps a window of a
        10-million-row store cheap.
        """
        table = quote_ident(rows_table_name(spec.name))
        return self.query_df(
            f"""SELECT p.probability AS _probability, l.label AS _label, r._ts AS _ts
                FROM (SELECT * FROM (SELECT _row_id, _entity_id, _ts FROM {table}
                                     WHERE _split = 'production' AND _ts >= ? AND _ts < ?)
                      USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE (7)) r
                JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
                JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                WHERE p.ts >= ? AND p.ts < ? AND l.label_ts <= ?""",  # noqa: S608
            [start, end, spec.name, int(version), spec.name, start, end, known_by],
        )

    def clear_monitoring(self, *, model: str) -> None:
        """Forget computed windows and results of `model` (alerts and their history stay)."""
        with self.transaction() as cur:
            for t in ("monitor_windows", "check_results", "window_stats", "daily_stats"):
                sql = f"DELETE FROM {quote_ident(t)} WHERE model = ?"  # noqa: S608
                cur.execute(sql, [model])

    # ------------------------------------------------------------------ alerts
    def list_alerts(
        self, *, model: str | None = None, state: str | None = None, severity: str | None = None
    ) -> pd.DataFrame:
        """Alerts, newest activity first, filtered by any of model, state and severity."""
        sql = ["SELECT * FROM alerts WHERE TRUE"]
        params: list = []
        for col, value in (("model", model), ("state", state), ("severity", severity)):
            if value:
                sql.append(f"AND {col} = ?")
                params.append(value)
        sql.append("ORDER BY updated_at DESC, id")
        return self.query_df(" ".join(sql), params)

    def get_alert(self, alert_id: str) -> dict:
        """One alert as a dict, or NotFoundError."""
        frame = self.query_df("SELECT * FROM alerts WHERE id = ?", [alert_id])
        if frame.empty:
            raise NotFoundError(f"There is no alert {alert_id}.")
        return frame.iloc[0].to_dict()

    def alert_events(self, alert_id: str) -> pd.DataFrame:
        """History of one alert, oldest first."""
        return self.query_df(
            "SELECT happened_at, event, actor, comment, window_start FROM alert_events WHERE alert_id = ? "
            "ORDER BY happened_at, event",
            [alert_id],
        )

    def model_alert_events(self, model: str) -> pd.DataFrame:
        """Every alert event of `model` with the alert's title, oldest first."""
        return self.query_df(
            "SELECT e.alert_id, a.title, a.severity, e.happened_at, e.event, e.actor, e.comment, e.window_start "
            "FROM alert_events e JOIN alerts a ON a.id = e.alert_id WHERE e.model = ? ORDER BY e.happened_at",
            [model],
        )

    def save_alerts(self, *, upserts: list[dict], events: list[dict]) -> None:
        """Insert or replace alert rows and append their events, in one transaction."""
        if not upserts and not events:
            return
        with self.transaction() as cur:
            for alert in upserts:
                cur.execute("DELETE FROM alerts WHERE id = ?", [alert["id"]])
                cols = list(alert)
                names = ", ".join(quote_ident(c) for c in cols)
                cur.execute(
                    f"INSERT INTO alerts ({names}) VALUES ({', '.join('?' * len(cols))})",  # noqa: S608
                    [alert[c] for c in cols],
                )
            for ev in events:
                cur.execute(
                    "INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        ev["alert_id"],
                        ev["model"],
                        ev.get("at") or _now(),
                        ev["event"],
                        ev["actor"],
                        ev.get("comment"),
                        ev.get("window_start"),
                    ],
                )

    def set_alert_state(self, *, alert_id: str, state: str, actor: str, comment: str | None = None) -> None:
        """Acknowledge or resolve an alert by hand, recording who, when and why."""
        if state not in ("acknowledged", "resolved", "open"):
            raise StoreError(f"An alert cannot be set to {state!r}.")
        if not actor.strip():
            raise StoreError("Say who you are (a name or email) before changing an alert.")
        alert = self.get_alert(alert_id)
        now = _now()
        with self.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET state = ?, updated_at = ?, resolved_at = ? WHERE id = ?",
                [state, now, now if state == "resolved" else None, alert_id],
            )
            event = {"acknowledged": "acknowledged", "resolved": "resolved", "open": "reopened"}[state]
            cur.execute(
                "INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [alert_id, alert["model"], now, event, actor.strip(), (comment or "").strip() or None],
            )


def _predictions_frame(
    *, model: str, version: int, row_ids: Any, ts: Any, entity_ids: Any, pred: Any, batch_id: str
) -> pd.DataFrame:
    """One version's outputs for a set of stored rows, shaped like the `predictions` table."""
    n = len(row_ids)
    frame = pd.DataFrame(
        {
            "model": model,
            "version": int(version),
            "row_id": np.asarray(row_ids, dtype="int64"),
            "ts": pd.to_datetime(pd.Series(ts)).astype("datetime64[us]").to_numpy(),
            "entity_id": pd.Series(entity_ids).astype("string").to_numpy(),
            "prediction": np.asarray(pred.prediction, dtype="float64"),
            "probability": np.asarray(pred.probability, dtype="float64")
            if pred.probability is not None
            else np.full(n, np.nan),
            "batch_id": batch_id,
        }
    )
    if pred.scores is not None:
        frame["scores"] = list(np.asarray(pred.scores, dtype="float64"))
    return frame


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        v = float(value)
        return v if np.isfinite(v) else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
