"""The words of every message: one model's alerts from one run, the weekly digest, a test message.

A message is rendered once, when it is owed, and stored as sent (subject, plain text, HTML and the
structured payload); retries send the stored words, and the Settings page previews exactly them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd

from core.monitoring.windows import make_window
from core.schema import ModelSpec
from core.store import AlertRow
from core.wording import upper_first

REASONS = {
    "opened": "new",
    "reopened": "back again",
    "escalated": "got worse",
    "resolved": "back to normal",
}
"""Why an alert is in a message, as its line says it."""

SEVERITY_WORD = {"critical": "Critical", "warning": "Warning"}


@dataclass(frozen=True)
class Item:
    """One alert in a message and why it is there (a key of :data:`REASONS`)."""

    alert: AlertRow
    reason: str


@dataclass(frozen=True)
class Rendered:
    """A message's words in every form a channel may need."""

    subject: str
    text: str
    html: str
    payload: dict


def alert_link(base_url: str, alert: AlertRow) -> str:
    """The hosted app's page for this alert."""
    return f"{base_url}/alerts?" + urlencode({"model": alert.model, "alert": alert.id})


def window_words(spec: ModelSpec, alert: AlertRow) -> str:
    """`in Jun 2017`, `from the week of 5 Jun 2017 to the week of 19 Jun 2017`, or `at training time`."""
    if alert.first_window is None or pd.isna(alert.first_window):
        return "at training time"
    first = make_window(pd.Timestamp(alert.first_window), spec.window).label(spec.window)
    last = make_window(pd.Timestamp(alert.last_window), spec.window).label(spec.window)
    the = "" if spec.window == "month" else "the "
    return f"in {the}{first}" if first == last else f"from {the}{first} to {the}{last}"


def _structured(spec: ModelSpec, item: Item, base_url: str) -> dict:
    a = item.alert
    return {
        "id": a.id,
        "title": a.title,
        "severity": a.severity,
        "state": a.state,
        "reason": item.reason,
        "what": a.what,
        "cost": a.cost,
        "action": a.action,
        "cost_value": a.cost_value,
        "window": window_words(spec, a),
        "window_start": a.first_window,
        "window_end": a.last_window,
        "link": alert_link(base_url, a),
    }


def alerts_message(spec: ModelSpec, items: list[Item], *, base_url: str, channel_name: str) -> Rendered:
    """One model's alerts from one monitoring run, problems first, then what cleared."""
    problems = sorted(
        (i for i in items if i.reason != "resolved"),
        key=lambda i: (i.alert.severity != "critical", -(i.alert.cost_value or 0)),
    )
    cleared = [i for i in items if i.reason == "resolved"]
    subject = _subject(spec, problems, cleared)
    intro = _intro(spec, problems, cleared)
    settings_link = f"{base_url}/settings"
    text = [intro, ""]
    for i in problems:
        a = i.alert
        text += [
            f"{SEVERITY_WORD.get(a.severity, a.severity).upper()} ({REASONS[i.reason]}): {a.title}",
            f"When: {window_words(spec, a)}",
            f"What happened: {a.what}",
            f"What it costs: {a.cost}",
            f"What to do: {a.action}",
            f"Open it: {alert_link(base_url, a)}",
            "",
        ]
    if cleared:
        text.append("Back to normal:")
        text += [f"- {i.alert.title} ({alert_link(base_url, i.alert)})" for i in cleared]
        text.append("")
    footer = (
        f"You get this because you are on the ModelPulse channel {channel_name!r}. "
        f"Mute this model or change what you receive: {settings_link}"
    )
    text.append(footer)
    blocks = [f"<p style='font-size:15px'>{_e(intro)}</p>"]
    for i in problems:
        a = i.alert
        colour = "#b91c1c" if a.severity == "critical" else "#b45309"
        tag = f"{_e(SEVERITY_WORD.get(a.severity, a.severity))} &middot; {_e(REASONS[i.reason])}"
        link = _e(alert_link(base_url, a))
        blocks.append(
            f"<div style='border-left:4px solid {colour};padding:4px 12px;margin:12px 0'>"
            f"<p style='margin:0;color:{colour};font-size:12px;text-transform:uppercase'>{tag}</p>"
            f"<p style='margin:4px 0;font-size:16px'><b>{_e(a.title)}</b></p>"
            f"<p style='margin:4px 0;color:#555'>{_e(upper_first(window_words(spec, a)))}</p>"
            f"<p style='margin:4px 0'>{_e(a.what)}</p><p style='margin:4px 0'>{_e(a.cost)}</p>"
            f"<p style='margin:4px 0'><b>What to do:</b> {_e(a.action)}</p>"
            f"<p style='margin:8px 0'><a href='{link}'>Open this alert in ModelPulse</a></p></div>"
        )
    if cleared:
        rows = "".join(
            f"<li><a href='{_e(alert_link(base_url, i.alert))}'>{_e(i.alert.title)}</a></li>" for i in cleared
        )
        blocks.append(f"<p><b>Back to normal</b></p><ul>{rows}</ul>")
    blocks.append(f"<p style='color:#777;font-size:12px'>{_e(footer)}</p>")
    payload = {
        "event": "alerts",
        "model": spec.name,
        "model_title": spec.title,
        "subject": subject,
        "alerts": [_structured(spec, i, base_url) for i in problems + cleared],
    }
    return Rendered(subject=subject, text="\n".join(text), html=_page(subject, "".join(blocks)), payload=payload)


def _subject(spec: ModelSpec, problems: list[Item], cleared: list[Item]) -> str:
    """A subject a founder can triage from: severity, model, the worst problem, and how many more."""

    def named(title: str) -> str:  # alert titles already start with the model's name
        return title if title.startswith(spec.title) else f"{spec.title}: {title}"

    if not problems:
        more = f" (+{len(cleared) - 1} more)" if len(cleared) > 1 else ""
        return f"Resolved · {named(cleared[0].alert.title)}{more}"
    worst = problems[0].alert
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{SEVERITY_WORD.get(worst.severity, worst.severity)} · {named(worst.title)}{more}"


def _intro(spec: ModelSpec, problems: list[Item], cleared: list[Item]) -> str:
    parts = []
    for reason in ("opened", "reopened", "escalated"):
        n = sum(1 for i in problems if i.reason == reason)
        if n:
            noun = "problem" if n == 1 else "problems"
            parts.append(f"{n} {noun} {REASONS[reason]}" if reason != "opened" else f"{n} new {noun}")
    if cleared:
        parts.append(f"{len(cleared)} back to normal")
    lead = f"{spec.title} needs you" if problems else f"{spec.title} is better"
    return f"{lead}: {', '.join(parts)}."


def test_message(*, channel_name: str, base_url: str) -> Rendered:
    """A message that proves a channel works."""
    subject = f"ModelPulse test message for {channel_name}"
    text = (
        f"This is a test from ModelPulse. Alerts sent to the channel {channel_name!r} will arrive like this.\n"
        f"Open ModelPulse: {base_url}/"
    )
    body = (
        f"<p>This is a test from ModelPulse. Alerts sent to the channel <b>{_e(channel_name)}</b> "
        "will arrive like this.</p>"
    )
    body += f"<p><a href='{_e(base_url)}/'>Open ModelPulse</a></p>"
    return Rendered(
        subject=subject, text=text, html=_page(subject, body), payload={"event": "test", "subject": subject}
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + _e(title) + "</title></head>"
        "<body style='font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111;max-width:640px'>"
        + body
        + "</body></html>"
    )
