"""Alert rules, their state over time, and the plain-English text a founder reads.

A rule is an object: which stored result it reads (check and metric), how it compares
(measure, comparison, threshold), how bad it is (severity) and how many rows a window needs before
the rule may speak (minimum rows). Evaluation replays the live version's stored results in window
order, so consecutive windows with the same problem make one alert, a clean window resolves it,
and a return reopens it. Every change is appended to the alert's history.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.metrics import METRICS
from core.metrics import PRIMARY
from core.monitoring.result import Check
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.schema import ModelSpec
from core.store import Store

SYSTEM = "modelpulse"
COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class AlertRule:
    """When a stored result should raise an alert."""

    key: str
    check: Check
    metric: str | None
    measure: str  # "value", "loss" (relative loss against the reference) or "increase" (value - reference)
    comparison: str
    threshold: float
    severity: str  # "critical" or "warning"
    min_rows: int = 0
    per_column: bool = False
    """Read every column's result and fire on the worst one (one alert per model, naming the columns)."""
    clear_ratio: float = 0.8
    """Hysteresis: once firing, the alert clears only when the measure is back past threshold x this ratio,
    so a number hovering at the line does not open and resolve an alert every window."""

    def measure_of(self, row: pd.Series) -> float | None:
        """The number this rule compares, from one stored result row."""
        value, ref = row["value"], row["reference"]
        if value is None or pd.isna(value):
            return None
        if self.measure == "value":
            return float(value)
        if ref is None or pd.isna(ref):
            return None
        if self.measure == "increase":
            return float(value) - float(ref)
        info = METRICS.get(row["metric"])
        if info is None or ref == 0:
            return None
        return (ref - value) / abs(ref) if info.higher_is_better else (value - ref) / abs(ref)

    def fires(self, measure: float) -> bool:
        return COMPARE[self.comparison](measure, self.threshold)

    def clears(self, measure: float) -> bool:
        """True when `measure` is clearly back within limits (see `clear_ratio`)."""
        line = (
            self.threshold * self.clear_ratio if self.comparison in (">=", ">") else self.threshold / self.clear_ratio
        )
        return not COMPARE[self.comparison](measure, line)


def default_rules(spec: ModelSpec, thresholds: Thresholds | None = None) -> list[AlertRule]:
    """The rules every model gets; thresholds come from the model's Thresholds object."""
    th = thresholds or Thresholds()
    primary = PRIMARY[spec.task]
    rules = [
        AlertRule(
            "performance",
            Check.PERFORMANCE,
            primary,
            "loss",
            ">=",
            th.performance_drop.alert,
            "critical",
            min_rows=th.min_labels,
        ),
        AlertRule(
            "drift",
            Check.DRIFT_SHARE,
            "drift_share",
            "value",
            ">=",
            th.drift_share.warn,
            "warning",
            min_rows=spec.min_rows,
        ),
        AlertRule(
            "prediction_drift",
            Check.PREDICTION_DRIFT,
            None,
            "value",
            ">=",
            th.prediction_drift.warn,
            "warning",
            min_rows=spec.min_rows,
        ),
        AlertRule(
            "target_drift",
            Check.TARGET_DRIFT,
            None,
            "value",
            ">=",
            th.target_drift.warn,
            "warning",
            min_rows=th.min_labels,
        ),
        AlertRule("missing_columns", Check.QUALITY, "missing_columns", "value", ">=", 1, "critical"),
        AlertRule(
            "missing_values",
            Check.QUALITY,
            "missing_share",
            "increase",
            ">=",
            th.missing_increase.warn,
            "warning",
            min_rows=spec.min_rows,
            per_column=True,
        ),
        AlertRule(
            "new_categories",
            Check.QUALITY,
            "unseen_share",
            "value",
            ">=",
            th.unseen_share.warn,
            "warning",
            min_rows=spec.min_rows,
            per_column=True,
        ),
        AlertRule(
            "out_of_range",
            Check.QUALITY,
            "out_of_range_share",
            "value",
            ">=",
            th.out_of_range_share.warn,
            "warning",
            min_rows=spec.min_rows,
            per_column=True,
        ),
        AlertRule("overfitting", Check.OVERFITTING, "train_validation", "value", ">=", th.overfit_gap.warn, "warning"),
    ]
    if spec.task == "binary":
        rules.append(
            AlertRule(
                "estimated_performance",
                Check.ESTIMATED_PERFORMANCE,
                "roc_auc",
                "loss",
                ">=",
                th.performance_drop.alert,
                "warning",
                min_rows=spec.min_rows,
            )
        )
    return rules


