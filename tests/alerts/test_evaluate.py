"""Alert state over windows: de-duplication, resolution, reopening, people's actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta

import pandas as pd
import pytest

from core.alerts import evaluate_alerts
from core.alerts.rules import DriftRule
from core.demo.datasets import CHURN
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.results import WindowResult
from core.store import Store

START = datetime(2024, 1, 1)
SPEC = CHURN.spec.model_copy(update={"window": "day"})
# the demo's drift rule (alarm at 30% of inputs shifted), speaking about windows of any size
RULE = replace(DriftRule.for_model(SPEC, Thresholds()), min_rows=0)


def _window(store: Store, day: int, share: float, n_rows: int = 500, extra: tuple[CheckResult, ...] = ()) -> None:
    """One stored day of `SPEC` whose drift share is `share`, with `extra` checks beside it."""
    start = START + timedelta(days=day)
    checks = (
        CheckResult(check=Check.VOLUME, metric="rows", value=n_rows, status=Status.OK, message="", n_rows=n_rows),
        CheckResult(
            check=Check.DRIFT_SHARE,
            metric="drift_share",
            value=share,
            threshold=0.3,
            status=Status.WARN if share >= 0.3 else Status.OK,
            message="",
            n_rows=n_rows,
            details={"drifted": ["tenure", "contract"] if share >= 0.3 else []},
        ),
        *extra,
    )
    store.save_window(
        result=WindowResult(
            model=SPEC.name,
            version=1,
            start=start,
            end=start + timedelta(days=1),
            n_rows=n_rows,
            n_labels=0,
            fingerprint=str(day),
            checks=checks,
            stats={"n": n_rows, "expected_value_at_risk": 1234.0},
        ),
        scope="full",
    )


@pytest.fixture
def store(settings):
    with Store.open(settings.db_path, create=True) as s:
        s.upsert_model(SPEC)
        yield s


def _evaluate(store):
    return evaluate_alerts(store=store, spec=SPEC, version=1, rules=[RULE])


def test_consecutive_windows_make_one_alert_that_resolves_and_reopens(store):
    for day, share in enumerate([0.1, 0.5, 0.6, 0.4]):
        _window(store, day, share)
    _evaluate(store)
    alerts = store.list_alerts(model=SPEC.name)
    assert len(alerts) == 1
    alert = alerts.iloc[0]
    assert alert["state"] == "open" and alert["windows"] == 3
    assert pd.Timestamp(alert["first_window"]) == pd.Timestamp(START + timedelta(days=1))
    _evaluate(store)  # evaluating again changes nothing
    assert list(store.alert_events(alert["id"])["event"]) == ["opened"]

    _window(store, 4, 0.05)
    _evaluate(store)
    alert = store.get_alert(alert["id"])
    assert alert["state"] == "resolved" and alert["resolved_at"] is not None

    _window(store, 5, 0.7)
    _evaluate(store)
    alert = store.get_alert(alert["id"])
    assert alert["state"] == "open" and alert["windows"] == 1
    assert list(store.alert_events(alert["id"])["event"]) == ["opened", "resolved", "reopened"]
    assert len(store.list_alerts(model=SPEC.name)) == 1


def test_value_hovering_at_the_line_does_not_flap(store):
    for day, share in enumerate([0.35, 0.28, 0.31, 0.27, 0.33]):  # between 0.24 (clear line) and 0.3
        _window(store, day, share)
    _evaluate(store)
    alert = store.list_alerts(model=SPEC.name).iloc[0]
    assert alert["state"] == "open"
    assert list(store.alert_events(alert["id"])["event"]) == ["opened"]


def test_acknowledgement_holds_while_the_problem_lasts_and_ends_when_it_returns(store):
    _window(store, 0, 0.5)
    _evaluate(store)
    aid = store.list_alerts(model=SPEC.name).iloc[0]["id"]
    store.set_alert_state(alert_id=aid, state="acknowledged", actor="ana@example.com", comment="looking into it")
    _window(store, 1, 0.6)
    _evaluate(store)
    assert store.get_alert(aid)["state"] == "acknowledged"
    _window(store, 2, 0.0)
    _window(store, 3, 0.9)
    _evaluate(store)
    assert store.get_alert(aid)["state"] == "open"
    history = store.alert_events(aid)
    assert list(history["event"]) == ["opened", "acknowledged", "resolved", "reopened"]
    assert history.iloc[1]["actor"] == "ana@example.com" and history.iloc[1]["comment"] == "looking into it"


def test_windows_without_enough_rows_say_nothing(store):
    _window(store, 0, 0.9, n_rows=500)
    _evaluate(store)
    aid = store.list_alerts(model=SPEC.name).iloc[0]["id"]
    small = replace(RULE, min_rows=400)
    _window(store, 1, 0.0, n_rows=50)  # clean but too small to clear anything
    evaluate_alerts(store=store, spec=SPEC, version=1, rules=[small])
    assert store.get_alert(aid)["state"] == "open"


def test_alert_text_names_the_problem_and_the_money(store):
    _window(store, 0, 0.5)
    _evaluate(store)
    alert = store.list_alerts(model=SPEC.name).iloc[0]
    assert "50% of the inputs" in alert["what"] and "tenure" in alert["what"]
    assert "$1,200" in alert["cost"] and "monthly revenue" in alert["cost"]
    assert alert["action"].endswith(".")


def test_bad_manual_state_is_refused(store):
    _window(store, 0, 0.5)
    _evaluate(store)
    aid = store.list_alerts(model=SPEC.name).iloc[0]["id"]
    with pytest.raises(Exception, match="cannot be set"):
        store.set_alert_state(alert_id=aid, state="deleted", actor="x")
    with pytest.raises(Exception, match="Say who you are"):
        store.set_alert_state(alert_id=aid, state="resolved", actor="  ")


def test_an_alert_resolved_by_hand_while_its_problem_lasts_stays_resolved_until_a_newer_window_fires(store):
    _window(store, 0, 0.5)
    _evaluate(store)
    aid = store.list_alerts(model=SPEC.name).iloc[0]["id"]
    store.set_alert_state(alert_id=aid, state="resolved", actor="ana@example.com", comment="fixed the feed")
    _evaluate(store)  # the same windows again: the person's word stands
    alert = store.get_alert(aid)
    assert alert["state"] == "resolved" and alert["resolved_at"] is not None
    _window(store, 1, 0.6)  # a newer window still shows the problem
    _evaluate(store)
    alert = store.get_alert(aid)
    assert alert["state"] == "open" and pd.isna(alert["resolved_at"])
    history = store.alert_events(aid)
    assert list(history["event"]) == ["opened", "resolved", "reopened"]
    assert history.iloc[-1]["comment"] == "still happening after it was marked resolved"
    _evaluate(store)
    assert len(store.alert_events(aid)) == 3
