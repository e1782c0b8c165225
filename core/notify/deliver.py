"""Sending what the outbox holds: claim, send, record; retry with backoff; never twice on purpose.

Each message is claimed (one committed UPDATE), sent outside any transaction, then marked sent. A
failure is recorded with its sentence and retried after `retry_seconds`, doubling each time, until
`max_attempts`. A sender that stops mid-send leaves its claim behind; the next sender to take the
delivery lease puts those messages back and sends them under the same id (the Message-ID header or
the webhook's Idempotency-Key), so nothing is lost, and a receiver can drop the one repeat that can
only happen when the stop fell between the receiver's acceptance and our record of it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from core.config import Settings
from core.errors import DeliveryError
from core.notify.channels import find_channel
from core.notify.channels import send
from core.store import Store

log = logging.getLogger("modelpulse.delivery")

LEASE = "delivery"


def holder_id() -> str:
    """Who this process is, for claims and leases: host, process id and a fresh token per start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    released: int = 0
    lease_held_by: str | None = None
    """Set when another process holds the delivery lease, so this pass sent nothing."""


def stopped(holder: str | None) -> bool:
    """True when `holder` was a process on this machine that is no longer running (it crashed or was killed)."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    return not pid_running(int(pid))


def pid_running(pid: int) -> bool:
    """True while process `pid` exists on this machine (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_lease(store: Store, *, name: str = LEASE, holder: str, seconds: float) -> tuple[bool, int]:
    """Take (or renew) a lease, taking over from a holder on this machine that has stopped; on first taking
    the delivery lease, put back what stopped senders left claimed. Returns (held, messages put back)."""
    current = store.lease_holder(name)
    dead = current if current != holder and stopped(current) else None
    if not store.acquire_lease(name=name, holder=holder, seconds=seconds, take_from=dead):
        return False, 0
    if dead:
        log.warning("took the %s lease over from %s, which has stopped", name, dead)
    if name != LEASE or current == holder:
        return True, 0
    return True, store.release_interrupted(holder=holder)


def deliver_due(
    *,
    store: Store,
    settings: Settings,
    holder: str,
    now: datetime | None = None,
    limit: int = 50,
    lease_seconds: float | None = None,
) -> DeliveryReport:
    """Send every message that is due, if this process holds (or can take) the delivery lease."""
    report = DeliveryReport()
    lease_seconds = lease_seconds or max(60.0, 4.0 * settings.delivery.poll_seconds)
    held, report.released = take_lease(store, holder=holder, seconds=lease_seconds)
    if not held:
        report.lease_held_by = store.lease_holder(LEASE)
        return report
    cfg = settings.delivery
    for m in store.claim_messages(holder=holder, now=now or datetime.now(), limit=limit):
        channel = find_channel(store, settings, m.channel_id)
        try:
            if channel is None or not channel.enabled:
                raise DeliveryError(f"The channel {m.channel_name!r} was removed or turned off, so this was not sent.")
            send(m, channel, settings)
        except DeliveryError as exc:
            last = channel is None or not channel.enabled or m.attempts >= cfg.max_attempts
            wait = timedelta(seconds=cfg.retry_seconds * 2 ** (m.attempts - 1))
            retry_at = None if last else datetime.now() + wait
            store.mark_failed(message_id=m.id, holder=holder, error=exc.user_message, retry_at=retry_at)
            (report.failed if last else report.retrying).append(m.id)
            log.warning("delivery %s to %s, attempt %d: %s", m.id, m.channel_name, m.attempts, exc.user_message)
            continue
        store.mark_sent(message_id=m.id, holder=holder, at=datetime.now())
        report.sent.append(m.id)
    return report