# ---------------------------------------------------------------------------- plain English
def human(column: str) -> str:
    """`monthly_charges` -> `monthly charges`."""
    return column.replace("_", " ").strip()


def money(spec: ModelSpec, amount: float) -> str:
    """`$4,200`: rounded to two significant figures, because false precision reads as noise."""
    amount = abs(float(amount))
    if amount >= 100:
        digits = int(math.floor(math.log10(amount)))
        amount = round(amount, -(digits - 1))
    return f"{spec.business.currency}{amount:,.0f}"


def plural(n: float, word: str) -> str:
    n = int(round(n))
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class AlertText:
    """A short title and three sentences: what happened, what it costs, what to do."""

    title: str
    what: str
    cost: str
    action: str
    cost_value: float | None


def _cost_exposure(spec: ModelSpec, stats: dict, when: str) -> tuple[str, float | None]:
    """What the rows of a window are worth, for alerts about inputs (drift, quality)."""
    b = spec.business
    n = stats.get("n", 0)
    rows = plural(n, b.entity)
    if spec.task == "binary" and b.kind == "revenue_at_risk":
        value = stats.get("expected_value_at_risk", 0.0)
        return (
            f"The {rows} scored {when} could take about {money(spec, value)} of {b.unit} with them if they leave, "
            "and the model now judges them less surely."
        ), value
    if spec.task == "binary" and b.kind == "cost_per_event":
        value = stats.get("expected_value_at_risk", 0.0)
        return (
            f"The model expects about {int(round(stats.get('prob_sum', 0))):,} {b.positive} among the {rows} "
            f"{when}, or {money(spec, value)} at {money(spec, b.value_per_positive)} each. Those calls are now "
            "less sure."
        ), value
    if spec.task == "regression" and b.kind == "pricing_error":
        value = stats.get("sum_pred_money", 0.0)
        return (
            f"The model priced {rows} {when}, worth about {money(spec, value)}, without having seen cases like these."
        ), value
    return f"The model made {plural(n, 'call')} {when} that may now be less right.", None


