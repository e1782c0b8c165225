"""Messages owed and sent: the `outbox` and `outbox_alerts` tables.

A message is written here in the same transaction as the alert change it reports, then a sender
claims it, sends it and records the outcome. Its id is a hash of what it is about, so a message owed
twice (a rerun, a second scheduler) is stored once; claiming is one UPDATE, so two senders never take
the same message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from core.store.connection import Connection
from core.store.types import NotifiedAlert
from core.store.types import OutboxMessage

_COLUMNS = (
    "id, channel_id, channel_name, recipient, kind, model, subject, body_text, body_html, payload, status, "
    "attempts, next_attempt_at, created_at, last_error"
)

_DUE = "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?"
_CLAIM = (
    "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1 "
    "WHERE list_contains(?, id)"
)
_CLAIMED = f"SELECT {_COLUMNS} FROM outbox WHERE list_contains(?, id)"  # noqa: S608 - a fixed column list


def _message(row: dict) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        channel_id=row["channel_id"],
        channel_name=row["channel_name"],
        recipient=row["recipient"],
        kind=row["kind"],
        model=row["model"],
        subject=row["subject"],
        body_text=row["body_text"],
        body_html=row["body_html"],
        payload=json.loads(row["payload"]) if isinstance(row["payload"], str) else dict(row["payload"] or {}),
        status=row["status"],
        attempts=int(row["attempts"]),
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        last_error=row["last_error"],
    )


class OutboxFamily:
    """The outbox: what each channel is owed, claimed, sent or gave up on."""

    tables = ("outbox", "outbox_alerts")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def enqueue(self, messages: Sequence[OutboxMessage], *, now: datetime | None = None) -> list[str]:
        """Store messages not stored before (by id), inside the caller's transaction; returns the new ids."""
        if not messages:
            return []
        now = now or datetime.now()
        with self.conn.transaction() as cur:
            ids = [m.id for m in messages]
            have = {r[0] for r in cur.execute("SELECT id FROM outbox WHERE list_contains(?, id)", [ids]).fetchall()}
            new = []
            for m in messages:
                if m.id in have:
                    continue
                have.add(m.id)
                cur.execute(
                    f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                    [
                        m.id,
                        m.channel_id,
                        m.channel_name,
                        m.recipient,
                        m.kind,
                        m.model,
                        m.subject,
                        m.body_text,
                        m.body_html,
                        json.dumps(m.payload, default=str),
                        m.status,
                        m.attempts,
                        m.next_attempt_at or now,
                        m.created_at or now,
                        m.last_error,
                    ],
                )
                for a in m.alerts:
                    cur.execute(
                        "INSERT INTO outbox_alerts VALUES (?, ?, ?, ?, ?, ?)",
                        [m.id, m.channel_id, a.alert_id, a.event, a.severity, a.cost_value],
                    )
                new.append(m.id)
        return new

    def claim(self, *, holder: str, now: datetime, limit: int = 20) -> list[OutboxMessage]:
        """Take up to `limit` due messages for `holder`: read, marked and read back in one write transaction,
        which no other sender's can interleave with (on DuckLake the write lock; in a file, the one writer)."""
        with self.conn.transaction() as cur:
            ids = [r[0] for r in cur.execute(_DUE, [now, limit]).fetchall()]
            if not ids:
                return []
            cur.execute(_CLAIM, [holder, now, ids])
            rows = cur.execute(_CLAIMED, [ids])
            names = [d[0] for d in rows.description]
            claimed = [_message(dict(zip(names, r, strict=True))) for r in rows.fetchall()]
        return sorted(claimed, key=lambda m: (m.created_at, m.id))

    def release_interrupted(self, *, holder: str) -> int:
        """Put back messages another sender claimed and never finished (it stopped mid-send); returns how many.

        Called by the one sender that holds the delivery lease, so those senders are gone.
        """
        with self.conn.transaction() as cur:
            rows = cur.execute(
                "SELECT id FROM outbox WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by <> ?)", [holder]
            ).fetchall()
            if rows:
                cur.execute(
                    "UPDATE outbox SET status = 'pending', claimed_by = NULL, last_error = ? "
                    "WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by <> ?)",
                    ["the sender stopped during this attempt; sending again", holder],
                )
        return len(rows)

    def mark_sent(self, *, message_id: str, holder: str, at: datetime) -> None:
        """Record a message as delivered."""
        with self.conn.transaction() as cur:
            cur.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ? AND claimed_by = ?",
                [at, message_id, holder],
            )

    def mark_failed(self, *, message_id: str, holder: str, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: due again at `retry_at`, or given up when None."""
        with self.conn.transaction() as cur:
            cur.execute(
                "UPDATE outbox SET status = ?, next_attempt_at = coalesce(?, next_attempt_at), last_error = ?, "
                "claimed_by = NULL WHERE id = ? AND claimed_by = ?",
                ["pending" if retry_at else "failed", retry_at, error[:500], message_id, holder],
            )

    def retry_message(self, message_id: str, *, now: datetime) -> None:
        """Send a given-up message again (a person fixed the channel)."""
        with self.conn.transaction() as cur:
            cur.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? "
                "AND status = 'failed'",
                [now, message_id],
            )

    def list_deliveries(self, *, limit: int = 50, model: str | None = None, kind: str | None = None) -> pd.DataFrame:
        """Recent messages, newest first: what, to whom, when, attempts, status and the last error."""
        sql = (
            "SELECT id, created_at, kind, model, channel_name, recipient, subject, status, attempts, sent_at, "
            "next_attempt_at, last_error FROM outbox WHERE (? IS NULL OR model = ?) AND (? IS NULL OR kind = ?) "
            "ORDER BY created_at DESC, id LIMIT ?"
        )
        return self.conn.query_df(sql, [model, model, kind, kind, limit])

    def get_message(self, message_id: str) -> OutboxMessage | None:
        """One stored message with its words, or None."""
        frame = self.conn.query_df(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", [message_id])  # noqa: S608
        return None if frame.empty else _message(frame.iloc[0].to_dict())

    def last_told(self, *, channel_id: str, alert_ids: Sequence[str]) -> dict[str, NotifiedAlert]:
        """For each alert, the latest message this channel was owed about it (messages held back by a mute do
        not count: nobody was told)."""
        if not alert_ids:
            return {}
        rows = self.conn.fetch(
            "SELECT a.alert_id, a.event, a.severity, a.cost_value FROM outbox_alerts a "
            "JOIN outbox o ON o.id = a.outbox_id WHERE a.channel_id = ? AND list_contains(?, a.alert_id) "
            "AND o.status <> 'muted' "
            "QUALIFY row_number() OVER (PARTITION BY a.alert_id ORDER BY o.created_at DESC, o.id DESC) = 1",
            [channel_id, list(alert_ids)],
        )
        return {r[0]: NotifiedAlert(alert_id=r[0], event=r[1], severity=r[2], cost_value=r[3]) for r in rows}

    def counts_by_status(self) -> dict[str, int]:
        """How many messages are in each state."""
        return dict(self.conn.fetch("SELECT status, count(*) FROM outbox GROUP BY status"))

    def delete_model(self, model: str) -> None:
        """Forget the messages about `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM outbox_alerts WHERE outbox_id IN (SELECT id FROM outbox WHERE model = ?)", [model])
            cur.execute("DELETE FROM outbox WHERE model = ?", [model])
