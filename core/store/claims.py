"""Who holds what when many processes write one store: row ids, batch ids, monitoring windows.

Every claim is read and taken inside one write transaction under the store's write lock (on DuckLake the
catalog's advisory lock; in a file, its one writer), so two processes never both see a thing free and take
it. Claims are rows that are added and never updated in place, and a claim whose holder died simply
expires; nothing here needs the holder to come back.

- `id_counters`: each model's next row id. Writers reserve a block, then append their rows in parallel.
- `batch_claims`: a batch id its sender chose, taken before its rows are written, so a batch sent twice
  (a retry after a timeout) is stored once and a second copy arriving meanwhile is refused with a sentence.
- `window_claims`: which worker computes which monitoring window until when (:class:`ClaimsFamily`).
"""

from __future__ import annotations

import os
import re
import socket
from datetime import datetime
from datetime import timedelta

import pandas as pd

from core.errors import StoreBusyError
from core.errors import StoreError
from core.store.connection import Connection
from core.store.connection import Cursor

BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
CLAIM_SECONDS = 900
"""A batch id taken by a writer that has not stored it within this long is free again (that writer died)."""


def holder_name() -> str:
    """Who takes a claim: this machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def valid_batch_id(batch_id: str) -> str:
    """A sender's batch id, checked: it is stored and shown, so plain characters only."""
    if not isinstance(batch_id, str) or not BATCH_ID.match(batch_id):
        raise StoreError(
            f"Batch id {str(batch_id)[:120]!r} cannot be used: up to 100 letters, digits and . _ : - "
            "characters, starting with a letter or digit."
        )
    return batch_id


def reserve_ids(cur: Cursor, *, model: str, table: str, n: int) -> int:
    """Take `n` row ids for `model` (`table` is its quoted rows table); returns the first."""
    key = f"rows:{model}"
    row = cur.execute("SELECT next_id FROM id_counters WHERE name = ?", [key]).fetchone()
    if row is None:  # a store written before schema 10 goes on from its largest id
        start = int(cur.execute(f"SELECT coalesce(max(_row_id), 0) + 1 FROM {table}").fetchone()[0])  # noqa: S608
        cur.execute("INSERT INTO id_counters VALUES (?, ?)", [key, start + n])
    else:
        start = int(row[0])
        cur.execute("UPDATE id_counters SET next_id = ? WHERE name = ?", [start + n, key])
    return start


def batch_taken(cur: Cursor, *, model: str, batch_id: str) -> bool:
    """True when `batch_id` is stored already. Refuses an id taken back, used by another model, or being
    written by another process right now; otherwise claims it for this process and returns False."""
    stored = cur.execute("SELECT model, removed_at FROM batches WHERE id = ?", [batch_id]).fetchone()
    if stored is not None:
        if stored[0] != model:
            raise StoreError(f"Batch id {batch_id!r} is already used by model `{stored[0]}`; send it under a new id.")
        if stored[1] is not None:
            raise StoreError(
                f"Batch {batch_id!r} was taken back on {stored[1]:%Y-%m-%d %H:%M}; send the corrected file under a "
                "new batch id."
            )
        return True
    now = datetime.now()
    claim = cur.execute("SELECT holder, claimed_at FROM batch_claims WHERE batch_id = ?", [batch_id]).fetchone()
    if claim is not None and claim[0] != holder_name() and claim[1] > now - timedelta(seconds=CLAIM_SECONDS):
        raise StoreBusyError(
            f"Batch {batch_id!r} is being written right now by another process ({claim[0]}, since "
            f"{claim[1]:%H:%M:%S}), so it was not written twice. If that process stopped, send it again after "
            f"{claim[1] + timedelta(seconds=CLAIM_SECONDS):%H:%M}."
        )
    cur.execute("DELETE FROM batch_claims WHERE batch_id = ?", [batch_id])
    cur.execute("INSERT INTO batch_claims VALUES (?, ?, ?, ?)", [batch_id, model, holder_name(), now])
    return False


class ClaimsFamily:
    """Claims on monitoring windows, and the model's counters and batch claims when it is deleted."""

    tables = ("window_claims", "batch_claims")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim_window(
        self,
        *,
        model: str,
        version: int,
        scope: str,
        window_start: datetime,
        fingerprint: str,
        holder: str,
        seconds: float,
        now: datetime | None = None,
    ) -> bool:
        """Take one window for `holder` for `seconds`; False when another live claim holds it, or when it is
        computed already with this fingerprint (another worker finished it)."""
        now = now or datetime.now()

        def take() -> bool:
            with self.conn.transaction() as cur:
                done = cur.execute(
                    "SELECT fingerprint FROM monitor_windows "
                    "WHERE model = ? AND version = ? AND scope = ? AND window_start = ?",
                    [model, version, scope, window_start],
                ).fetchone()
                if done is not None and done[0] == fingerprint:
                    return False
                live = cur.execute(
                    "SELECT count(*) FROM window_claims WHERE model = ? AND version = ? AND scope = ? "
                    "AND window_start = ? AND fingerprint = ? AND expires_at > ? AND holder <> ?",
                    [model, version, scope, window_start, fingerprint, now, holder],
                ).fetchone()[0]
                if live:
                    return False
                cur.execute(
                    "INSERT INTO window_claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [model, version, scope, window_start, fingerprint, holder, now, now + timedelta(seconds=seconds)],
                )
                return True

        return self.conn.retried(take)

    def release_window(
        self, *, model: str, version: int, scope: str, window_start: datetime, holder: str, now: datetime | None = None
    ) -> None:
        """End `holder`'s claim on a window it finished (the claim stays, as the record of who computed it)."""
        now = now or datetime.now()
        with self.conn.transaction() as cur:
            cur.execute(
                "UPDATE window_claims SET expires_at = ? WHERE model = ? AND version = ? AND scope = ? "
                "AND window_start = ? AND holder = ? AND expires_at > ?",
                [now, model, version, scope, window_start, holder, now],
            )

    def release_all(self, *, model: str, now: datetime | None = None) -> None:
        """End every live claim on `model`'s windows (its monitoring is being started over)."""
        now = now or datetime.now()
        with self.conn.transaction() as cur:
            cur.execute("UPDATE window_claims SET expires_at = ? WHERE model = ? AND expires_at > ?", [now, model, now])

    def window_claims(self, *, model: str | None = None) -> pd.DataFrame:
        """Every window claim (who, which window, until when), newest first."""
        where, params = ("WHERE model = ?", [model]) if model else ("", [])
        return self.conn.query_df(
            "SELECT model, version, scope, window_start, fingerprint, holder, claimed_at, expires_at "  # noqa: S608
            f"FROM window_claims {where} ORDER BY claimed_at DESC",
            params,
        )

    def prune_claims(self, *, before: datetime) -> int:
        """Forget window claims that expired before `before` (they no longer hold anything)."""
        with self.conn.transaction() as cur:
            n = int(cur.execute("SELECT count(*) FROM window_claims WHERE expires_at < ?", [before]).fetchone()[0])
            if n:
                cur.execute("DELETE FROM window_claims WHERE expires_at < ?", [before])
        return n

    def delete_model(self, model: str) -> None:
        """Forget `model`'s claims and its row-id counter (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            self.conn.delete(cur, self.tables, where="model = ?", params=[model])
            cur.execute("DELETE FROM id_counters WHERE name = ?", [f"rows:{model}"])