def _cost_performance(spec: ModelSpec, stats: dict, when: str, ref_value: float | None) -> tuple[str, float | None]:
    b = spec.business
    if spec.task == "binary" and b.kind == "revenue_at_risk":
        lost = stats.get("value_fn", 0.0)
        n = stats.get("fn", 0)
        return (
            f"About {money(spec, lost)} of {b.unit} left with {plural(n, b.entity)} who left {when} "
            "without being flagged."
        ), lost
    if spec.task == "binary" and b.kind == "cost_per_event":
        n = stats.get("fn", 0)
        lost = n * b.value_per_positive
        return (
            f"It missed {plural(n, 'late flight') if b.entity == 'flight' else plural(n, 'case')} {when}, "
            f"about {money(spec, lost)} at {money(spec, b.value_per_positive)} each."
        ), lost
    if spec.task == "regression" and b.kind == "pricing_error":
        err = stats.get("money_error", 0.0)
        qty = stats.get("qty_labelled", 0.0) or 1.0
        extra = err - (ref_value or 0.0) * qty if ref_value else None
        text = f"Prices were off by about {money(spec, err)} in total {when}, or {money(spec, err / qty)} a night."
        if extra and extra > 0:
            text = (
                f"Prices were off by about {money(spec, err)} {when}. That is {money(spec, extra)} more "
                "than the model's usual miss."
            )
        return text, err
    n = stats.get("n_labelled", 0)
    return f"It got more of the {plural(n, 'case')} {when} wrong than it used to.", None


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def alert_text(spec: ModelSpec, rule: AlertRule, row: pd.Series, stats: dict, when: str) -> AlertText:
    """Write the alert for `rule` firing on stored result `row` of the window described by `when`."""
    b = spec.business
    name = spec.title
    details = json.loads(row["details"]) if isinstance(row.get("details"), str) else {}
    value, ref = row["value"], row["reference"]
    col = human(str(row["column"])) if isinstance(row["column"], str) else ""
    if rule.key == "performance":
        metric = METRICS[row["metric"]]
        loss = rule.measure_of(row) or 0.0
        if row["metric"] == "roc_auc":
            what = (
                f"The model got worse at telling {b.positive} from the rest {when}: its score fell from "
                f"{ref:.2f} to {value:.2f}, where 1 is perfect and 0.5 is a coin toss."
            )
        elif spec.task == "regression":
            what = (
                f"The {b.target_noun} model missed by {money(spec, value)} on a typical {b.entity} {when}, "
                f"against {money(spec, ref)} when it was tested. That is {_pct(loss)} worse."
            )
        else:
            what = f"The model's {metric.label.lower()} fell from {ref:.2f} to {value:.2f} {when}, {_pct(loss)} worse."
        cost, cost_value = _cost_performance(spec, stats, when, ref if spec.task == "regression" else None)
        title = f"{name}: the model is less accurate"
        action = "Retrain it on recent data, then compare the new version with the live one before you switch."
    elif rule.key == "estimated_performance":
        what = (
            f"Outcomes for {when} are not in yet, but the model's own confidence says its skill may have "
            f"dropped by {_pct(rule.measure_of(row) or 0)}."
        )
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: quality may be slipping"
        action = "Watch the first outcomes as they come in. If they confirm the drop, retrain the model."
    elif rule.key == "drift":
        top = [human(c) for c in details.get("drifted", [])[:3]]
        what = (
            (
                f"{_pct(value)} of the inputs {when} look different from the data the model learned from, "
                f"most of all {', '.join(top)}."
            )
            if top
            else f"{_pct(value)} of the inputs look different {when}."
        )
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: incoming data has changed"
        action = "Ask the team what changed in who is coming in. If it will last, retrain on recent data."
    elif rule.key == "prediction_drift":
        what = (
            f"The model's answers {when} are spread differently than in testing, so it sees the world differently now."
        )
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: the model's answers have shifted"
        action = "Check that the model still gets the same inputs as before, then spot-check some of its answers."
    elif rule.key == "target_drift":
        if spec.task == "binary":
            before, now = details.get("reference_rate") or 0, details.get("current_rate") or 0
            what = f"{b.positive.capitalize()} made up {_pct(now)} of outcomes {when}, against {_pct(before)} before."
        elif spec.task == "regression":
            before, now = details.get("reference_mean") or 0, details.get("current_mean") or 0
            what = (
                f"The average {b.target_noun} was {money(spec, now)} {when}, against {money(spec, before)} "
                "in the data the model learned from."
            )
        else:
            what = f"The mix of outcomes {when} is different from the data the model learned from."
        cost, cost_value = _cost_performance(spec, stats, when, None)
        title = f"{name}: the outcomes themselves have moved"
        action = "Ask the team if the business changed. If the new level is here to stay, retrain on recent data."
    elif rule.key == "missing_columns":
        cols = ", ".join(human(c) for c in details.get("columns", []))
        what = f"No values at all came in for {cols} {when}. The column may have been dropped or renamed."
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: an input has gone missing"
        action = "Ask whoever sends the data to restore it. Until then, do not trust the model's answers."
    elif rule.key == "missing_values":
        what = f"{col.capitalize()} was empty for {_pct(value)} of {b.entity}s {when}, up from {_pct(ref)}"
        n_more = len([c for c in details.get("columns", []) if human(c) != col])
        what += f", and {n_more} more {'input' if n_more == 1 else 'inputs'} had gaps too." if n_more else "."
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: gaps in the data"
        action = "Find out why the data has gaps and fix the feed. The model fills gaps with a typical value."
    elif rule.key == "new_categories":
        examples = ", ".join(str(e) for e in details.get("examples", [])[:2])
        what = f"{_pct(value)} of {b.entity}s {when} had {_a(_either(details, col))} the model never saw" + (
            f", such as {examples}." if examples else "."
        )
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: new kinds of {col}"
        action = "Check these new values are right, then retrain so the model learns them."
    elif rule.key == "out_of_range":
        what = (
            f"{_pct(value)} of {b.entity}s {when} had {_a(_either(details, col))} outside anything the model "
            "learned from, so it is guessing for them."
        )
        cost, cost_value = _cost_exposure(spec, stats, when)
        title = f"{name}: {col} is out of range"
        action = "Retrain with data that covers these values, or check that the feed is right."
    elif rule.key == "overfitting":
        metric = METRICS.get(str(row["column"]), METRICS["accuracy"])
        what = (
            f"The model scored far better on the data it learned from than on data it had not seen: "
            f"{_pct(value)} worse on new data."
        )
        cost = (
            f"Its real quality is closer to the lower number, so plans built on the higher one will "
            f"fall short. This is its {metric.label.lower()}."
        )
        cost_value = None
        title = f"{name}: the model learned its training data by heart"
        action = "Retrain with more data or a simpler model before you rely on it."
    else:  # pragma: no cover - every default rule has text above
        raise ValueError(f"no text for rule {rule.key}")
    return AlertText(title=title, what=what, cost=cost, action=action, cost_value=cost_value)


