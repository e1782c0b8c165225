"""Who hears about alerts and when monitoring runs: `channels`, `mutes`, `schedules`, `schedule_runs`
and `leases` (which process may run the scheduler and send)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import pandas as pd

from core.config import Channel
from core.config import make_channel
from core.errors import NotFoundError
from core.store.connection import Connection


class DeliveryFamily:
    """Channels added on the Settings page, per-model mutes and schedules, the run log, and leases."""

    tables = ("channels", "mutes", "schedules", "schedule_runs", "leases")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ channels
    def list_channels(self) -> list[Channel]:
        """Channels people added, oldest first."""
        frame = self.conn.query_df(
            "SELECT id, name, kind, target, format, min_severity, send_resolved, digest, enabled FROM channels "
            "ORDER BY created_at, id"
        )
        return [
            make_channel(**{k: (bool(v) if isinstance(v, bool) else v) for k, v in r.items()})
            for r in frame.to_dict("records")
        ]

    def save_channel(self, channel: Channel, *, by: str) -> None:
        """Add a channel or replace the one with the same id."""
        with self.conn.transaction() as cur:
            old = cur.execute("SELECT created_at, created_by FROM channels WHERE id = ?", [channel.id]).fetchall()
            created_at, created_by = old[0] if old else (datetime.now(), by)
            cur.execute("DELETE FROM channels WHERE id = ?", [channel.id])
            cur.execute(
                "INSERT INTO channels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    channel.id,
                    channel.name,
                    channel.kind,
                    channel.target,
                    channel.format,
                    channel.min_severity,
                    channel.send_resolved,
                    channel.digest,
                    channel.enabled,
                    created_at,
                    created_by,
                ],
            )

    def delete_channel(self, channel_id: str) -> None:
        """Remove a channel; messages already owed to it are given up when their turn comes."""
        with self.conn.transaction() as cur:
            if not cur.execute("SELECT 1 FROM channels WHERE id = ?", [channel_id]).fetchall():
                raise NotFoundError(f"There is no channel {channel_id}.")
            cur.execute("DELETE FROM channels WHERE id = ?", [channel_id])

    # ------------------------------------------------------------------ mutes
    def mute_model(self, *, model: str, until: datetime, by: str, reason: str | None = None) -> None:
        """Send nothing about `model` until `until`."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM mutes WHERE model = ?", [model])
            cur.execute("INSERT INTO mutes VALUES (?, ?, ?, ?, ?)", [model, until, by, reason, datetime.now()])

    def unmute_model(self, model: str) -> None:
        """Let messages about `model` go out again."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM mutes WHERE model = ?", [model])

    def muted_until(self, model: str, *, now: datetime) -> datetime | None:
        """The end of `model`'s mute when it is muted at `now`, else None."""
        rows = self.conn.fetch("SELECT until FROM mutes WHERE model = ? AND until > ?", [model, now])
        return rows[0][0] if rows else None

    def list_mutes(self) -> pd.DataFrame:
        """Every mute: model, until, who and why."""
        return self.conn.query_df("SELECT model, until, muted_by, reason, created_at FROM mutes ORDER BY model")

    # ------------------------------------------------------------------ schedules and their runs
    def set_schedule(self, *, model: str, cron: str | None, by: str) -> None:
        """Run monitoring for `model` on `cron` (a crontab line); None removes the schedule."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM schedules WHERE model = ?", [model])
            if cron:
                cur.execute("INSERT INTO schedules VALUES (?, ?, ?, ?)", [model, cron, datetime.now(), by])

    def schedules(self) -> dict[str, tuple[str, datetime]]:
        """Model name to (its crontab line, when the schedule was set)."""
        rows = self.conn.fetch("SELECT model, cron, updated_at FROM schedules ORDER BY model")
        return {r[0]: (r[1], r[2]) for r in rows}

    def record_run(
        self,
        *,
        job: str,
        scheduled_for: datetime | None,
        started_at: datetime,
        finished_at: datetime | None,
        status: str,
        message: str,
        runner: str,
    ) -> None:
        """Log one scheduled job: ran, failed or skipped (and why)."""
        with self.conn.transaction() as cur:
            cur.execute(
                "INSERT INTO schedule_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [job, scheduled_for, started_at, finished_at, status, message[:500], runner],
            )

    def last_run(self, job: str) -> datetime | None:
        """The fire time of the latest run of `job` that started (ran or failed), or None."""
        rows = self.conn.fetch(
            "SELECT max(coalesce(scheduled_for, started_at)) FROM schedule_runs WHERE job = ? AND status <> 'skipped'",
            [job],
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    def list_runs(self, *, limit: int = 50, job: str | None = None) -> pd.DataFrame:
        """Recent scheduled runs, newest first."""
        return self.conn.query_df(
            "SELECT job, scheduled_for, started_at, finished_at, status, message, runner FROM schedule_runs "
            "WHERE (? IS NULL OR job = ?) ORDER BY started_at DESC LIMIT ?",
            [job, job, limit],
        )

    # ------------------------------------------------------------------ leases
    def acquire_lease(
        self, *, name: str, holder: str, seconds: float, now: datetime | None = None, take_from: str | None = None
    ) -> bool:
        """Take or renew the lease `name` for `holder`; False while another holder's lease is unexpired,
        unless that holder is `take_from` (one the caller knows has stopped)."""
        now = now or datetime.now()
        with self.conn.transaction() as cur:
            rows = cur.execute("SELECT holder, expires_at FROM leases WHERE name = ?", [name]).fetchall()
            if rows and rows[0][0] not in (holder, take_from) and rows[0][1] > now:
                return False
            expires = now + timedelta(seconds=seconds)
            if rows and rows[0][0] == holder:
                cur.execute("UPDATE leases SET expires_at = ? WHERE name = ?", [expires, name])
            else:
                cur.execute("DELETE FROM leases WHERE name = ?", [name])
                cur.execute("INSERT INTO leases VALUES (?, ?, ?, ?)", [name, holder, now, expires])
        return True

    def release_lease(self, *, name: str, holder: str) -> None:
        """Give the lease back (only its holder can)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])

    def lease_holder(self, name: str, *, now: datetime | None = None) -> str | None:
        """Who holds an unexpired lease `name`, or None."""
        rows = self.conn.fetch(
            "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", [name, now or datetime.now()]
        )
        return rows[0][0] if rows else None

    def delete_model(self, model: str) -> None:
        """Forget `model`'s mute, schedule and run log (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM mutes WHERE model = ?", [model])
            cur.execute("DELETE FROM schedules WHERE model = ?", [model])
            cur.execute("DELETE FROM schedule_runs WHERE job = ?", [f"monitor:{model}"])
