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

Most facade methods are one line saying which family answers them (`_by`); the few written out
compose several families. A new table family is a module here with a class taking the connection
(and a `delete_model`), a migration step, a line in :meth:`Store.__init__` and its lines below.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pandas as pd

from core.config import ObjectStorage
from core.config import Settings
from core.errors import StoreDamagedError
from core.errors import StoreError
from core.predictions import Predictions
from core.schema import ModelSpec
from core.store.alerts import AlertsFamily
from core.store.audit import AuditFamily
from core.store.batches import BatchesFamily
from core.store.calibration import CalibrationFamily
from core.store.claims import ClaimsFamily
from core.store.connection import Connection
from core.store.connection import Cursor
from core.store.delivery import DeliveryFamily
from core.store.fingerprints import FingerprintsFamily
from core.store.histograms import HistogramsFamily
from core.store.importance import ImportanceFamily
from core.store.migrations import check_or_migrate
from core.store.migrations import duplicate_keys
from core.store.migrations import migrate
from core.store.migrations import schema_version
from core.store.models import ModelsFamily
from core.store.outbox import OutboxFamily
from core.store.people import PeopleFamily
from core.store.results import ResultsFamily
from core.store.retention import RetentionFamily
from core.store.rows import RowsFamily
from core.store.rows import feature_columns
from core.store.rows import rows_table_name
from core.store.transfer import Copied
from core.store.transfer import copy_tables
from core.store.types import ModelStatus


def _by(family: str, method: Callable) -> Callable:
    """A facade method that hands the call to `self.<family>`'s method, keeping its signature and docstring."""
    name = method.__name__

    @functools.wraps(method)
    def forward(self: Store, *args: object, **kwargs: object) -> object:
        return getattr(getattr(self, family), name)(*args, **kwargs)

    return forward


