"""The feedback loop: people say an alert was useful or not, and a warning rule's line for that model adapts.

Bounds (:class:`FeedbackPolicy`): each "not useful" moves the rule's line a quarter of its default towards
quieter, each "useful" a quarter back; the line never goes past twice its default and never below the
default itself, so feedback can only quieten a rule, within a factor of two, and "useful" undoes that. Only
warning rules adapt: a critical rule (quality measured on outcomes fell, an input went missing) keeps its
line whatever anyone says, so a critical quality drop always fires.

Every move is a row in `rule_adjustments` (from, to, why, who, when) and can be undone; the windows an
adapted line kept quiet are recorded by :mod:`core.alerts.silenced`. A new line takes effect when the
model's alerts are next evaluated (the next refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace

import pandas as pd

from core.alerts.rule import AlertRule
from core.alerts.rule import default_rules
from core.errors import NotFoundError
from core.errors import StoreError
from core.monitoring.thresholds import Thresholds
from core.schema import ModelSpec
from core.store import Store


@dataclass(frozen=True, kw_only=True)
class FeedbackPolicy:
    """How far feedback may move a rule's line for one model."""

    step: float = 0.25
    """Each vote moves the line by this share of the default line ("not useful" quieter, "useful" back)."""
    ceiling: float = 2.0
    """The quietest a line may get: this many times the default line (divided, for a rule that fires low)."""
    adapts: tuple[str, ...] = ("warning",)
    """Severities whose lines adapt. Critical rules never do, so a critical drop always fires."""

    def adapts_rule(self, rule: AlertRule) -> bool:
        """True when feedback may move `rule`'s line."""
        return rule.severity in self.adapts

    def bounds(self, *, rule: AlertRule, default: float) -> tuple[float, float]:
        """(lowest, highest) line allowed: from the default to `ceiling` times quieter."""
        if _fires_high(rule):
            return default, default * self.ceiling
        return default / self.ceiling, default

    def within(self, *, rule: AlertRule, default: float, line: float) -> float:
        """`line` held inside the bounds (the default for a rule that does not adapt)."""
        if not self.adapts_rule(rule):
            return default
        low, high = self.bounds(rule=rule, default=default)
        # rounded so that four steps of 0.075 land on 0.6, not 0.6000000000000001 past the ceiling
        return round(min(high, max(low, line)), 12)

    def next_line(self, *, rule: AlertRule, default: float, current: float, useful: bool) -> float:
        """The line after one more vote: a step quieter for "not useful", a step back for "useful"."""
        quieter = 1.0 if _fires_high(rule) else -1.0
        move = self.step * abs(default) * quieter * (-1.0 if useful else 1.0)
        return self.within(rule=rule, default=default, line=current + move)

    def words(self) -> str:
        """The bounds in one sentence, for the page."""
        return (
            f'Each "not useful" makes a warning rule quieter for that model by {self.step:.0%} of its usual line, '
            f'each "useful" by as much back; never more than {self.ceiling:g} times the usual line, never stricter '
            "than it. Critical alerts never get quieter, so a critical drop always fires."
        )


POLICY = FeedbackPolicy()


@dataclass(frozen=True)
class FeedbackOutcome:
    """What one piece of feedback did: the rule's line before and after, and the adjustment it recorded."""

    alert_id: str
    rule: str
    useful: bool
    old_line: float | None
    new_line: float | None
    adjustment_id: str | None
    """None when the line did not move (a critical rule, or a bound already reached)."""


def _fires_high(rule: AlertRule) -> bool:
    return rule.comparison in (">=", ">")


def active_lines(store: Store, *, model: str) -> dict[str, float]:
    """The line each rule of `model` has after feedback (the latest adjustment not undone), by rule key."""
    adjustments = store.rule_adjustments(model=model, active=True)
    return {str(r.rule): float(r.new_threshold) for r in adjustments.itertuples()}  # oldest first: latest wins


def adapted_rules(
    *, store: Store, spec: ModelSpec, thresholds: Thresholds | None = None, policy: FeedbackPolicy = POLICY
) -> list[AlertRule]:
    """`spec`'s rules with the lines feedback moved, held inside `policy`'s bounds (critical rules unchanged)."""
    lines = active_lines(store, model=spec.name)
    return [
        replace(r, threshold=policy.within(rule=r, default=r.threshold, line=lines[r.key])) if r.key in lines else r
        for r in default_rules(spec, thresholds)
    ]


def give_feedback(
    store: Store,
    *,
    alert_id: str,
    useful: bool,
    actor: str,
    reason: str | None = None,
    thresholds: Thresholds | None = None,
    policy: FeedbackPolicy = POLICY,
) -> FeedbackOutcome:
    """Record that `actor` found an alert useful or not and move its rule's line for the model within `policy`'s
    bounds, recording the move; one vote per person per alert and window. Both are saved in one transaction."""
    alert = store.get_alert(alert_id)
    window = None if pd.isna(alert["last_window"]) else pd.Timestamp(alert["last_window"]).to_pydatetime()
    given = store.alert_feedback(alert_id=alert_id)
    same_window = given["window_start"].isna() if window is None else given["window_start"] == pd.Timestamp(window)
    if (same_window & (given["actor"] == actor.strip())).any():
        raise StoreError(f"{actor.strip()} already gave feedback on this alert for its latest window.")
    model, key = str(alert["model"]), str(alert["rule"])
    rule = {r.key: r for r in default_rules(store.get_spec(model), thresholds)}.get(key)
    old = new = None
    if rule is not None:
        old = policy.within(
            rule=rule, default=rule.threshold, line=active_lines(store, model=model).get(key, rule.threshold)
        )
        new = policy.next_line(rule=rule, default=rule.threshold, current=old, useful=useful)
    text = (reason or "").strip()
    with store.transaction():
        store.record_feedback(
            alert_id=alert_id, model=model, rule=key, useful=useful, actor=actor, reason=text, window_start=window
        )
        adjustment = None
        if old is not None and new is not None and new != old:
            why = f'"{"useful" if useful else "not useful"}" from {actor.strip()}' + (f": {text}" if text else "")
            adjustment = store.save_adjustment(
                model=model, rule=key, old_threshold=old, new_threshold=new, reason=why, actor=actor.strip()
            )
    return FeedbackOutcome(
        alert_id=alert_id, rule=key, useful=useful, old_line=old, new_line=new, adjustment_id=adjustment
    )


def revert_adjustment(store: Store, *, adjustment_id: str, actor: str) -> list[str]:
    """Undo one adjustment and every later one of the same rule and model, so the line is back where it was
    before it; returns the ids undone. Back at the default line, the windows it kept quiet are forgotten
    (they fire again at the next evaluation)."""
    every = store.rule_adjustments()
    target = every[every["id"] == adjustment_id]
    if target.empty:
        raise NotFoundError(f"There is no change to a rule's line with id {adjustment_id}.")
    row = target.iloc[0]
    if pd.notna(row["reverted_at"]):
        raise StoreError(f"That change was already undone by {row['reverted_by']}.")
    active = store.rule_adjustments(model=row["model"], rule=row["rule"], active=True)
    later = active[active["made_at"] >= row["made_at"]]
    ids = [str(i) for i in later["id"]]
    with store.transaction():
        store.revert_adjustments(ids=ids, actor=actor)
        if len(later) == len(active):  # nothing earlier is left: the rule is back at its default line
            store.replace_silenced(model=row["model"], rule=row["rule"], silenced=[])
    return ids
