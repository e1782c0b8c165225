"""What the Overview page shows: per model one traffic light, one sentence why, the money, the trend.

Everything here reads stored aggregates (alerts, check results of recent windows, daily
statistics), never raw prediction rows, so the overview costs the same with 10 thousand or 10
million stored predictions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd

from core.metrics import METRICS
from core.metrics import PRIMARY
from core.monitoring.windows import make_window
from core.schema import ModelSpec
from core.store import Store
from core.views.kpis import headline
from core.views.kpis import kpi_series
from core.wording import amount
from core.wording import format_value

STATUS_WORDS = {"red": "Needs action", "amber": "Worth a look", "green": "Healthy", "grey": "No data yet"}


@dataclass(frozen=True)
class HealthCard:
    """Everything the overview shows about one model."""

    model: str
    title: str
    description: str
    status: str  # green, amber, red or grey
    reason: str
    action: str
    open_alerts: int
    critical_alerts: int
    live_version: int | None
    as_of: pd.Timestamp | None
    window_label: str
    window_start: pd.Timestamp | None
    kpi_label: str
    kpi_help: str
    kpi_value: str
    kpi_delta: str | None
    kpi_delta_good: bool | None
    kpi_trend: list[float] = field(default_factory=list)
    kpi_periods: list[str] = field(default_factory=list)
    perf_label: str = ""
    perf_help: str = ""
    perf_value: str = "–"
    perf_reference: str = "–"
    perf_note: str = ""
    perf_is_estimate: bool = False
    label_coverage: float = 0.0
    predictions: int = 0

    @property
    def status_word(self) -> str:
        return STATUS_WORDS[self.status]


def _latest_window(results: pd.DataFrame) -> pd.Timestamp | None:
    windows = results["window_start"].dropna()
    return pd.Timestamp(windows.max()) if len(windows) else None


def _performance(spec: ModelSpec, results: pd.DataFrame) -> tuple[str, str, str, bool]:
    """(value, reference, note, is_estimate) of the primary metric: realised where labels arrived, else estimated."""
    metric = PRIMARY[spec.task]
    perf = results[(results["check"] == "performance") & (results["metric"] == metric) & results["value"].notna()]
    latest = _latest_window(results)
    est = results[(results["check"] == "estimated_performance") & (results["metric"] == metric)]
    real_latest = perf[perf["window_start"] == latest]
    fmt = _format_for(spec)
    if not real_latest.empty:
        row = real_latest.iloc[-1]
        return fmt(row["value"]), fmt(row["reference"]), f"measured on {int(row['n_rows']):,} outcomes", False
    est_latest = est[est["window_start"] == latest]
    if not est_latest.empty:
        row = est_latest.iloc[-1]
        details = json.loads(row["details"]) if isinstance(row.get("details"), str) else {}
        value = details.get("with_early_labels") or row["value"]
        band = details.get("band")
        note = "estimated: outcomes not in yet"
        if band is not None:
            note += f", usually within ±{band:.2f}"
        if not details.get("trusted"):
            note += " (treat with care)"
        return fmt(value), fmt(row["reference"]) if pd.notna(row["reference"]) else "–", note, True
    if not perf.empty:
        row = perf.iloc[-1]
        when = pd.Timestamp(row["window_start"]).strftime("%-d %b %Y")
        return fmt(row["value"]), fmt(row["reference"]), f"last measured for the window starting {when}", False
    return "–", "–", "no outcomes yet", False


def _format_for(spec: ModelSpec):
    """How the card writes its quality number: a regression's error in the target's unit, a score as 0.000."""
    if spec.task != "regression":
        return lambda v: f"{v:.3f}"
    if spec.business.target_unit == "money":
        return lambda v: f"{spec.business.currency}{v:,.2f}"
    return lambda v: amount(spec, v)


def _waiting(
    spec: ModelSpec,
    *,
    reason: str,
    action: str,
    open_alerts: int = 0,
    critical_alerts: int = 0,
    live_version: int | None = None,
) -> HealthCard:
    """The grey card of a model with nothing to judge yet."""
    kpi = headline(spec)
    return HealthCard(
        model=spec.name,
        title=spec.title,
        description=spec.description,
        status="grey",
        reason=reason,
        action=action,
        open_alerts=open_alerts,
        critical_alerts=critical_alerts,
        live_version=live_version,
        as_of=None,
        window_label="",
        window_start=None,
        kpi_label=kpi.label,
        kpi_help=kpi.help,
        kpi_value="–",
        kpi_delta=None,
        kpi_delta_good=None,
    )


def health_card(store: Store, spec: ModelSpec) -> HealthCard:
    """Health card of one model from its stored results, alerts and statistics."""
    live = store.live_version(spec.name)
    alerts = store.list_alerts(model=spec.name)
    active = alerts[alerts["state"].isin(["open", "acknowledged"])] if not alerts.empty else alerts
    open_only = active[active["state"] == "open"] if not active.empty else active
    critical = int((open_only["severity"] == "critical").sum()) if not open_only.empty else 0
    kpi = headline(spec)
    metric = PRIMARY[spec.task]
    if live is None:
        return _waiting(spec, reason="No live version yet.", action="Train or import a model first.")
    results = store.read_results(model=spec.name, version=live.version, with_details=True)
    latest = _latest_window(results)
    daily = store.read_daily_stats(model=spec.name, version=live.version)
    if latest is None or daily.empty:
        return _waiting(
            spec,
            reason="No monitored traffic yet.",
            action="Send predictions, then run monitoring.",
            open_alerts=len(open_only),
            critical_alerts=critical,
            live_version=live.version,
        )
    window = make_window(latest, spec.window)
    label = window.label(spec.window)
    if critical:
        status = "red"
    elif len(open_only):
        status = "amber"
    else:
        status = "green"
    ordered = (
        open_only.sort_values(["severity", "updated_at"], ascending=[True, False]) if len(open_only) else open_only
    )
    if len(ordered):
        top = ordered.iloc[0]
        reason = top["what"]
        action = top["action"]
    elif len(active):
        reason = f"{len(active)} known problem{'s' if len(active) > 1 else ''} acknowledged; nothing new."
        action = "Follow up on the acknowledged alerts."
    else:
        reason = (
            f"Every check passed for the {label}." if spec.window != "month" else f"Every check passed for {label}."
        )
        action = "Nothing to do."
    series = kpi_series(spec, daily, period="window", version=live.version)
    if len(series) > 1 and not series["complete"].iloc[-1]:
        series = series.iloc[:-1]
        latest = pd.Timestamp(series["period"].iloc[-1])  # the card and "what changed" speak of the same window
        label = make_window(latest, spec.window).label(spec.window)
    values = series[kpi.key].astype(float).tolist() if kpi.key in series else []
    value = values[-1] if values else float("nan")
    delta, good = None, None
    if len(values) >= 2 and np.isfinite(values[-2]) and np.isfinite(value) and values[-2] != 0:
        change = (value - values[-2]) / abs(values[-2])
        delta = f"{change:+.0%} vs previous {spec.window}"
        if kpi.higher_is_better is not None and abs(change) >= 0.005:
            good = (change > 0) == kpi.higher_is_better
    perf_value, perf_ref, note, is_est = _performance(spec, results)
    labels_in = daily["n_labels"].sum() / max(daily["n_rows"].sum(), 1)
    return HealthCard(
        model=spec.name,
        title=spec.title,
        description=spec.description,
        status=status,
        reason=reason,
        action=action,
        open_alerts=len(open_only),
        critical_alerts=critical,
        live_version=live.version,
        as_of=pd.Timestamp(daily["day"].max()),
        window_label=label,
        window_start=latest,
        kpi_label=kpi.label,
        kpi_help=kpi.help,
        kpi_value=format_value(kpi.unit, value, spec.business.currency),
        kpi_delta=delta,
        kpi_delta_good=good,
        kpi_trend=[float(v) for v in values[-12:]],
        kpi_periods=[pd.Timestamp(p).strftime("%Y-%m-%d") for p in series["period"].tolist()[-12:]],
        perf_label=METRICS[metric].label,
        perf_help=METRICS[metric].explain,
        perf_value=perf_value,
        perf_reference=perf_ref,
        perf_note=note,
        perf_is_estimate=is_est,
        label_coverage=float(labels_in),
        predictions=int(daily["n_rows"].sum()),
    )


def what_changed(store: Store, cards: list[HealthCard]) -> list[str]:
    """One plain line per model: what its latest window changed (problems found or cleared, the KPI move)."""
    lines = []
    for card in cards:
        if card.window_start is None:
            continue
        events = store.model_alert_events(card.model)
        latest = events[events["window_start"] == card.window_start] if not events.empty else events
        new = latest[latest["event"].isin(["opened", "reopened"])] if not latest.empty else latest
        cleared = latest[latest["event"] == "resolved"] if not latest.empty else latest
        parts = []
        if len(new):
            names = "; ".join(t.split(": ", 1)[-1] for t in new["title"].head(2))
            parts.append(f"{len(new)} new problem{'s' if len(new) > 1 else ''} ({names})")
        if len(cleared):
            parts.append(f"{len(cleared)} cleared")
        if card.kpi_delta:
            parts.append(f"{card.kpi_label.lower()} {card.kpi_value}, {card.kpi_delta}")
        lines.append(f"**{card.title}**, {card.window_label}: " + (", ".join(parts) if parts else "no change") + ".")
    return lines


def overview(store: Store) -> tuple[list[HealthCard], list[str]]:
    """Every model's card and the "what changed" lines above them."""
    cards = [health_card(store, spec) for spec in store.list_specs()]
    return cards, what_changed(store, cards)


def fleet_verdict(cards: list[HealthCard]) -> tuple[str, str]:
    """The overview's one line on every model shown, and its tone (`error`, `warning`, `info` or `success`).
    One model is named, not counted ("All 1 models are healthy"), and a model with no data yet is not healthy."""
    red = [c.title for c in cards if c.status == "red"]
    amber = [c.title for c in cards if c.status == "amber"]
    grey = [c.title for c in cards if c.status == "grey"]
    n = len(cards)
    if n == 1:
        title = cards[0].title
        if red or amber:
            return ("error", f"**{title} needs action now.**") if red else ("warning", f"**{title} is worth a look.**")
        return ("info", f"{title} has no checked data yet.") if grey else ("success", f"{title} is healthy.")
    if red:
        return "error", f"**{len(red)} of {n} models need action now:** " + ", ".join(red) + "."
    if amber:
        return "warning", f"**{len(amber)} of {n} models are worth a look:** " + ", ".join(amber) + "."
    if grey:
        healthy = n - len(grey)
        return "info", f"{healthy} of {n} models are healthy; no checked data yet for " + ", ".join(grey) + "."
    return "success", f"All {n} models are healthy."
