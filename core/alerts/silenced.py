"""What feedback kept quiet: evaluating a model's alerts with its adapted lines, and recording every window in
which the default line would have fired but the adapted one did not, with what that alert would have said.

The default rules are replayed over the same stored results without saving anything, only for the rules
whose line feedback moved, so a model without feedback costs one extra query per evaluation.
"""

from __future__ import annotations

import pandas as pd

from core.alerts.evaluate import AlertChanges
from core.alerts.evaluate import Replay
from core.alerts.evaluate import evaluate_alerts
from core.alerts.feedback import POLICY
from core.alerts.feedback import FeedbackPolicy
from core.alerts.feedback import adapted_rules
from core.alerts.rule import AlertRule
from core.alerts.rule import default_rules
from core.monitoring.thresholds import Thresholds
from core.schema import ModelSpec
from core.store import SilencedAlert
from core.store import Store


def evaluate_with_feedback(
    *,
    store: Store,
    spec: ModelSpec,
    version: int,
    thresholds: Thresholds | None = None,
    policy: FeedbackPolicy = POLICY,
) -> AlertChanges:
    """Bring `spec`'s alerts up to date with the lines feedback adapted, and record what those lines kept quiet
    (in the caller's transaction, so alerts and the record of their silence are saved together)."""
    adapted = adapted_rules(store=store, spec=spec, thresholds=thresholds, policy=policy)
    changes = evaluate_alerts(store=store, spec=spec, version=version, rules=adapted)
    quiet = kept_quiet(
        store=store, spec=spec, version=version, defaults=default_rules(spec, thresholds), adapted=adapted
    )
    store.replace_silenced(model=spec.name, silenced=quiet)
    return changes


def kept_quiet(
    *, store: Store, spec: ModelSpec, version: int, defaults: list[AlertRule], adapted: list[AlertRule]
) -> list[SilencedAlert]:
    """Every window where a default rule fires but its adapted twin is not firing, with the default's words."""
    moved = [(d, a) for d, a in zip(defaults, adapted, strict=True) if d.threshold != a.threshold]
    if not moved:
        return []
    replay = Replay.read(store=store, spec=spec, version=version)
    out: list[SilencedAlert] = []
    for default, used in moved:
        usual, now = replay.verdicts(default), replay.verdicts(used)
        quiet = [ts for ts, fires in usual.verdicts if fires]
        firing = _firing_after(now.verdicts)
        for ts in quiet:
            if firing.get(ts):
                continue
            row = _row_at(usual.rows, ts)
            text = default.words(replay.firing(default, row, ts, version_level=usual.version_level))
            out.append(
                SilencedAlert(
                    model=spec.name,
                    rule=default.key,
                    subject=usual.subject,
                    window_start=ts.to_pydatetime(),
                    measure=default.measure_of(row),
                    default_threshold=default.threshold,
                    used_threshold=used.threshold,
                    title=text.title,
                    what=text.what,
                )
            )
    return out


def _firing_after(verdicts: list[tuple[pd.Timestamp, bool | None]]) -> dict[pd.Timestamp, bool]:
    """Whether the rule is firing after each window: a window that says nothing (inside the hysteresis band,
    or skipped) keeps the state it found."""
    state, out = False, {}
    for ts, fires in verdicts:
        if fires is not None:
            state = fires
        out[ts] = state
    return out


def _row_at(rows: pd.DataFrame, ts: pd.Timestamp) -> pd.Series:
    """The rule's row of the window starting `ts` (the version's own row for a check of the version)."""
    if ts == pd.Timestamp(0) and rows["window_start"].isna().any():
        return rows[rows["window_start"].isna()].iloc[0]
    return rows[rows["window_start"] == ts].iloc[0]
