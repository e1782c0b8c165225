"""The store facade: one object that opens the backend and speaks for every table family.

`Store` composes one class per table family (models, rows, results, alerts), each taking the
:class:`~core.store.connection.Connection` and never this facade, the way SQLMesh's
`EngineAdapterStateSync` composes its `SnapshotState`, `EnvironmentState` and `VersionState`.
A write that spans families runs inside one `store.transaction()`: every family's write joins it.
Rules kept by the whole package:

- every value is a parameter; identifiers (per-model table and column names) are validated by
  `core.schema` and quoted by :func:`~core.store.connection.quote_ident`;
- every write is one transaction: a batch that fails leaves nothing behind;
- bulk rows go in through a registered Arrow table (`INSERT ... SELECT`), never row by row;
- each query runs on its own cursor, so one store object can serve several threads;
- only `core.store` writes SQL.

A new table family is a module here with a class taking the connection, a migration step, and a
line in :meth:`Store.__init__` (plus its facade methods).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import StoreError
from core.predictions import Predictions
from core.results import CheckResult
from core.results import WindowResult
from core.schema import ModelSpec
from core.store.alerts import AlertsFamily
from core.store.connection import Connection
from core.store.connection import Cursor
from core.store.migrations import check_or_migrate
from core.store.migrations import migrate
from core.store.migrations import schema_version
from core.store.models import ModelsFamily
from core.store.results import ResultsFamily
from core.store.rows import RowsFamily
from core.store.rows import feature_columns
from core.store.types import AlertEvent
from core.store.types import AlertRow
from core.store.types import ModelStatus
from core.store.types import VersionInfo


class Store:
    """A ModelPulse store. Use :meth:`open`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.models = ModelsFamily(conn)
        self.rows = RowsFamily(conn)
        self.results = ResultsFamily(conn)
        self.alerts = AlertsFamily(conn)
        self._families = (self.rows, self.results, self.alerts, self.models)

    # ------------------------------------------------------------------ opening and schema
    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False, create: bool = False) -> Store:
        """Open (and, unless read-only, migrate) the store at `path`."""
        conn = Connection.open(path, read_only=read_only, create=create)
        try:
            check_or_migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn)

    @property
    def path(self) -> Path:
        return self.conn.path

    @property
    def read_only(self) -> bool:
        return self.conn.read_only

    @property
    def closed(self) -> bool:
        return self.conn.closed

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        """One write transaction; every store write made inside it on this thread joins it."""
        return self.conn.transaction()

    def query_df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a read query with parameters on a fresh cursor and return a DataFrame."""
        return self.conn.query_df(sql, params)

    def schema_version(self) -> int:
        """The schema version recorded in the file (0 for an empty database)."""
        return schema_version(self.conn)

    def migrate(self) -> int:
        """Apply missing migrations; idempotent. Returns the version reached."""
        return migrate(self.conn)

    # ------------------------------------------------------------------ models and versions
    def upsert_model(self, spec: ModelSpec) -> None:
        """Register a model (or update its description) and make sure its rows table has every column."""
        existing = self.get_spec(spec.name, missing_ok=True)
        if existing is not None and existing.task != spec.task:
            raise StoreError(
                f"Model `{spec.name}` already exists as a {existing.task} model; it cannot become {spec.task}."
            )
        with self.transaction():
            table = self.rows.ensure_table(spec)
            self.models.save_spec(spec, rows_table=table, existing=existing)

    def stored_columns(self, spec: ModelSpec) -> list[str]:
        """Feature and business columns kept for each row of `spec`'s model."""
        return list(feature_columns(spec))

    def get_spec(self, name: str, *, missing_ok: bool = False) -> ModelSpec | None:
        """The stored spec of model `name`."""
        return self.models.get_spec(name, missing_ok=missing_ok)

    def list_specs(self) -> list[ModelSpec]:
        """All models, in the order they were created."""
        return self.models.list_specs()

    def next_version(self, model: str) -> int:
        """The number the next saved version of `model` gets."""
        return self.models.next_version(model)

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
        self.models.add_version(
            model=model,
            version=version,
            weights_path=weights_path,
            weights_sha256=weights_sha256,
            reference_set=reference_set,
            metadata=metadata,
            live=live,
            by=by,
        )

    def set_live(self, *, model: str, version: int, by: str, note: str | None = None) -> None:
        """Make `version` the live version of `model`, recording who did it and when."""
        self.models.set_live(model=model, version=version, by=by, note=note)

    def promotions(self, model: str) -> pd.DataFrame:
        """Promotion history of `model`, newest first."""
        return self.models.promotions(model)

    def list_versions(self, model: str) -> list[VersionInfo]:
        """All versions of `model`, oldest first."""
        return self.models.list_versions(model)

    def get_version(self, model: str, version: int) -> VersionInfo:
        """One version, or NotFoundError."""
        return self.models.get_version(model, version)

    def live_version(self, model: str) -> VersionInfo | None:
        """The live version of `model`, if one is set."""
        return self.models.live_version(model)

    def delete_model(self, model: str) -> None:
        """Remove a model and everything stored for it, in one transaction."""
        with self.transaction():
            for family in self._families:
                family.delete_model(model)

    # ------------------------------------------------------------------ rows, predictions, labels
    def write_batch(
        self,
        *,
        spec: ModelSpec,
        rows: pd.DataFrame,
        predictions: dict[int, Predictions] | None = None,
        labels: pd.DataFrame | None = None,
        source: str = "",
        kind: str = "predictions",
    ) -> str:
        """Write rows, each version's predictions on them and any labels in one transaction; see
        :meth:`RowsFamily.write_batch`. Returns the batch id."""
        return self.rows.write_batch(
            spec=spec, rows=rows, predictions=predictions, labels=labels, source=source, kind=kind
        )

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
        predictions: dict[int, Predictions],
        labels: pd.DataFrame | None,
        source: str,
        by: str,
    ) -> str:
        """Register a new model, its first (live) version and the whole file's rows in ONE transaction."""
        if self.get_spec(spec.name, missing_ok=True) is not None:
            raise StoreError(f"A model called `{spec.name}` already exists.")
        with self.transaction():
            self.upsert_model(spec)
            self.add_version(
                model=spec.name,
                version=version,
                weights_path=weights_path,
                weights_sha256=weights_sha256,
                reference_set=reference_set,
                metadata=metadata,
                live=True,
                by=by,
            )
            return self.write_batch(
                spec=spec, rows=rows, predictions=predictions, labels=labels, source=source, kind="upload"
            )

    def known_entities(self, *, model: str, ids: list[str]) -> set[str]:
        """Which of `ids` are already stored for `model`."""
        return self.rows.known_entities(model=model, ids=ids)

    def write_labels(self, *, model: str, labels: pd.DataFrame, source: str = "") -> str:
        """Store labels (`entity_id`, `label`, `label_ts`) in one transaction; returns the batch id."""
        self.get_spec(model)
        return self.rows.write_labels(model=model, labels=labels, source=source)

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
        return self.rows.write_predictions(
            spec=spec, version=version, row_ids=row_ids, ts=ts, entity_ids=entity_ids, predictions=predictions
        )

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (used by tests and `status`)."""
        return {**self.models.counts(), **self.rows.counts(self.list_specs())}

    def model_status(self, model: str) -> ModelStatus:
        """Versions, live version, stored rows, label coverage and date range of one model."""
        spec = self.get_spec(model)
        versions = self.list_versions(model)
        live = next((v.version for v in versions if v.is_live), None)
        return self.rows.model_status(spec, versions=[v.version for v in versions], live=live)

    def read_reference(self, *, spec: ModelSpec, reference_set: str, version: int) -> pd.DataFrame:
        """Reference rows (train + validation) of a set, with `version`'s predictions on them."""
        return self.rows.read_reference(spec=spec, reference_set=reference_set, version=version)

    def read_window(self, *, spec: ModelSpec, version: int, start: datetime, end: datetime) -> pd.DataFrame:
        """Production rows with `start <= ts < end`, `version`'s predictions and any labels that arrived."""
        return self.rows.read_window(spec=spec, version=version, start=start, end=end)

    def rows_without_predictions(self, *, spec: ModelSpec, version: int) -> pd.DataFrame:
        """Stored rows (with features) that `version` has not scored yet."""
        return self.rows.rows_without_predictions(spec=spec, version=version)

    def window_fingerprints(self, *, spec: ModelSpec) -> pd.DataFrame:
        """Per production window: rows, labels and a fingerprint that changes when either changes."""
        return self.rows.window_fingerprints(spec=spec)

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
        """Probability, label and time of production rows in `[start, end)` labelled by `known_by` (sampled)."""
        return self.rows.read_calibration(
            spec=spec, version=version, start=start, end=end, known_by=known_by, max_rows=max_rows
        )

    # ------------------------------------------------------------------ monitoring results
    def computed_windows(self, *, model: str, version: int, scope: str) -> dict[datetime, str]:
        """window_start -> fingerprint of windows already computed for this version and scope."""
        return self.results.computed_windows(model=model, version=version, scope=scope)

    def save_window(self, *, result: WindowResult, scope: str) -> None:
        """Replace one window's results (checks, stats, bookkeeping) in one transaction."""
        self.results.save_window(result=result, scope=scope)

    def save_version_checks(self, *, model: str, version: int, checks: Sequence[CheckResult]) -> None:
        """Replace the version-level checks (no window: e.g. the train/validation gap)."""
        self.results.save_version_checks(model=model, version=version, checks=checks)

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
        return self.results.read_results(
            model=model, version=version, check=check, scope=scope, with_details=with_details
        )

    def read_window_stats(self, *, model: str, version: int | None = None) -> pd.DataFrame:
        """Per-window sufficient statistics (counts and sums that pool exactly across windows)."""
        return self.results.read_window_stats(model=model, version=version)

    def read_daily_stats(self, *, model: str, version: int | None = None) -> pd.DataFrame:
        """Per-day sufficient statistics, for KPIs over any calendar period."""
        return self.results.read_daily_stats(model=model, version=version)

    def clear_monitoring(self, *, model: str) -> None:
        """Forget computed windows and results of `model` (alerts and their history stay)."""
        self.results.clear_monitoring(model=model)

    # ------------------------------------------------------------------ alerts
    def list_alerts(
        self, *, model: str | None = None, state: str | None = None, severity: str | None = None
    ) -> pd.DataFrame:
        """Alerts, newest activity first, filtered by any of model, state and severity."""
        return self.alerts.list_alerts(model=model, state=state, severity=severity)

    def get_alert(self, alert_id: str) -> dict:
        """One alert as a dict, or NotFoundError."""
        return self.alerts.get_alert(alert_id)

    def alert_events(self, alert_id: str) -> pd.DataFrame:
        """History of one alert, oldest first."""
        return self.alerts.alert_events(alert_id)

    def model_alert_events(self, model: str) -> pd.DataFrame:
        """Every alert event of `model` with the alert's title, oldest first."""
        return self.alerts.model_alert_events(model)

    def save_alerts(self, *, upserts: Sequence[AlertRow], events: Sequence[AlertEvent]) -> None:
        """Insert or replace alert rows and append their events, in one transaction."""
        self.alerts.save_alerts(upserts=upserts, events=events)

    def set_alert_state(self, *, alert_id: str, state: str, actor: str, comment: str | None = None) -> None:
        """Acknowledge or resolve an alert by hand, recording who, when and why."""
        self.alerts.set_alert_state(alert_id=alert_id, state=state, actor=actor, comment=comment)
