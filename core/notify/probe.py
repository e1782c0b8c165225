"""The Settings page's "send a test message": sent at once, recorded among the deliveries."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from core.config import Channel
from core.config import Settings
from core.errors import DeliveryError
from core.notify.channels import send
from core.notify.messages import test_message
from core.notify.owed import owed_message
from core.store import Store


def send_test(*, store: Store, settings: Settings, channel: Channel) -> str:
    """Send a test message to every recipient of `channel` now; DeliveryError names the first failure."""
    rendered = test_message(channel_name=channel.name, base_url=settings.delivery.base_url)
    error: DeliveryError | None = None
    for recipient in channel.recipients:
        m = owed_message(
            channel=channel, recipient=recipient, kind="test", rendered=rendered, mid=f"test-{uuid.uuid4().hex[:16]}"
        )
        try:
            send(m, channel, settings)
            done = replace(m, status="sent", attempts=1)
        except DeliveryError as exc:
            error = error or exc
            done = replace(m, status="failed", attempts=1, last_error=exc.user_message)
        store.enqueue([done], now=datetime.now())
    if error is not None:
        raise error
    n = len(channel.recipients)
    return f"Test message sent to {channel.shown_target}" + (f" ({n} addresses)." if n > 1 else ".")
