"""What each channel is owed after a monitoring run: one message per model and recipient.

Called inside the transaction that saves the alert changes, so the alert and the message owed about
it are stored together or not at all. A channel hears about an alert when it opens, comes back after
it cleared, or gets worse (a higher severity, or at least twice the money at stake it was last told
about); and, if the channel asks for it, when it is back to normal after the channel was told it was
a problem. A muted model's messages are kept as `muted` and never sent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from core.alerts import SYSTEM
from core.alerts import AlertChanges
from core.config import SEVERITIES
from core.config import Channel
from core.config import Settings
from core.notify.channels import all_channels
from core.notify.messages import Item
from core.notify.messages import Rendered
from core.notify.messages import alerts_message
from core.schema import ModelSpec
from core.store import AlertRow
from core.store import NotifiedAlert
from core.store import OutboxMessage
from core.store import Store

ESCALATION_FACTOR = 2.0
"""An open alert whose money at stake reaches this multiple of what a channel was last told is sent again."""

ACTIVE = ("open", "acknowledged")


def message_id(*parts: object) -> str:
    """A stable id from what a message is about: the same message owed twice is stored once."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


def _reason(alert: AlertRow, events: set[str], told: NotifiedAlert | None, channel: Channel) -> str | None:
    """Why `channel` should hear about `alert` now (a key of messages.REASONS), or None."""
    if alert.state == "resolved":
        was_told_problem = told is not None and told.event != "resolved"
        return "resolved" if "resolved" in events and was_told_problem and channel.send_resolved else None
    if alert.state not in ACTIVE:
        return None
    if alert.state == "open" and events & {"opened", "reopened"}:
        return "reopened" if told is not None else "opened"
    if told is None or told.event == "resolved":
        return None  # an old problem the channel never heard of (added later): the digest covers it
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    if rank.get(alert.severity, 0) > rank.get(told.severity, 0):
        return "escalated"
    if told.cost_value and alert.cost_value and alert.cost_value >= ESCALATION_FACTOR * told.cost_value:
        return "escalated"
    return None


def owed_for_changes(
    *, store: Store, spec: ModelSpec, changes: AlertChanges, settings: Settings, now: datetime | None = None
) -> list[str]:
    """Store the messages `changes` owe each channel (in the caller's transaction); returns their ids."""
    now = now or datetime.now()
    if not changes.alerts:
        return []
    events: dict[str, set[str]] = {}
    for ev in changes.events:
        if ev.actor == SYSTEM:
            events.setdefault(ev.alert_id, set()).add(ev.event)
    muted = store.muted_until(spec.name, now=now)
    owed: list[OutboxMessage] = []
    for channel in all_channels(store, settings, enabled_only=True):
        told = store.last_told(channel_id=channel.id, alert_ids=[a.id for a in changes.alerts])
        items = []
        for alert in changes.alerts:
            if not channel.wants(alert.severity):
                continue
            reason = _reason(alert, events.get(alert.id, set()), told.get(alert.id), channel)
            if reason is not None:
                items.append(Item(alert=alert, reason=reason))
        if not items:
            continue
        rendered = alerts_message(spec, items, base_url=settings.delivery.base_url, channel_name=channel.name)
        key = sorted((i.alert.id, i.reason, i.alert.last_window, i.alert.cost_value) for i in items)
        for recipient in channel.recipients:
            owed.append(
                _outbox(
                    channel=channel,
                    recipient=recipient,
                    kind="alerts",
                    model=spec.name,
                    rendered=rendered,
                    mid=message_id("alerts", channel.id, recipient, spec.name, key),
                    items=items,
                    muted=muted,
                )
            )
    return store.enqueue(owed, now=now)


def _outbox(
    *,
    channel: Channel,
    recipient: str,
    kind: str,
    model: str | None,
    rendered: Rendered,
    mid: str,
    items: list[Item] = (),
    muted: datetime | None = None,
) -> OutboxMessage:
    """An outbox row for one recipient of `channel`."""
    return OutboxMessage(
        id=mid,
        channel_id=channel.id,
        channel_name=channel.name,
        recipient=recipient,
        kind=kind,
        model=model,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html if channel.kind == "email" else None,
        payload=rendered.payload,
        alerts=tuple(
            NotifiedAlert(
                alert_id=i.alert.id,
                event=i.reason,
                severity=i.alert.severity,
                cost_value=i.alert.cost_value,
            )
            for i in items
        ),
        status="muted" if muted else "pending",
        last_error=f"not sent: the model is muted until {muted:%d %b %Y %H:%M}" if muted else None,
    )


def owed_message(
    *, channel: Channel, recipient: str, kind: str, rendered: Rendered, mid: str, model: str | None = None
) -> OutboxMessage:
    """An outbox row that is not about alerts (a digest or a test)."""
    return _outbox(channel=channel, recipient=recipient, kind=kind, model=model, rendered=rendered, mid=mid)
