"""People and how they get in: `users`, `sessions`, `login_failures` and `share_links`.

Passwords arrive here already hashed (argon2, in `core.access`); this family never sees one.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.errors import NotFoundError
from core.store.connection import Connection


class PeopleFamily:
    """Accounts, their sessions, failed sign-ins and share links."""

    tables = ("users", "sessions", "login_failures", "share_links")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ users
    def get_user(self, email: str) -> dict | None:
        """One account (with its password hash), or None."""
        frame = self.conn.query_df("SELECT * FROM users WHERE email = ?", [email])
        return None if frame.empty else frame.iloc[0].to_dict()

    def list_users(self) -> pd.DataFrame:
        """Every account without its hash, by email."""
        return self.conn.query_df(
            "SELECT email, name, role, created_at, created_by, updated_at FROM users ORDER BY email"
        )

    def save_user(self, *, email: str, name: str, role: str, password_hash: str, by: str) -> None:
        """Add an account or replace one with the same email (keeping when it was created)."""
        now = datetime.now()
        with self.conn.transaction() as cur:
            old = cur.execute("SELECT created_at, created_by FROM users WHERE email = ?", [email]).fetchall()
            created_at, created_by = old[0] if old else (now, by)
            cur.execute("DELETE FROM users WHERE email = ?", [email])
            cur.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
                [email, name, role, password_hash, created_at, created_by, now],
            )

    def delete_user(self, email: str) -> None:
        """Remove an account and end its sessions."""
        with self.conn.transaction() as cur:
            if not cur.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchall():
                raise NotFoundError(f"There is no account for {email}.")
            cur.execute("DELETE FROM users WHERE email = ?", [email])
            cur.execute(
                "UPDATE sessions SET revoked_at = ? WHERE email = ? AND revoked_at IS NULL", [datetime.now(), email]
            )

    def count_users(self, *, role: str | None = None) -> int:
        """How many accounts (of `role`)."""
        return int(self.conn.fetch("SELECT count(*) FROM users WHERE ? IS NULL OR role = ?", [role, role])[0][0])

    # ------------------------------------------------------------------ sessions
    def add_session(self, *, session_id: str, email: str, expires_at: datetime) -> None:
        """Record a signed-in session."""
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, NULL)", [session_id, email, datetime.now(), expires_at]
            )

    def live_session(self, session_id: str, *, now: datetime) -> str | None:
        """The email of an unexpired, unrevoked session, or None."""
        rows = self.conn.fetch(
            "SELECT email FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?", [session_id, now]
        )
        return rows[0][0] if rows else None

    def revoke_sessions(self, *, session_id: str | None = None, email: str | None = None) -> int:
        """End one session, or every session of `email`; returns how many ended."""
        with self.conn.transaction() as cur:  # no UPDATE ... RETURNING: DuckLake has none
            rows = cur.execute(
                "SELECT id FROM sessions WHERE revoked_at IS NULL AND (id = ? OR email = ?)", [session_id, email]
            ).fetchall()
            if rows:
                cur.execute(
                    "UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND (id = ? OR email = ?)",
                    [datetime.now(), session_id, email],
                )
        return len(rows)

    # ------------------------------------------------------------------ failed sign-ins
    def add_failure(self, keys: list[str], *, at: datetime) -> None:
        """Count one failed sign-in against each key (an account, a client)."""
        with self.conn.transaction() as cur:
            for key in keys:
                cur.execute("INSERT INTO login_failures VALUES (?, ?)", [key, at])

    def failures_since(self, key: str, *, since: datetime) -> tuple[int, datetime | None]:
        """(failed sign-ins for `key` since `since`, the latest one)."""
        n, last = self.conn.fetch(
            "SELECT count(*), max(failed_at) FROM login_failures WHERE key = ? AND failed_at > ?", [key, since]
        )[0]
        return int(n), last

    def clear_failures(self, key: str) -> None:
        """Forget the failures of `key` (after a good sign-in)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = ?", [key])

    # ------------------------------------------------------------------ share links
    def add_share_link(self, *, link_id: str, model: str, view: str, by: str, expires_at: datetime) -> None:
        """Record a new read-only link to one model's `view`."""
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO share_links VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 0, NULL)",
                [link_id, model, view, by, datetime.now(), expires_at],
            )

    def get_share_link(self, link_id: str) -> dict | None:
        """One share link, or None."""
        frame = self.conn.query_df("SELECT * FROM share_links WHERE id = ?", [link_id])
        return None if frame.empty else frame.iloc[0].to_dict()

    def list_share_links(self) -> pd.DataFrame:
        """Every share link, newest first."""
        return self.conn.query_df("SELECT * FROM share_links ORDER BY created_at DESC")

    def use_share_link(self, link_id: str, *, at: datetime) -> None:
        """Count one opening of a link."""
        with self.conn.transaction() as cur:
            cur.execute("UPDATE share_links SET uses = uses + 1, last_used_at = ? WHERE id = ?", [at, link_id])

    def revoke_share_link(self, link_id: str, *, by: str) -> None:
        """Turn a link off for good."""
        with self.conn.transaction() as cur:
            if not cur.execute("SELECT 1 FROM share_links WHERE id = ?", [link_id]).fetchall():
                raise NotFoundError(f"There is no share link {link_id}.")
            cur.execute(
                "UPDATE share_links SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
                [datetime.now(), by, link_id],
            )

    def delete_model(self, model: str) -> None:
        """Forget the share links of `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM share_links WHERE model = ?", [model])
