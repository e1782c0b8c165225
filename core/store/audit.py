"""Who did what, and when: the `audit_log` table. Rows are only ever added."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.store.connection import Connection


class AuditFamily:
    """The audit log: sign-ins, changes, share links, refusals."""

    tables = ("audit_log",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(
        self,
        *,
        actor: str,
        action: str,
        outcome: str = "done",
        role: str | None = None,
        model: str | None = None,
        detail: str | None = None,
        client: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add one line (inside the caller's transaction when there is one)."""
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [at or datetime.now(), actor, role, action, model, (detail or "")[:1000] or None, outcome, client],
            )

    def read(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        limit: int = 500,
    ) -> pd.DataFrame:
        """Lines newest first, filtered by any of person, action, model and time."""
        return self.conn.query_df(
            "SELECT happened_at AS at, actor, role, action, model, detail, outcome, client FROM audit_log "
            "WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR action = ?) AND (? IS NULL OR model = ?) "
            "AND (? IS NULL OR happened_at >= ?) ORDER BY happened_at DESC LIMIT ?",
            [actor, actor, action, action, model, model, since, since, limit],
        )

    def delete_model(self, model: str) -> None:
        """The log outlives models: nothing is deleted (a model's removal is itself a line)."""
