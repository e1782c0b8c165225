"""Alert state over time: replaying a live version's stored results in window order.

Consecutive windows with the same problem make one alert (an episode), a clean window resolves it,
and a return reopens it; a person's acknowledgement holds while the problem lasts. Every change is
appended to the alert's history. What each rule reads and says is in `rules.py`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.alerts.rule import AlertRule
from core.alerts.rule import Firing
from core.alerts.rule import default_rules
from core.alerts.rule import row_details
from core.metrics import PRIMARY
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.results import Check
from core.schema import ModelSpec
from core.store import AlertEvent
from core.store import AlertRow
from core.store import Store
from core.store import VersionImportance
from core.store.mappers import ALERT_COLUMNS

SYSTEM = "modelpulse"


def alert_id(model: str, rule: str, subject: str) -> str:
    """Stable id for one (model, rule, subject), so links to an alert survive reruns."""
    return f"{model}-{rule}-" + hashlib.sha1(f"{model}|{rule}|{subject}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class AlertChanges:
    """What one evaluation changed: counts by event, and the alert rows and events it saved."""

    counts: dict[str, int]
    alerts: list[AlertRow]
    events: list[AlertEvent]


@dataclass
class Episode:
    """A run of windows in which a rule kept firing."""

    start: pd.Timestamp
    last: pd.Timestamp
    windows: int
    cleared_at: pd.Timestamp | None = None


def episodes(verdicts: list[tuple[pd.Timestamp, bool | None]]) -> list[Episode]:
    """Group window verdicts (True fires, False clears, None says nothing) into episodes."""
    out: list[Episode] = []
    current: Episode | None = None
    for ts, fires in verdicts:
        if fires is None:
            continue
        if fires:
            if current is None:
                current = Episode(start=ts, last=ts, windows=1)
                out.append(current)
            else:
                current.last = ts
                current.windows += 1
        elif current is not None:
            current.cleared_at = ts
            current = None
    return out


def evaluate_alerts(
    *,
    store: Store,
    spec: ModelSpec,
    version: int,
    thresholds: Thresholds | None = None,
    rules: list[AlertRule] | None = None,
) -> AlertChanges:
    """Bring alerts of `spec` up to date with the stored results of its live `version`."""
    rules = rules or default_rules(spec, thresholds)
    replay = Replay.read(store=store, spec=spec, version=version)
    existing = {r["id"]: r for r in store.list_alerts(model=spec.name).to_dict("records")}
    upserts: list[AlertRow] = []
    events: list[AlertEvent] = []
    counts = {"open": 0, "opened": 0, "resolved": 0, "reopened": 0}
    for rule in rules:
        seen = replay.verdicts(rule)
        subject, version_level, latest_fire = seen.subject, seen.version_level, seen.latest_fire
        aid = alert_id(spec.name, rule.key, subject)
        old = existing.get(aid)
        eps = episodes(seen.verdicts)
        if not eps:
            if old is not None and old["state"] != "resolved":
                upserts.append(_without_evidence(old))
                last = None if pd.isna(old["last_window"]) else pd.Timestamp(old["last_window"]).to_pydatetime()
                comment = "the windows it was raised for no longer show it"
                events.append(_event(aid, spec.name, "resolved", comment, window=last))
                counts["resolved"] += 1
            continue
        evidence_back = old is not None and old["state"] == "resolved" and old["windows"] == 0
        if evidence_back:  # resolved when its windows lost their data: the data, and the problem, are back
            start = eps[-1].start.to_pydatetime()
            events.append(_event(aid, spec.name, "reopened", "the problem is back", window=start))
            counts["reopened"] += 1
        new_events = _transitions(aid, spec.name, eps, store.alert_events(aid) if old else pd.DataFrame())
        events += new_events
        for ev in new_events:
            counts[ev.event] = counts.get(ev.event, 0) + 1
        current = eps[-1]
        state = "open" if evidence_back and current.cleared_at is None else _state(old, current)
        if _fires_after_hand_resolution(old, current):
            state = "open"
            events.append(
                _event(
                    aid,
                    spec.name,
                    "reopened",
                    "still happening after it was marked resolved",
                    window=current.last.to_pydatetime(),
                )
            )
            counts["reopened"] += 1
            new_events.append(events[-1])
        if latest_fire is None:
            continue
        measure = rule.measure_of(latest_fire)
        text = rule.words(replay.firing(rule, latest_fire, current.last, version_level=version_level))
        now = datetime.now()
        upserts.append(
            AlertRow(
                id=aid,
                model=spec.name,
                version=int(version),
                rule=rule.key,
                subject=subject,
                severity=rule.severity,
                state=state,
                title=text.title,
                what=text.what,
                cost=text.cost,
                action=text.action,
                cost_value=text.cost_value,
                value=measure,
                threshold=rule.threshold,
                first_window=None if version_level else current.start.to_pydatetime(),
                last_window=None if version_level else current.last.to_pydatetime(),
                windows=current.windows,
                opened_at=old["opened_at"] if old is not None else now,
                updated_at=now if (old is None or new_events or old["state"] != state) else old["updated_at"],
                resolved_at=_resolved_at(state, old, current),
            )
        )
        if state in ("open", "acknowledged"):
            counts["open"] += 1
    store.save_alerts(upserts=upserts, events=events)
    return AlertChanges(counts=counts, alerts=upserts, events=events)


@dataclass(frozen=True)
class RuleReplay:
    """One rule over a version's windows: the rows it reads (one per window), its verdicts and latest firing row."""

    subject: str
    rows: pd.DataFrame
    version_level: bool
    """True when the rule reads version checks (no windows)."""
    verdicts: list[tuple[pd.Timestamp, bool | None]]
    latest_fire: pd.Series | None