class Store:
    """A ModelPulse store. Use :meth:`open`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.models = ModelsFamily(conn)
        self.rows = RowsFamily(conn)
        self.results = ResultsFamily(conn)
        self.alerts = AlertsFamily(conn)
        self.batches = BatchesFamily(conn)
        self.delivery = DeliveryFamily(conn)
        self.outbox = OutboxFamily(conn)
        self.people = PeopleFamily(conn)
        self.audit = AuditFamily(conn)
        self.retention = RetentionFamily(conn)
        self.importance = ImportanceFamily(conn)
        self.histograms = HistogramsFamily(conn)
        self.fingerprints = FingerprintsFamily(conn)
        self.claims = ClaimsFamily(conn)
        self.calibration = CalibrationFamily(conn)
        self._families = (
            self.claims,
            self.retention,
            self.rows,
            self.fingerprints,
            self.calibration,
            self.results,
            self.alerts,
            self.outbox,
            self.delivery,
            self.people,
            self.audit,
            self.importance,
            self.models,
        )

    # ------------------------------------------------------------------ opening and schema
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        read_only: bool = False,
        create: bool = False,
        verify: bool = False,
        data_path: Path | str | None = None,
        home: Path | str | None = None,
        s3: ObjectStorage | None = None,
    ) -> Store:
        """Open (and, unless read-only, migrate) the store at `path`: a DuckDB file, or a shared DuckLake
        catalog (``ducklake:postgres:...``; `data_path` is where its data files go when it is created, a folder or
        ``s3://...`` reached through `s3`; `home` is the local folder model files and the inbox sit beside).

        `verify=True` first reads every table in full and refuses a damaged store before anything is
        written to it (the commands that change a store use it; about 0.07 s for the full demo's 1.3M rows).
        """
        conn = Connection.open(path, read_only=read_only, create=create, data_path=data_path, home=home, s3=s3)
        try:
            if verify and conn.backend == "file":  # a lake's Parquet files are checked as they are read
                bad = [(table, problem) for table, _, problem in conn.verify() if problem]
                if bad:
                    names = ", ".join(f"`{t}`" for t, _ in bad[:5]) + (
                        f" and {len(bad) - 5} more" if len(bad) > 5 else ""
                    )
                    raise StoreDamagedError(
                        f"The store {conn.where} is damaged ({len(bad)} table(s) cannot be read back: {names}), so "
                        "nothing was changed. `python -m core check` says what is affected; "
                        "`python -m core restore BACKUP` brings back the last backup."
                    )
            check_or_migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn)

    @classmethod
    def at(cls, settings: Settings, **options: object) -> Store:
        """Open the store `settings` name: its file, or its shared lake (created under the shared folder).
        `options` are :meth:`open`'s (read_only, create, verify)."""
        return cls.open(
            settings.store,
            data_path=settings.lake_data or settings.db_path,
            home=settings.db_path,
            s3=settings.s3,
            **options,
        )

    def limit_memory(self, limit: str) -> None:
        """Hold DuckDB's memory in this process to `limit` (a process that only monitors needs little)."""
        self.conn.limit_memory(limit)

    @staticmethod
    def exists(path: Path | str) -> bool:
        """Whether a store is at `path` already (a file, or a catalog holding a lake)."""
        return Connection.exists(path)

    @property
    def path(self) -> Path:
        """The store file, or a shared store's local data folder: model files and the inbox sit beside it."""
        return self.conn.path

    @property
    def where(self) -> str:
        """The store as messages name it: its file, or its DuckLake address without a password."""
        return self.conn.where

    @property
    def shared(self) -> bool:
        """Whether several processes may open this store for writing at once (DuckLake)."""
        return self.conn.backend == "ducklake"

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

    def verify(self) -> list[tuple[str, int | None, str | None]]:
        """Read every value of every table once: (table, rows, problem) per table (see Connection.verify)."""
        return self.conn.verify()

    def compact(self, *, keep_days: float = 7.0) -> dict[str, int]:
        """Merge a shared store's small data files and delete what nothing refers to, keeping `keep_days` of time
        travel; returns the figures (empty for a file store, which needs none)."""
        return self.conn.compact(keep=timedelta(days=keep_days))

    def duplicate_keys(self) -> dict[str, int]:
        """Tables whose declared key is held by more than one row, with how many keys are (see
        :func:`core.store.migrations.duplicate_keys`)."""
        return duplicate_keys(self.conn)

    def checksums(self) -> dict[str, tuple[int, int]]:
        """(rows, checksum) per table, as a backup's manifest records them."""
        return self.conn.checksums()

    def copy_to(self, target: Path | str) -> None:
        """Write a consistent copy of the database to the new file `target` while writers go on."""
        self.conn.copy_to(Path(target))

    def copy_into(self, target: Store, *, progress: Callable[[str], None] = lambda _: None) -> Copied:
        """Copy this whole store into the empty store `target` (any backend) in one transaction, then compare
        every table's rows and checksum on both sides (see :mod:`core.store.transfer`)."""
        if target.schema_version() != self.schema_version():
            raise StoreError(
                f"{self.where} is at schema {self.schema_version()} and {target.where} at {target.schema_version()}; "
                "open the older one once with write access so both are current."
            )
        specs = {rows_table_name(s.name): s for s in self.list_specs()}

        def make_table(table: str) -> None:
            if table not in specs:
                raise StoreError(f"Table `{table}` of {self.where} belongs to no model; nothing was copied.")
            target.rows.ensure_table(specs[table])

        return copy_tables(self.conn, target.conn, make_table=make_table, progress=progress)

    def schema_version(self) -> int:
        """The schema version recorded in the file (0 for an empty database)."""
        return schema_version(self.conn)

    def migrate(self) -> int:
        """Apply missing migrations; idempotent. Returns the version reached."""
        return migrate(self.conn)

    # ------------------------------------------------------------------ composed across families
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

    def delete_model(self, model: str) -> None:
        """Remove a model and everything stored for it, in one transaction."""
        with self.transaction():
            for family in self._families:
                family.delete_model(model)

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
            self.models.add_version(
                model=spec.name,
                version=version,
                weights_path=weights_path,
                weights_sha256=weights_sha256,
                reference_set=reference_set,
                metadata=metadata,
                live=True,
                by=by,
            )
            return self.rows.write_batch(
                spec=spec, rows=rows, predictions=predictions, labels=labels, source=source, kind="upload", actor=by
            )

    def clear_monitoring(self, *, model: str) -> None:
        """Forget computed windows and results of `model` (alerts and their history stay), and end every claim
        on its windows, so the next run computes them all again."""
        with self.transaction():
            self.results.clear_monitoring(model=model)
            self.calibration.delete_model(model)
            self.claims.release_all(model=model)

    def forget_windows(self, *, model: str, version: int, starts: list[datetime]) -> None:
        """Forget the results, statistics and calibration samples of windows that no longer hold any rows."""
        if not starts:
            return
        with self.transaction():
            self.results.forget_windows(model=model, version=version, starts=starts)
            self.calibration.forget(model=model, version=version, starts=starts)

    def write_labels(
        self,
        *,
        model: str,
        labels: pd.DataFrame,
        source: str = "",
        actor: str = "modelpulse",
        batch_id: str | None = None,
    ) -> str:
        """Store labels (`entity_id`, `label`, `label_ts`) of an existing model in one transaction."""
        self.get_spec(model)
        return self.rows.write_labels(model=model, labels=labels, source=source, actor=actor, batch_id=batch_id)

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (used by tests and `status`)."""
        return {**self.models.counts(), **self.rows.counts(self.list_specs())}

    def model_status(self, model: str) -> ModelStatus:
        """Versions, live version, stored rows, label coverage and date range of one model."""
        spec = self.get_spec(model)
        versions = self.list_versions(model)
        live = next((v.version for v in versions if v.is_live), None)
        return self.rows.model_status(spec, versions=[v.version for v in versions], live=live)

    # ------------------------------------------------------------------ answered by one family
    get_spec = _by("models", ModelsFamily.get_spec)
    list_specs = _by("models", ModelsFamily.list_specs)
    next_version = _by("models", ModelsFamily.next_version)
    add_version = _by("models", ModelsFamily.add_version)
    set_live = _by("models", ModelsFamily.set_live)
    promotions = _by("models", ModelsFamily.promotions)
    list_versions = _by("models", ModelsFamily.list_versions)
    get_version = _by("models", ModelsFamily.get_version)
    set_weights_path = _by("models", ModelsFamily.set_weights_path)
    live_version = _by("models", ModelsFamily.live_version)

    write_batch = _by("rows", RowsFamily.write_batch)
    write_predictions = _by("rows", RowsFamily.write_predictions)
    known_entities = _by("rows", RowsFamily.known_entities)
    read_reference = _by("rows", RowsFamily.read_reference)
    read_window = _by("rows", RowsFamily.read_window)
    read_labelled = _by("rows", RowsFamily.read_labelled)
    rows_without_predictions = _by("rows", RowsFamily.rows_without_predictions)
    scoring_backlog = _by("rows", RowsFamily.scoring_backlog)
    reference_rows = _by("rows", RowsFamily.reference_rows)
    window_fingerprints = _by("fingerprints", FingerprintsFamily.window_fingerprints)
    read_calibration = _by("calibration", CalibrationFamily.read_calibration)
    calibration_marks = _by("calibration", CalibrationFamily.marks)
    sample_window = _by("calibration", CalibrationFamily.sample_window)
    window_histograms = _by("histograms", HistogramsFamily.window_histograms)

    computed_windows = _by("results", ResultsFamily.computed_windows)
    save_window = _by("results", ResultsFamily.save_window)
    save_version_checks = _by("results", ResultsFamily.save_version_checks)
    revise_estimates = _by("results", ResultsFamily.revise_estimates)
    read_results = _by("results", ResultsFamily.read_results)
    read_window_stats = _by("results", ResultsFamily.read_window_stats)
    read_daily_stats = _by("results", ResultsFamily.read_daily_stats)
    save_segment_reference = _by("results", ResultsFamily.save_segment_reference)
    read_segment_stats = _by("results", ResultsFamily.read_segment_stats)
    read_segment_reference = _by("results", ResultsFamily.read_segment_reference)
    segment_columns = _by("results", ResultsFamily.segment_columns)

    claim_window = _by("claims", ClaimsFamily.claim_window)
    release_window = _by("claims", ClaimsFamily.release_window)
    window_claims = _by("claims", ClaimsFamily.window_claims)
    prune_claims = _by("claims", ClaimsFamily.prune_claims)

    list_batches = _by("batches", BatchesFamily.list_batches)
    get_batch = _by("batches", BatchesFamily.get_batch)
    remove_batch = _by("batches", BatchesFamily.remove_batch)

    list_alerts = _by("alerts", AlertsFamily.list_alerts)
    get_alert = _by("alerts", AlertsFamily.get_alert)
    alert_events = _by("alerts", AlertsFamily.alert_events)
    model_alert_events = _by("alerts", AlertsFamily.model_alert_events)
    save_alerts = _by("alerts", AlertsFamily.save_alerts)
    set_alert_state = _by("alerts", AlertsFamily.set_alert_state)

    record_feedback = _by("alerts", AlertsFamily.record_feedback)
    alert_feedback = _by("alerts", AlertsFamily.alert_feedback)
    save_adjustment = _by("alerts", AlertsFamily.save_adjustment)
    rule_adjustments = _by("alerts", AlertsFamily.rule_adjustments)
    revert_adjustments = _by("alerts", AlertsFamily.revert_adjustments)
    replace_silenced = _by("alerts", AlertsFamily.replace_silenced)
    silenced_alerts = _by("alerts", AlertsFamily.silenced_alerts)

    list_channels = _by("delivery", DeliveryFamily.list_channels)
    save_channel = _by("delivery", DeliveryFamily.save_channel)
    delete_channel = _by("delivery", DeliveryFamily.delete_channel)
    mute_model = _by("delivery", DeliveryFamily.mute_model)
    unmute_model = _by("delivery", DeliveryFamily.unmute_model)
    muted_until = _by("delivery", DeliveryFamily.muted_until)
    list_mutes = _by("delivery", DeliveryFamily.list_mutes)
    set_schedule = _by("delivery", DeliveryFamily.set_schedule)
    schedules = _by("delivery", DeliveryFamily.schedules)
    record_run = _by("delivery", DeliveryFamily.record_run)
    last_run = _by("delivery", DeliveryFamily.last_run)
    list_runs = _by("delivery", DeliveryFamily.list_runs)
    acquire_lease = _by("delivery", DeliveryFamily.acquire_lease)
    release_lease = _by("delivery", DeliveryFamily.release_lease)
    lease_holder = _by("delivery", DeliveryFamily.lease_holder)

    enqueue = _by("outbox", OutboxFamily.enqueue)
    claim_messages = _by("outbox", OutboxFamily.claim)
    release_interrupted = _by("outbox", OutboxFamily.release_interrupted)
    mark_sent = _by("outbox", OutboxFamily.mark_sent)
    mark_failed = _by("outbox", OutboxFamily.mark_failed)
    retry_message = _by("outbox", OutboxFamily.retry_message)
    list_deliveries = _by("outbox", OutboxFamily.list_deliveries)
    get_message = _by("outbox", OutboxFamily.get_message)
    last_told = _by("outbox", OutboxFamily.last_told)
    outbox_counts = _by("outbox", OutboxFamily.counts_by_status)

    save_importance = _by("importance", ImportanceFamily.save_importance)
    read_importance = _by("importance", ImportanceFamily.read_importance)
    importance_versions = _by("importance", ImportanceFamily.importance_versions)
