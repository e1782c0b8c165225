"""Why a channel hears about an alert, and the words it gets: unit checks on real rows, no store needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from core.config import make_channel
from core.demo.datasets import CHURN
from core.notify.messages import Item
from core.notify.messages import alerts_message
from core.notify.owed import _reason
from core.store import AlertRow
from core.store import NotifiedAlert

CHANNEL = make_channel(id="c", name="Founders", kind="email", target="maya@startup.com")
ALERT = AlertRow(
    id="churn-drift-1",
    model="churn",
    version=1,
    rule="drift",
    subject="drift_share",
    severity="warning",
    state="open",
    title="Customer churn: incoming data has changed",
    what="4 of 19 inputs moved in Jun 2017.",
    cost="About $3,200 of monthly revenue is at stake.",
    action="Check where the data comes from.",
    cost_value=3200.0,
    value=0.4,
    threshold=0.3,
    first_window=datetime(2017, 6, 1),
    last_window=datetime(2017, 6, 1),
    windows=1,
    opened_at=datetime(2026, 12, 1),
    updated_at=datetime(2026, 12, 1),
    resolved_at=None,
)


def told(event="opened", severity="warning", cost=3200.0):
    return NotifiedAlert(alert_id=ALERT.id, event=event, severity=severity, cost_value=cost)


@pytest.mark.parametrize(
    ("alert", "events", "last", "channel", "expected"),
    [
        (ALERT, {"opened"}, None, CHANNEL, "opened"),
        (ALERT, {"reopened"}, told("resolved"), CHANNEL, "reopened"),
        (ALERT, {"opened", "resolved", "reopened"}, None, CHANNEL, "opened"),  # never told: it is new to them
        (ALERT, set(), told(), CHANNEL, None),  # nothing new
        (ALERT, set(), None, CHANNEL, None),  # an old problem a new channel never heard of: the digest says it
        (replace(ALERT, severity="critical"), set(), told(), CHANNEL, "escalated"),
        (replace(ALERT, cost_value=6400.0), set(), told(), CHANNEL, "escalated"),
        (replace(ALERT, cost_value=6000.0), set(), told(), CHANNEL, None),  # worse, but not twice as costly
        (replace(ALERT, state="acknowledged"), {"reopened"}, told(), CHANNEL, None),  # someone is on it
        (replace(ALERT, state="acknowledged", cost_value=9999.0), set(), told(), CHANNEL, "escalated"),
        (replace(ALERT, state="resolved"), {"resolved"}, told(), CHANNEL, "resolved"),
        (replace(ALERT, state="resolved"), {"resolved"}, None, CHANNEL, None),  # never told it was a problem
        (replace(ALERT, state="resolved"), {"resolved"}, told(), replace(CHANNEL, send_resolved=False), None),
    ],
)
def test_why_a_channel_hears_about_an_alert(alert, events, last, channel, expected):
    assert _reason(alert, events, last, channel) == expected


def test_critical_only_channel_wants_no_warnings():
    critical = replace(CHANNEL, min_severity="critical")
    assert critical.wants("critical") and not critical.wants("warning") and CHANNEL.wants("warning")


def test_message_words_escape_html_and_put_the_worst_first():
    spec = CHURN.spec
    nasty = replace(ALERT, id="a2", title="Customer churn: <script>alert(1)</script>", severity="critical")
    rendered = alerts_message(
        spec, [Item(ALERT, "opened"), Item(nasty, "escalated")], base_url="https://x.io", channel_name="Founders"
    )
    assert rendered.subject == "Critical · Customer churn: <script>alert(1)</script> (+1 more)"
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert rendered.text.index("CRITICAL (got worse)") < rendered.text.index("WARNING (new)")
    assert "When: in Jun 2017" in rendered.text
    assert rendered.text.startswith("Customer churn needs you: 1 new problem, 1 problem got worse.")
    assert [a["id"] for a in rendered.payload["alerts"]] == ["a2", ALERT.id]