@dataclass(frozen=True)
class Replay:
    """What evaluating a live version reads once: its stored results and window statistics, the windows with
    enough rows, and those whose quality was measured on outcomes. Reading it saves nothing."""

    spec: ModelSpec
    results: pd.DataFrame
    stats_by_window: dict[pd.Timestamp, dict]
    enough: set[pd.Timestamp]
    measured: set[pd.Timestamp]
    importance: VersionImportance | None = None
    """Which inputs drive the version's answers (what drift and quality alerts name); None if never measured."""

    @classmethod
    def read(cls, *, store: Store, spec: ModelSpec, version: int) -> Replay:
        """The stored results (`full` and `version` scope) and window statistics of `spec`'s `version`."""
        results = store.read_results(model=spec.name, version=version, with_details=True)
        results = results[results["scope"].isin(["full", "version"])]
        stats = store.read_window_stats(model=spec.name, version=version)
        volume = results[(results["check"] == str(Check.VOLUME)) & (results["status"] == "ok")]
        return cls(
            spec=spec,
            results=results,
            stats_by_window={pd.Timestamp(r.window_start): r.stats for r in stats.itertuples()},
            enough={pd.Timestamp(w) for w in volume["window_start"]},
            measured=_measured_windows(results, spec),
            importance=store.read_importance(model=spec.name, version=version),
        )

    def verdicts(self, rule: AlertRule) -> RuleReplay:
        """What `rule` says about each window (a window with too few rows, or whose quality was measured
        when the rule is about estimated quality, says nothing)."""
        rows = self.results[self.results["check"] == str(rule.check)]
        metric = rule.metric_of(self.spec)
        if metric is not None:
            rows = rows[rows["metric"] == metric]
        subject = str(metric or rule.check)
        if rows.empty:
            return RuleReplay(subject=subject, rows=rows, version_level=False, verdicts=[], latest_fire=None)
        if rule.per_column:
            rows = _worst_per_window(rule, rows)
        version_level = bool(rows["window_start"].isna().all())
        skip = set() if version_level else {ts for ts in _window_starts(rows) if ts not in self.enough}
        if rule.yields_to_outcomes:
            skip |= self.measured
        verdicts, latest_fire = _verdicts(rule, rows, skip=skip)
        return RuleReplay(
            subject=subject, rows=rows, version_level=version_level, verdicts=verdicts, latest_fire=latest_fire
        )

    def firing(self, rule: AlertRule, row: pd.Series, ts: pd.Timestamp, *, version_level: bool) -> Firing:
        """`rule` firing on `row` of the window starting `ts`: what its words read."""
        when = _when(self.spec, ts, version_level=version_level)
        window = self.results[self.results["window_start"] == ts] if not version_level else None
        stats = self.stats_by_window.get(ts, {})
        return Firing(self.spec, row, stats, when, rule.measure_of(row), window, importance=self.importance)


def _event(aid: str, model: str, event: str, comment: str, *, window: datetime | None = None) -> AlertEvent:
    return AlertEvent(alert_id=aid, model=model, event=event, actor=SYSTEM, comment=comment, window_start=window)


def _without_evidence(old: dict) -> AlertRow:
    """An alert whose windows no longer show the problem (their data was taken back or recomputed): resolved."""
    now = datetime.now()
    values = {
        k: (None if pd.isna(old[k]) else old[k]) if not isinstance(old[k], str) else old[k] for k in ALERT_COLUMNS
    }
    values |= {"state": "resolved", "updated_at": now, "resolved_at": now}
    return AlertRow(**{**values, "first_window": None, "last_window": None, "windows": 0})


def _window_starts(rows: pd.DataFrame) -> set[pd.Timestamp]:
    return {pd.Timestamp(0) if pd.isna(w) else pd.Timestamp(w) for w in rows["window_start"]}


def _verdicts(
    rule: AlertRule, rows: pd.DataFrame, *, skip: set[pd.Timestamp]
) -> tuple[list[tuple[pd.Timestamp, bool | None]], pd.Series | None]:
    """Per window in order: True (fires), False (clears) or None (says nothing); and the latest firing row.

    A window in `skip`, without a measure, or with fewer rows than the rule needs says nothing; inside
    the hysteresis band a firing rule keeps firing.
    """
    verdicts: list[tuple[pd.Timestamp, bool | None]] = []
    latest_fire: pd.Series | None = None
    firing = False
    for _, row in rows.sort_values("window_start", na_position="first").iterrows():
        ts = pd.Timestamp(row["window_start"]) if not pd.isna(row["window_start"]) else pd.Timestamp(0)
        m = rule.measure_of(row)
        if ts in skip or m is None or (rule.min_rows and int(row["n_rows"] or 0) < rule.min_rows):
            verdicts.append((ts, None))
            continue
        if rule.fires(m):
            fires: bool | None = True
        elif firing and not rule.clears(m):
            fires = None
        else:
            fires = False
        verdicts.append((ts, fires))
        if fires is not None:
            firing = fires
        if fires:
            latest_fire = row
    return verdicts, latest_fire


