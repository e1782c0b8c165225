"""Alerts and their history: the `alerts` and `alert_events` tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from core.errors import NotFoundError
from core.errors import StoreError
from core.store.connection import Connection
from core.store.connection import quote_ident
from core.store.mappers import ALERT_COLUMNS
from core.store.mappers import alert_values
from core.store.types import ALERT_STATES
from core.store.types import AlertEvent
from core.store.types import AlertRow

_INSERT_ALERT = (
    f"INSERT INTO alerts ({', '.join(quote_ident(c) for c in ALERT_COLUMNS)}) "  # noqa: S608 - fixed column names
    f"VALUES ({', '.join('?' * len(ALERT_COLUMNS))})"
)


class AlertsFamily:
    """Alert rows, one per (model, rule, subject), and the events of each."""

    tables = ("alerts", "alert_events")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
        return self.conn.query_df(" ".join(sql), params)

    def get_alert(self, alert_id: str) -> dict:
        """One alert as a dict, or NotFoundError."""
        frame = self.conn.query_df("SELECT * FROM alerts WHERE id = ?", [alert_id])
        if frame.empty:
            raise NotFoundError(f"There is no alert {alert_id}.")
        return frame.iloc[0].to_dict()

    def alert_events(self, alert_id: str) -> pd.DataFrame:
        """History of one alert, oldest first."""
        return self.conn.query_df(
            "SELECT happened_at, event, actor, comment, window_start FROM alert_events WHERE alert_id = ? "
            "ORDER BY happened_at, event",
            [alert_id],
        )

    def model_alert_events(self, model: str) -> pd.DataFrame:
        """Every alert event of `model` with the alert's title, oldest first."""
        return self.conn.query_df(
            "SELECT e.alert_id, a.title, a.severity, e.happened_at, e.event, e.actor, e.comment, e.window_start "
            "FROM alert_events e JOIN alerts a ON a.id = e.alert_id WHERE e.model = ? ORDER BY e.happened_at",
            [model],
        )

    def save_alerts(self, *, upserts: Sequence[AlertRow], events: Sequence[AlertEvent]) -> None:
        """Insert or replace alert rows and append their events, in one transaction."""
        if not upserts and not events:
            return
        with self.conn.transaction() as cur:
            for alert in upserts:
                cur.execute("DELETE FROM alerts WHERE id = ?", [alert.id])
                cur.execute(_INSERT_ALERT, alert_values(alert))
            for ev in events:
                self._append_event(cur, ev)

    @staticmethod
    def _append_event(cur, ev: AlertEvent) -> None:
        cur.execute(
            "INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [ev.alert_id, ev.model, ev.at or datetime.now(), ev.event, ev.actor, ev.comment, ev.window_start],
        )

    def set_alert_state(self, *, alert_id: str, state: str, actor: str, comment: str | None = None) -> None:
        """Acknowledge or resolve an alert by hand, recording who, when and why."""
        if state not in ALERT_STATES:
            raise StoreError(f"An alert cannot be set to {state!r}.")
        if not actor.strip():
            raise StoreError("Say who you are (a name or email) before changing an alert.")
        alert = self.get_alert(alert_id)
        now = datetime.now()
        with self.conn.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET state = ?, updated_at = ?, resolved_at = ? WHERE id = ?",
                [state, now, now if state == "resolved" else None, alert_id],
            )
            event = AlertEvent(
                alert_id=alert_id,
                model=alert["model"],
                event=ALERT_STATES[state],
                actor=actor.strip(),
                comment=(comment or "").strip() or None,
                at=now,
            )
            self._append_event(cur, event)

    def delete_model(self, model: str) -> None:
        """Forget every alert and event of `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            for t in self.tables:
                sql = f"DELETE FROM {quote_ident(t)} WHERE model = ?"  # noqa: S608
                cur.execute(sql, [model])
