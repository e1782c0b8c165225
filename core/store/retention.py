"""How long rows and outcomes are kept: the `retention` table, and deleting what is older.

Deleting keeps every derived aggregate (monitoring results, window and daily statistics, alerts): the
windows before `purged_before` are frozen, and monitoring never recomputes them from the rows left.
"""

from __future__ import annotations

from datetime import datetime

from core.store.connection import Connection
from core.store.connection import quote_ident
from core.store.rows import rows_table_name


class RetentionFamily:
    """Per-model retention settings and the purge of production rows older than a cut-off."""

    tables = ("retention",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def set_retention(self, *, model: str, days: int | None, by: str) -> None:
        """Keep `model`'s rows `days` days (None keeps everything; what was deleted stays deleted)."""
        with self.conn.transaction() as cur:
            old = cur.execute("SELECT purged_before FROM retention WHERE model = ?", [model]).fetchall()
            cur.execute("DELETE FROM retention WHERE model = ?", [model])
            purged = old[0][0] if old else None
            if days is not None or purged is not None:
                cur.execute(
                    "INSERT INTO retention VALUES (?, ?, ?, ?, ?)", [model, days or 0, purged, datetime.now(), by]
                )

    def retention_days(self, model: str) -> int | None:
        """How many days `model`'s rows are kept, or None for ever."""
        rows = self.conn.fetch("SELECT days FROM retention WHERE model = ?", [model])
        return int(rows[0][0]) if rows and rows[0][0] else None

    def frozen_before(self, model: str) -> datetime | None:
        """Windows starting before this time lost their rows to retention: their results are kept as they are."""
        rows = self.conn.fetch("SELECT purged_before FROM retention WHERE model = ?", [model])
        return rows[0][0] if rows else None

    def purge_before(self, *, model: str, cutoff: datetime) -> tuple[int, int]:
        """Delete production rows of `model` dated before `cutoff`, their predictions, and the outcomes no
        remaining row needs, in one transaction. Returns (rows, outcomes) deleted."""
        table = quote_ident(rows_table_name(model))
        with self.conn.transaction() as cur:
            cur.execute(
                "DELETE FROM predictions WHERE model = ? AND row_id IN "  # noqa: S608 - a quoted identifier
                f"(SELECT _row_id FROM {table} WHERE _split = 'production' AND _ts < ?)",
                [model, cutoff],
            )
            # counted first, then deleted: DuckLake has no DELETE ... RETURNING
            old = f"FROM {table} WHERE _split = 'production' AND _ts < ?"  # noqa: S608 - a quoted identifier
            n_rows = int(cur.execute(f"SELECT count(*) {old}", [cutoff]).fetchone()[0])  # noqa: S608
            cur.execute(f"DELETE {old}", [cutoff])  # noqa: S608
            orphaned = f"FROM labels WHERE model = ? AND entity_id NOT IN (SELECT _entity_id FROM {table})"  # noqa: S608
            n_labels = int(cur.execute(f"SELECT count(*) {orphaned}", [model]).fetchone()[0])  # noqa: S608
            cur.execute(f"DELETE {orphaned}", [model])  # noqa: S608
            # the calibration samples are copies of answers and outcomes: they go with their rows
            cur.execute("DELETE FROM calibration_samples WHERE model = ? AND row_ts < ?", [model, cutoff])
            cur.execute(
                "UPDATE retention SET purged_before = greatest(coalesce(purged_before, ?), ?) WHERE model = ?",
                [cutoff, cutoff, model],
            )
        return n_rows, n_labels

    def delete_model(self, model: str) -> None:
        """Forget `model`'s retention setting (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM retention WHERE model = ?", [model])
