"""Channels: the ones written in secrets.toml and the ones people added, and how each kind sends."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from core.config import Channel
from core.config import Settings
from core.notify.email import send_email
from core.notify.webhook import send_webhook
from core.store import OutboxMessage
from core.store import Store

Sender = Callable[[OutboxMessage, Channel, Settings], None]

SENDERS: dict[str, Sender] = {
    "email": lambda m, channel, settings: send_email(m, smtp=settings.delivery.smtp),
    "webhook": lambda m, channel, settings: send_webhook(m, url=channel.target, format=channel.format),
}
"""How each channel kind sends one message (a new kind is one entry here and its module)."""


def all_channels(store: Store, settings: Settings, *, enabled_only: bool = False) -> list[Channel]:
    """Channels from secrets.toml first, then the ones added on the Settings page."""
    channels = [*settings.delivery.channels, *store.list_channels()]
    return [c for c in channels if c.enabled] if enabled_only else channels


def find_channel(store: Store, settings: Settings, channel_id: str) -> Channel | None:
    """The channel with this id, or None when it was removed."""
    return next((c for c in all_channels(store, settings) if c.id == channel_id), None)


def new_channel_id(name: str, kind: str) -> str:
    """An id for a channel added on the Settings page."""
    import uuid

    return f"{kind}-" + hashlib.sha1(f"{name}|{uuid.uuid4()}".encode()).hexdigest()[:10]


def send(m: OutboxMessage, channel: Channel, settings: Settings) -> None:
    """Send one message through its channel (DeliveryError on failure)."""
    SENDERS[channel.kind](m, channel, settings)
