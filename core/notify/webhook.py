"""Webhooks: one JSON POST per message, in the format the receiving tool reads.

`slack` is Slack's incoming-webhook body (a `text` field in Slack's mrkdwn, which Mattermost, Rocket.Chat
and Discord's /slack endpoint also read) with the structured alert beside it; `teams` is a Microsoft
Teams workflow message holding an Adaptive Card; `json` is the structured message alone. Every POST
carries the message id as `Idempotency-Key` (and `delivery_id` in the body), so a receiver can drop
the rare repeat sent after an interrupted attempt.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

from core.errors import DeliveryError
from core.store import OutboxMessage

TIMEOUT_SECONDS = 15


def _slack_text(m: OutboxMessage) -> str:
    p = m.payload
    lines = [f"*{m.subject}*"]
    for a in p.get("alerts", []):
        lines.append(f"• <{a['link']}|{a['title']}> ({a['severity']}, {a['reason']}, {a['window']})")
        if a["reason"] != "resolved":
            lines.append(f"   {a['what']} {a['cost']} *Next:* {a['action']}")
    if p.get("event") == "digest":
        lines.append(m.body_text)
    elif p.get("event") == "test":
        lines.append(m.body_text)
    return "\n".join(lines)


def slack(m: OutboxMessage) -> dict:
    """Slack-compatible: `text` for people, `modelpulse` for machines."""
    return {"text": _slack_text(m), "delivery_id": m.id, "modelpulse": m.payload}


def teams(m: OutboxMessage) -> dict:
    """A Teams workflow ("Post to a channel when a webhook request is received") message with an Adaptive Card."""
    body: list[dict] = [{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": m.subject, "wrap": True}]
    actions = []
    for a in m.payload.get("alerts", []):
        body.append({"type": "TextBlock", "weight": "Bolder", "text": f"{a['title']} ({a['reason']})", "wrap": True})
        if a["reason"] != "resolved":
            body.append({"type": "TextBlock", "text": f"{a['what']} {a['cost']} Next: {a['action']}", "wrap": True})
        if len(actions) < 5:
            actions.append({"type": "Action.OpenUrl", "title": f"Open: {a['title'][:40]}", "url": a["link"]})
    if not m.payload.get("alerts"):
        body.append({"type": "TextBlock", "text": m.body_text, "wrap": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "delivery_id": m.id,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def generic(m: OutboxMessage) -> dict:
    """The structured message, with its subject and plain text."""
    return {"delivery_id": m.id, **m.payload, "subject": m.subject, "text": m.body_text}


FORMATS: dict[str, Callable[[OutboxMessage], dict]] = {"slack": slack, "teams": teams, "json": generic}


def send_webhook(m: OutboxMessage, *, url: str, format: str) -> None:
    """POST the message as JSON; DeliveryError with a sentence when the receiver does not take it."""
    body = json.dumps(FORMATS[format](m), default=str).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": m.id, "User-Agent": "ModelPulse"},
    )
    host = urllib.request.urlparse(url).hostname
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) checked
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"The webhook at {host} answered {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"The webhook at {host} could not be reached ({reason}).") from None