def _either(details: dict, first: str) -> str:
    """`tenure`, `tenure or total charges`, or `tenure, x or 2 more inputs` for a grouped rule's columns."""
    rest = [human(c) for c in details.get("columns", []) if human(c) != first]
    if not rest:
        return first
    if len(rest) == 1:
        return f"{first} or {rest[0]}"
    return f"{first}, {rest[0]} or {len(rest) - 1} more {'input' if len(rest) == 2 else 'inputs'}"


def _a(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


# ---------------------------------------------------------------------------- evaluation
def alert_id(model: str, rule: str, subject: str) -> str:
    """Stable id for one (model, rule, subject), so links to an alert survive reruns."""
    return f"{model}-{rule}-" + hashlib.sha1(f"{model}|{rule}|{subject}".encode()).hexdigest()[:8]


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
) -> dict[str, int]:
    """Bring alerts of `spec` up to date with the stored results of its live `version`."""
    rules = rules or default_rules(spec, thresholds)
    results = store.read_results(model=spec.name, version=version, with_details=True)
    results = results[results["scope"].isin(["full", "version"])]
    stats = store.read_window_stats(model=spec.name, version=version)
    stats_by_window = {pd.Timestamp(r.window_start): r.stats for r in stats.itertuples()}
    volume = results[(results["check"] == str(Check.VOLUME)) & (results["status"] == "ok")]
    enough = {pd.Timestamp(w) for w in volume["window_start"]}
    existing = store.list_alerts(model=spec.name)
    existing_by_id = {r["id"]: r for r in existing.to_dict("records")}
    upserts, events = [], []
    counts = {"open": 0, "opened": 0, "resolved": 0, "reopened": 0}
    for rule in rules:
        rows = results[results["check"] == str(rule.check)]
        if rule.metric is not None:
            rows = rows[rows["metric"] == rule.metric]
        if rows.empty:
            continue
        if rule.per_column:
            rows = _worst_per_window(rule, rows)
        for subject, group in [("", rows)]:
            subject_key = subject or (rule.metric or rule.check)
            aid = alert_id(spec.name, rule.key, str(subject_key))
            version_level = group["window_start"].isna().all()
            verdicts: list[tuple[pd.Timestamp, bool | None]] = []
            latest_fire: pd.Series | None = None
            firing = False
            for _, row in group.sort_values("window_start", na_position="first").iterrows():
                ts = pd.Timestamp(row["window_start"]) if not pd.isna(row["window_start"]) else pd.Timestamp(0)
                if not version_level and ts not in enough:
                    verdicts.append((ts, None))
                    continue
                m = rule.measure_of(row)
                if m is None or (rule.min_rows and int(row["n_rows"] or 0) < rule.min_rows):
                    verdicts.append((ts, None))
                    continue
                if rule.key == "estimated_performance" and _has_realised(results, ts, spec):
                    verdicts.append((ts, None))  # real outcomes speak for this window
                    continue
                if rule.fires(m):
                    fires: bool | None = True
                elif firing and not rule.clears(m):
                    fires = None  # inside the hysteresis band: no change
                else:
                    fires = False
                verdicts.append((ts, fires))
                if fires is not None:
                    firing = fires
                if fires:
                    latest_fire = row
            eps = episodes(verdicts)
            if not eps:
                continue
            old = existing_by_id.get(aid)
            new_events = _transitions(aid, spec.name, eps, store.alert_events(aid) if old else pd.DataFrame())
            events += new_events
            for ev in new_events:
                counts[ev["event"]] = counts.get(ev["event"], 0) + 1
            current = eps[-1]
            if current.cleared_at is not None:
                state = "resolved"
            elif old is not None and old["state"] in ("acknowledged", "resolved") and not _reopened_since(old, current):
                state = old["state"]
            else:
                state = "open"
            if latest_fire is None:
                continue
            ts = current.last
            when = "at training time" if version_level else "in the " + make_window(ts, spec.window).label(spec.window)
            if not version_level and spec.window == "month":
                when = "in " + make_window(ts, spec.window).label(spec.window)
            text = alert_text(spec, rule, latest_fire, stats_by_window.get(ts, {}), when)
            now = datetime.now()
            upserts.append(
                {
                    "id": aid,
                    "model": spec.name,
                    "version": int(version),
                    "rule": rule.key,
                    "subject": str(subject_key),
                    "severity": rule.severity,
                    "state": state,
                    "title": text.title,
                    "what": text.what,
                    "cost": text.cost,
                    "action": text.action,
                    "cost_value": text.cost_value,
                    "value": rule.measure_of(latest_fire),
                    "threshold": rule.threshold,
                    "first_window": None if version_level else current.start.to_pydatetime(),
                    "last_window": None if version_level else current.last.to_pydatetime(),
                    "windows": current.windows,
                    "opened_at": old["opened_at"] if old is not None else now,
                    "updated_at": now if (old is None or new_events or old["state"] != state) else old["updated_at"],
                    "resolved_at": (current.cleared_at.to_pydatetime() if state == "resolved" else None),
                }
            )
            if state in ("open", "acknowledged"):
                counts["open"] += 1
    store.save_alerts(upserts=upserts, events=events)
    return counts


