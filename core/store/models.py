"""Models, their versions and who made which version live: the `models`, `model_versions` and
`promotions` tables."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from core.errors import NotFoundError
from core.errors import StoreError
from core.schema import ModelSpec
from core.store.connection import Connection
from core.store.types import VersionInfo


def _version_from_row(r: tuple) -> VersionInfo:
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


class ModelsFamily:
    """Specs, versions and promotions of every model."""

    tables = ("models", "model_versions", "promotions")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_spec(self, name: str, *, missing_ok: bool = False) -> ModelSpec | None:
        """The stored spec of model `name`."""
        rows = self.conn.fetch("SELECT spec FROM models WHERE name = ?", [name])
        if not rows:
            if missing_ok:
                return None
            raise NotFoundError(f"There is no model called `{name}` in the store.")
        return ModelSpec.model_validate_json(rows[0][0])

    def list_specs(self) -> list[ModelSpec]:
        """All models, in the order they were created."""
        return [
            ModelSpec.model_validate_json(r[0])
            for r in self.conn.fetch("SELECT spec FROM models ORDER BY created_at, name")
        ]

    def save_spec(self, spec: ModelSpec, *, rows_table: str, existing: ModelSpec | None) -> None:
        """Insert a new model's spec or replace an existing one's."""
        payload = spec.model_dump_json()
        now = datetime.now()
        with self.conn.transaction() as cur:
            if existing is None:
                cur.execute("INSERT INTO models VALUES (?, ?, ?, ?, ?)", [spec.name, payload, rows_table, now, now])
            else:
                cur.execute("UPDATE models SET spec = ?, updated_at = ? WHERE name = ?", [payload, now, spec.name])

    def next_version(self, model: str) -> int:
        """The number the next saved version of `model` gets."""
        sql = "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE model = ?"
        return int(self.conn.fetch(sql, [model])[0][0])

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
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, ?, ?, FALSE)",
                [
                    model,
                    version,
                    datetime.now(),
                    weights_path,
                    weights_sha256,
                    reference_set,
                    json.dumps(metadata, default=float),
                ],
            )
            if live:
                self.promote(model=model, version=version, by=by, note="first live version")

    def set_weights_path(self, *, model: str, version: int, path: str) -> None:
        """Record where a version's weights file now is (a backup or restore moved the model files)."""
        with self.conn.transaction() as cur:
            cur.execute(
                "UPDATE model_versions SET weights_path = ? WHERE model = ? AND version = ?", [path, model, version]
            )

    def promote(self, *, model: str, version: int, by: str, note: str | None) -> None:
        """Make `version` the live one and record who did it."""
        with self.conn.transaction() as cur:
            cur.execute("UPDATE model_versions SET is_live = (version = ?) WHERE model = ?", [version, model])
            cur.execute("INSERT INTO promotions VALUES (?, ?, ?, ?, ?)", [model, version, datetime.now(), by, note])

    def set_live(self, *, model: str, version: int, by: str, note: str | None = None) -> None:
        """Make `version` the live version of `model`, recording who did it and when."""
        if not by.strip():
            raise StoreError("Say who is promoting the version (a name or email).")
        self.get_version(model, version)
        self.promote(model=model, version=version, by=by.strip(), note=note)

    def promotions(self, model: str) -> pd.DataFrame:
        """Promotion history of `model`, newest first."""
        return self.conn.query_df(
            "SELECT version, promoted_at, promoted_by, note FROM promotions WHERE model = ? ORDER BY promoted_at DESC",
            [model],
        )

    def list_versions(self, model: str) -> list[VersionInfo]:
        """All versions of `model`, oldest first."""
        rows = self.conn.fetch("SELECT * FROM model_versions WHERE model = ? ORDER BY version", [model])
        return [_version_from_row(r) for r in rows]

    def get_version(self, model: str, version: int) -> VersionInfo:
        """One version, or NotFoundError."""
        sql = "SELECT * FROM model_versions WHERE model = ? AND version = ?"
        rows = self.conn.fetch(sql, [model, int(version)])
        if not rows:
            raise NotFoundError(f"Model `{model}` has no version {version}.")
        return _version_from_row(rows[0])

    def live_version(self, model: str) -> VersionInfo | None:
        """The live version of `model`, if one is set."""
        rows = self.conn.fetch("SELECT * FROM model_versions WHERE model = ? AND is_live", [model])
        return _version_from_row(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        """How many models and versions are stored."""
        return {
            "models": int(self.conn.fetch("SELECT count(*) FROM models")[0][0]),
            "model_versions": int(self.conn.fetch("SELECT count(*) FROM model_versions")[0][0]),
        }

    def delete_model(self, model: str) -> None:
        """Forget the model's versions, promotions and spec (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM model_versions WHERE model = ?", [model])
            cur.execute("DELETE FROM promotions WHERE model = ?", [model])
            cur.execute("DELETE FROM models WHERE name = ?", [model])