def _state(old: dict | None, current: Episode) -> str:
    """Resolved when the latest episode cleared; a person's acknowledgement or resolution holds while the
    problem that they saw lasts; otherwise open."""
    if current.cleared_at is not None:
        return "resolved"
    if old is not None and old["state"] in ("acknowledged", "resolved") and not _reopened_since(old, current):
        return old["state"]
    return "open"


def _fires_after_hand_resolution(old: dict | None, current: Episode) -> bool:
    """True when a person marked the alert resolved, yet in the same episode a window newer than any they
    saw still fires (a new episode reopens the alert through its own history)."""
    if old is None or old["state"] != "resolved" or current.cleared_at is not None or _reopened_since(old, current):
        return False
    seen = old.get("last_window")
    return seen is not None and not pd.isna(seen) and current.last > pd.Timestamp(seen)


def _resolved_at(state: str, old: dict | None, current: Episode) -> datetime | None:
    """When the alert was resolved: the clean window that cleared it, or the moment a person resolved it."""
    if state != "resolved":
        return None
    if current.cleared_at is not None:
        return current.cleared_at.to_pydatetime()
    return (
        pd.Timestamp(old["resolved_at"]).to_pydatetime() if old is not None and pd.notna(old["resolved_at"]) else None
    )


def _when(spec: ModelSpec, ts: pd.Timestamp, *, version_level: bool) -> str:
    """`in the week of 5 Jun 2017`, `in Jun 2017` or `at training time`."""
    if version_level:
        return "at training time"
    label = make_window(ts, spec.window).label(spec.window)
    return f"in {label}" if spec.window == "month" else f"in the {label}"


def _worst_per_window(rule: AlertRule, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per window: the column with the largest measure, its details listing every firing column."""
    rows = rows.assign(_measure=[rule.measure_of(r) for _, r in rows.iterrows()])
    rows = rows[rows["_measure"].notna()]
    out = []
    for _, group in rows.groupby("window_start", dropna=False):
        worst = group.sort_values("_measure", ascending=False).iloc[0].copy()
        firing = group[[rule.fires(m) for m in group["_measure"]]].sort_values("_measure", ascending=False)
        details = row_details(worst)
        details["columns"] = [str(c) for c in firing["column"]]
        details["values"] = [float(v) for v in firing["value"]]
        worst["details"] = json.dumps(details)
        out.append(worst)
    return pd.DataFrame(out).drop(columns="_measure") if out else rows.drop(columns="_measure")


def _measured_windows(results: pd.DataFrame, spec: ModelSpec) -> set[pd.Timestamp]:
    """Windows whose quality was measured on arrived outcomes (an estimate then has nothing to add)."""
    perf = results[(results["check"] == str(Check.PERFORMANCE)) & (results["metric"] == PRIMARY[spec.task])]
    out = set()
    for ts, group in perf.groupby("window_start"):
        if (group["status"] != "no_labels").any() and group["value"].notna().any():
            out.add(pd.Timestamp(ts))
    return out


def _reopened_since(old: dict, current: Episode) -> bool:
    """True when the problem kept going after a person acknowledged or resolved it in an earlier episode."""
    first = old.get("first_window")
    return first is not None and not pd.isna(first) and pd.Timestamp(first) != current.start


def _transitions(aid: str, model: str, eps: list[Episode], stored: pd.DataFrame) -> list[AlertEvent]:
    """System events implied by the episodes that are not in the alert's history yet."""
    have = set()
    if not stored.empty:
        sys_rows = stored[stored["actor"] == SYSTEM]
        have = {
            (r.event, pd.Timestamp(r.window_start) if not pd.isna(r.window_start) else None)
            for r in sys_rows.itertuples()
        }
    # an alert opened once, whose first episode was later recomputed away, reopens rather than opens again
    first_start = eps[0].start if eps[0].start != pd.Timestamp(0) else None
    opened_before = any(event == "opened" for event, _ in have) and ("opened", first_start) not in have
    wanted = []
    for i, ep in enumerate(eps):
        wanted.append(("opened" if i == 0 and not opened_before else "reopened", ep.start))
        if ep.cleared_at is not None:
            wanted.append(("resolved", ep.cleared_at))
    out = []
    for event, ts in wanted:
        key_ts = ts if ts != pd.Timestamp(0) else None
        if (event, key_ts) in have:
            continue
        out.append(
            AlertEvent(
                alert_id=aid,
                model=model,
                event=event,
                actor=SYSTEM,
                window_start=key_ts.to_pydatetime() if key_ts is not None else None,
                comment="problem found" if event != "resolved" else "back within limits",
            )
        )
    return out
