"""The weekly digest: every model's health, the week's alerts and the business numbers, in one short email."""

from __future__ import annotations

import html
from datetime import datetime
from datetime import timedelta

import pandas as pd

from core.config import Settings
from core.notify.channels import all_channels
from core.notify.messages import Rendered
from core.notify.owed import message_id
from core.notify.owed import owed_message
from core.store import Store
from core.views.movers import what_changed
from core.views.overview import HealthCard
from core.views.overview import overview

DAYS = 7
MOVERS = 2
"""Groups that moved most (by money) listed per model."""


def _moved(store: Store, model: str) -> list[str]:
    """The sentences of the groups that moved most between the model's last two windows."""
    spec = store.get_spec(model)
    live = store.live_version(model)
    if live is None:
        return []
    return [m.sentence for m in what_changed(store, spec, version=live.version, limit=MOVERS)]


def _week_events(store: Store, model: str, since: datetime) -> tuple[list[str], list[str]]:
    """Titles of alerts opened (or reopened) and resolved since `since`."""
    events = store.model_alert_events(model)
    if events.empty:
        return [], []
    recent = events[pd.to_datetime(events["happened_at"]) >= pd.Timestamp(since)]
    opened = list(dict.fromkeys(recent[recent["event"].isin(["opened", "reopened"])]["title"]))
    resolved = list(dict.fromkeys(recent[recent["event"] == "resolved"]["title"]))
    return opened, resolved


def _line(card: HealthCard) -> str:
    kpi = f"{card.kpi_label}: {card.kpi_value}" + (f" ({card.kpi_delta})" if card.kpi_delta else "")
    alerts = f"{card.open_alerts} open alert{'s' if card.open_alerts != 1 else ''}"
    if card.critical_alerts:
        alerts += f", {card.critical_alerts} critical"
    return f"{card.title}: {card.status_word}. {card.reason} {kpi}. {alerts}."


def digest_message(store: Store, settings: Settings, *, now: datetime | None = None) -> Rendered:
    """The digest as it would be sent now."""
    now = now or datetime.now()
    since = now - timedelta(days=DAYS)
    cards, _ = overview(store)
    base = settings.delivery.base_url
    counts = {w: sum(1 for c in cards if c.status_word == w) for w in ("Needs action", "Worth a look", "Healthy")}
    summary = ", ".join(f"{n} {w.lower()}" for w, n in counts.items() if n) or "no models yet"
    subject = f"ModelPulse weekly: {summary}"
    text = [f"Your models this week ({since:%d %b} to {now:%d %b %Y}).", ""]
    blocks = [f"<p style='font-size:15px'>Your models this week ({since:%d %b} to {now:%d %b %Y}).</p>"]
    opened_total = resolved_total = 0
    moved_by_model = {card.model: _moved(store, card.model) for card in cards}
    for card in cards:
        opened, resolved = _week_events(store, card.model, since)
        opened_total += len(opened)
        resolved_total += len(resolved)
        week = f"This week: {len(opened)} alert{'s' if len(opened) != 1 else ''} opened, {len(resolved)} resolved."
        link = f"{base}/?model={card.model}"
        moved = moved_by_model[card.model]
        text += [_line(card), week]
        text += [f"  - new: {t}" for t in opened[:3]]
        text += [f"  - moved most: {t}" for t in moved]
        text += [f"Open it: {link}", ""]
        colour = {"red": "#b91c1c", "amber": "#b45309", "green": "#15803d"}.get(card.status, "#555")
        items = "".join(f"<li>{html.escape(t)}</li>" for t in opened[:3])
        blocks.append(
            f"<div style='border-left:4px solid {colour};padding:4px 12px;margin:12px 0'>"
            f"<p style='margin:0'><b>{html.escape(card.title)}</b>: "
            f"<span style='color:{colour}'>{html.escape(card.status_word)}</span></p>"
            f"<p style='margin:4px 0'>{html.escape(card.reason)}</p>"
            f"<p style='margin:4px 0'>{html.escape(card.kpi_label)}: <b>{html.escape(card.kpi_value)}</b>"
            + (f" ({html.escape(card.kpi_delta)})" if card.kpi_delta else "")
            + f"</p><p style='margin:4px 0'>{html.escape(week)}</p>"
            + (f"<ul>{items}</ul>" if items else "")
            + (
                "<p style='margin:4px 0'>What moved most:</p><ul>"
                + "".join(f"<li>{html.escape(t)}</li>" for t in moved)
                + "</ul>"
                if moved
                else ""
            )
            + f"<p style='margin:4px 0'><a href='{html.escape(link)}'>Open {html.escape(card.title)}</a></p></div>"
        )
    footer = f"Change what you receive on the Settings page: {base}/settings"
    text.append(footer)
    blocks.append(f"<p style='color:#777;font-size:12px'>{html.escape(footer)}</p>")
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(subject) + "</title></head>"
        "<body style='font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111;max-width:640px'>"
        + "".join(blocks)
        + "</body></html>"
    )
    payload = {
        "event": "digest",
        "subject": subject,
        "models": [
            {
                "model": c.model,
                "title": c.title,
                "status": c.status_word,
                "kpi": c.kpi_value,
                "kpi_change": c.kpi_delta,
                "moved_most": moved_by_model[c.model],
            }
            for c in cards
        ],
        "alerts_opened": opened_total,
        "alerts_resolved": resolved_total,
    }
    return Rendered(subject=subject, text="\n".join(text), html=body, payload=payload)


def owe_digest(store: Store, settings: Settings, *, now: datetime | None = None) -> list[str]:
    """Owe this week's digest to every recipient of every channel that takes it (once per ISO week)."""
    now = now or datetime.now()
    year, week, _ = now.isocalendar()
    channels = [c for c in all_channels(store, settings, enabled_only=True) if c.digest]
    if not channels:
        return []
    rendered = digest_message(store, settings, now=now)
    owed = [
        owed_message(
            channel=c, recipient=r, kind="digest", rendered=rendered, mid=message_id("digest", c.id, r, year, week)
        )
        for c in channels
        for r in c.recipients
    ]
    return store.enqueue(owed, now=now)