def _worst_per_window(rule: AlertRule, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per window: the column with the largest measure, its details listing every firing column."""
    rows = rows.assign(_measure=[rule.measure_of(r) for _, r in rows.iterrows()])
    rows = rows[rows["_measure"].notna()]
    out = []
    for _, group in rows.groupby("window_start", dropna=False):
        worst = group.sort_values("_measure", ascending=False).iloc[0].copy()
        firing = group[[rule.fires(m) for m in group["_measure"]]].sort_values("_measure", ascending=False)
        details = json.loads(worst["details"]) if isinstance(worst.get("details"), str) else {}
        details["columns"] = [str(c) for c in firing["column"]]
        details["values"] = [float(v) for v in firing["value"]]
        worst["details"] = json.dumps(details)
        out.append(worst)
    return pd.DataFrame(out).drop(columns="_measure") if out else rows.drop(columns="_measure")


def _has_realised(results: pd.DataFrame, ts: pd.Timestamp, spec: ModelSpec) -> bool:
    perf = results[
        (results["check"] == str(Check.PERFORMANCE))
        & (results["window_start"] == ts)
        & (results["metric"] == PRIMARY[spec.task])
    ]
    return bool((perf["status"] != "no_labels").any() and perf["value"].notna().any())


def _reopened_since(old: dict, current: Episode) -> bool:
    """True when the problem kept going after a person acknowledged or resolved it in an earlier episode."""
    first = old.get("first_window")
    return first is not None and not pd.isna(first) and pd.Timestamp(first) != current.start


def _transitions(aid: str, model: str, eps: list[Episode], stored: pd.DataFrame) -> list[dict]:
    """System events implied by the episodes that are not in the alert's history yet."""
    wanted = []
    for i, ep in enumerate(eps):
        wanted.append(("opened" if i == 0 else "reopened", ep.start))
        if ep.cleared_at is not None:
            wanted.append(("resolved", ep.cleared_at))
    have = set()
    if not stored.empty:
        sys_rows = stored[stored["actor"] == SYSTEM]
        have = {
            (r.event, pd.Timestamp(r.window_start) if not pd.isna(r.window_start) else None)
            for r in sys_rows.itertuples()
        }
    out = []
    for event, ts in wanted:
        key_ts = ts if ts != pd.Timestamp(0) else None
        if (event, key_ts) in have:
            continue
        out.append(
            {
                "alert_id": aid,
                "model": model,
                "event": event,
                "actor": SYSTEM,
                "window_start": key_ts.to_pydatetime() if key_ts is not None else None,
                "comment": "problem found" if event != "resolved" else "back within limits",
            }
        )
    return out
