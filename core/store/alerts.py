"""Alerts, their history and the feedback loop: the `alerts`, `alert_events`, `alert_feedback`,
`rule_adjustments` and `silenced_alerts` tables."""

from __future__ import annotations

import uuid
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
from core.store.types import SilencedAlert

_INSERT_ALERT = (
    f"INSERT INTO alerts ({', '.join(quote_ident(c) for c in ALERT_COLUMNS)}) "  # noqa: S608 - fixed column names
    f"VALUES ({', '.join('?' * len(ALERT_COLUMNS))})"
)


class AlertsFamily:
    """Alert rows, one per (model, rule, subject), the events of each, and what people said about them: their
    feedback, the rule lines it moved, and the windows those lines kept quiet."""

    tables = ("alerts", "alert_events", "alert_feedback", "rule_adjustments", "silenced_alerts")
    """Every table here has a `model` column, which is how `delete_model` forgets a model."""

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
            # read again inside the write: two people pressing the same button take turns, and the second hears so
            current = cur.execute("SELECT state FROM alerts WHERE id = ?", [alert_id]).fetchone()
            if current is not None and current[0] == state:
                last = cur.execute(
                    "SELECT actor, happened_at FROM alert_events WHERE alert_id = ? AND event = ? "
                    "ORDER BY happened_at DESC LIMIT 1",
                    [alert_id, ALERT_STATES[state]],
                ).fetchone()
                who = f" by {last[0]} at {last[1]:%Y-%m-%d %H:%M}" if last else ""
                raise StoreError(f"This alert is already {state}{who}; nothing was changed.")
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

    # ------------------------------------------------------------------ feedback, adjustments, silenced windows
    def record_feedback(
        self,
        *,
        alert_id: str,
        model: str,
        rule: str,
        useful: bool,
        actor: str,
        reason: str | None = None,
        window_start: datetime | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add one person's "useful" or "not useful" about an alert (inside the caller's transaction if any)."""
        if not actor.strip():
            raise StoreError("Say who you are (a name or email) before giving feedback on an alert.")
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO alert_feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    alert_id,
                    model,
                    rule,
                    bool(useful),
                    (reason or "").strip() or None,
                    actor.strip(),
                    at or datetime.now(),
                    window_start,
                ],
            )

    def alert_feedback(self, *, model: str | None = None, alert_id: str | None = None) -> pd.DataFrame:
        """Feedback given, oldest first, on one model's alerts or one alert (or every alert)."""
        return self.conn.query_df(
            "SELECT alert_id, model, rule, useful, reason, actor, given_at, window_start FROM alert_feedback "
            "WHERE (? IS NULL OR model = ?) AND (? IS NULL OR alert_id = ?) ORDER BY given_at, alert_id",
            [model, model, alert_id, alert_id],
        )

    def save_adjustment(
        self,
        *,
        model: str,
        rule: str,
        old_threshold: float,
        new_threshold: float,
        reason: str,
        actor: str,
        at: datetime | None = None,
    ) -> str:
        """Record that feedback moved `rule`'s line for `model`; returns the adjustment's id."""
        adjustment_id = uuid.uuid4().hex[:12]
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO rule_adjustments VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                [
                    adjustment_id,
                    model,
                    rule,
                    float(old_threshold),
                    float(new_threshold),
                    reason,
                    actor,
                    at or datetime.now(),
                ],
            )
        return adjustment_id

    def rule_adjustments(
        self, *, model: str | None = None, rule: str | None = None, active: bool = False
    ) -> pd.DataFrame:
        """Line adjustments, oldest first; `active=True` leaves out those undone."""
        return self.conn.query_df(
            "SELECT * FROM rule_adjustments WHERE (? IS NULL OR model = ?) AND (? IS NULL OR rule = ?) "
            "AND (NOT ? OR reverted_at IS NULL) ORDER BY made_at, id",
            [model, model, rule, rule, active],
        )

    def revert_adjustments(self, *, ids: Sequence[str], actor: str, at: datetime | None = None) -> None:
        """Mark adjustments undone, saying who undid them and when (the rows stay, as the record)."""
        if not actor.strip():
            raise StoreError("Say who you are (a name or email) before undoing a change.")
        with self.conn.transaction() as cur:
            for adjustment_id in ids:
                cur.execute(
                    "UPDATE rule_adjustments SET reverted_at = ?, reverted_by = ? WHERE id = ? AND reverted_at IS NULL",
                    [at or datetime.now(), actor.strip(), adjustment_id],
                )

    def replace_silenced(self, *, model: str, silenced: Sequence[SilencedAlert], rule: str | None = None) -> None:
        """Make `silenced` the windows kept quiet for `model` (for one `rule` when given)."""
        now = datetime.now()
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM silenced_alerts WHERE model = ? AND (? IS NULL OR rule = ?)", [model, rule, rule])
            for s in silenced:
                cur.execute(
                    "INSERT INTO silenced_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        s.model,
                        s.rule,
                        s.subject,
                        s.window_start,
                        s.measure,
                        s.default_threshold,
                        s.used_threshold,
                        s.title,
                        s.what,
                        now,
                    ],
                )

    def silenced_alerts(self, *, model: str | None = None) -> pd.DataFrame:
        """Windows kept quiet by adapted lines, newest window first (of one model, or every model)."""
        return self.conn.query_df(
            "SELECT * FROM silenced_alerts WHERE (? IS NULL OR model = ?) ORDER BY window_start DESC, model, rule",
            [model, model],
        )

    def delete_model(self, model: str) -> None:
        """Forget every alert, event, feedback, adjustment and silenced window of `model` (inside the caller's
        transaction)."""
        with self.conn.transaction() as cur:
            self.conn.delete(cur, self.tables, where="model = ?", params=[model])
