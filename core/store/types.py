"""Typed rows the store takes and gives: versions, model counts, alerts and their events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ALERT_STATES = {"open": "reopened", "acknowledged": "acknowledged", "resolved": "resolved"}
"""The states a person can set an alert to, and the event recorded in its history when they do."""


@dataclass(frozen=True)
class VersionInfo:
    """One saved model version as the store records it."""

    model: str
    version: int
    created_at: datetime
    weights_path: str | None
    weights_sha256: str | None
    reference_set: str
    metadata: dict
    is_live: bool


@dataclass(frozen=True)
class ModelStatus:
    """Counts for one model, as shown by `python -m core status` and the Home page."""

    name: str
    title: str
    task: str
    versions: list[int]
    live_version: int | None
    production_rows: int
    predictions: int
    labelled_rows: int
    first_ts: datetime | None
    last_ts: datetime | None

    @property
    def label_coverage(self) -> float:
        """Share of production rows whose label has arrived."""
        return self.labelled_rows / self.production_rows if self.production_rows else 0.0


@dataclass(frozen=True, kw_only=True)
class AlertRow:
    """One alert as stored: what fired, its words, its span of windows and its state."""

    id: str
    model: str
    version: int | None
    rule: str
    subject: str
    severity: str
    state: str
    title: str
    what: str
    cost: str
    action: str
    cost_value: float | None
    value: float | None
    threshold: float | None
    first_window: datetime | None
    last_window: datetime | None
    windows: int
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class AlertEvent:
    """One line of an alert's history: opened, reopened, resolved (by the system) or a person's action."""

    alert_id: str
    model: str
    event: str
    actor: str
    comment: str | None = None
    window_start: datetime | None = None
    at: datetime | None = None
    """When it happened; None stamps the time of saving."""


OUTBOX_STATES = ("pending", "sending", "sent", "failed", "muted")
"""pending: owed; sending: claimed by a sender; sent; failed: given up after its last attempt; muted: not
sent because the model was muted (kept so the Settings page can say what was held back)."""


@dataclass(frozen=True, kw_only=True)
class NotifiedAlert:
    """One alert a message speaks about, and why (opened, reopened, escalated, resolved)."""

    alert_id: str
    event: str
    severity: str
    cost_value: float | None = None


@dataclass(frozen=True, kw_only=True)
class OutboxMessage:
    """One message owed to one recipient of one channel: its words, its state and its attempts."""

    id: str
    channel_id: str
    channel_name: str
    recipient: str
    kind: str
    """`alerts` (new, escalated, reopened or resolved alerts of one model), `digest` or `test`."""
    model: str | None
    subject: str
    body_text: str
    body_html: str | None
    payload: dict
    alerts: tuple[NotifiedAlert, ...] = ()
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class SilencedAlert:
    """A window in which a rule's default line would have fired but the line feedback adapted did not, and
    what the alert would have said."""

    model: str
    rule: str
    subject: str
    window_start: datetime
    """The window's start (the epoch for a check of the version itself)."""
    measure: float | None
    default_threshold: float
    used_threshold: float
    title: str
    what: str
