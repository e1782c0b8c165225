"""The feedback loop: "not useful" raises a warning rule's line for that model within its bounds, the next
identical window stays quiet and is recorded with what it would have said, a critical quality drop fires
whatever anyone says, and undoing a change brings the default line (and the alert) back. Real stores."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from core.access import Identity
from core.access import act
from core.alerts import alert_id
from core.alerts.feedback import POLICY
from core.alerts.feedback import adapted_rules
from core.alerts.feedback import give_feedback
from core.alerts.feedback import revert_adjustment
from core.alerts.silenced import evaluate_with_feedback
from core.errors import PermissionDenied
from core.errors import StoreError
from core.refresh import refresh
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.store import Store
from tests.alerts.test_evaluate import SPEC
from tests.alerts.test_evaluate import START
from tests.alerts.test_evaluate import _window

DRIFT = alert_id(SPEC.name, "drift", "drift_share")
QUALITY = alert_id(SPEC.name, "performance", "roc_auc")


def window(store: Store, day: int, *, share: float, auc: float = 0.84) -> None:
    """One stored day: `share` of the inputs drifted, and the measured ROC AUC against 0.84 at validation."""
    quality = CheckResult(
        check=Check.PERFORMANCE, metric="roc_auc", value=auc, reference=0.84, status=Status.OK, message="", n_rows=500
    )
    _window(store, day, share, extra=(quality,))


@pytest.fixture
def store(settings):
    with Store.open(settings.db_path, create=True) as s:
        s.upsert_model(SPEC)
        yield s


def evaluate(store: Store) -> dict:
    evaluate_with_feedback(store=store, spec=SPEC, version=1)
    return {a["rule"]: a for a in store.list_alerts(model=SPEC.name).to_dict("records")}


def line(store: Store, rule: str) -> float:
    return next(r.threshold for r in adapted_rules(store=store, spec=SPEC) if r.key == rule)


def events(store: Store, aid: str) -> list[tuple[str, pd.Timestamp | None]]:
    history = store.alert_events(aid)
    return [
        (e, None if pd.isna(w) else pd.Timestamp(w))
        for e, w in zip(history["event"], history["window_start"], strict=True)
    ]


def test_not_useful_raises_the_line_and_the_next_identical_window_stays_quiet(store):
    window(store, 0, share=0.35)
    before = evaluate(store)["drift"]
    assert before["state"] == "open" and before["threshold"] == 0.3

    done = give_feedback(store, alert_id=DRIFT, useful=False, actor="maya@startup.com", reason="seasonal mix")
    assert (done.old_line, done.new_line) == (0.3, 0.375)  # a quarter of the default line quieter
    (adjustment,) = store.rule_adjustments(model=SPEC.name, active=True).to_dict("records")
    assert adjustment["id"] == done.adjustment_id
    assert (adjustment["rule"], adjustment["old_threshold"], adjustment["new_threshold"]) == ("drift", 0.3, 0.375)
    assert adjustment["actor"] == "maya@startup.com" and "not useful" in adjustment["reason"]
    assert "seasonal mix" in adjustment["reason"]
    (vote,) = store.alert_feedback(alert_id=DRIFT).to_dict("records")
    assert not vote["useful"] and vote["reason"] == "seasonal mix" and vote["rule"] == "drift"
    assert pd.Timestamp(vote["window_start"]) == pd.Timestamp(START)

    window(store, 1, share=0.35)  # the same value again, the next day
    after = evaluate(store)["drift"]
    assert after["state"] == "resolved"
    assert ("opened", pd.Timestamp(START)) in events(store, DRIFT)
    assert not [e for e, w in events(store, DRIFT) if w == pd.Timestamp(START + timedelta(days=1)) and e != "resolved"]
    quiet = store.silenced_alerts(model=SPEC.name)
    assert [pd.Timestamp(w) for w in quiet["window_start"]] == [pd.Timestamp(START + timedelta(days=d)) for d in (1, 0)]
    assert set(quiet["rule"]) == {"drift"} and set(quiet["subject"]) == {"drift_share"}
    assert set(quiet["default_threshold"]) == {0.3} and set(quiet["used_threshold"]) == {0.375}
    assert set(quiet["measure"]) == {0.35}
    assert set(quiet["title"]) == {before["title"]}  # what the alert said, and would have said again
    newest = quiet.iloc[0]["what"]
    assert "35% of the inputs" in newest and "tenure" in newest and "2 Jan 2024" in newest

    window(store, 2, share=0.5)  # well past the adapted line: feedback quietens, it does not mute
    assert evaluate(store)["drift"]["state"] == "open"
    assert len(store.silenced_alerts(model=SPEC.name)) == 2


def test_a_critical_quality_drop_fires_after_any_amount_of_feedback(store):
    window(store, 0, share=0.35, auc=0.6)  # measured quality 29% worse than at validation
    assert evaluate(store)["performance"]["state"] == "open"
    for i in range(12):
        outcome = give_feedback(store, alert_id=QUALITY, useful=False, actor=f"person{i}@startup.com")
        assert outcome.adjustment_id is None and outcome.new_line == outcome.old_line == 0.10
    # even a line written straight into the table is not used for a critical rule
    store.save_adjustment(
        model=SPEC.name, rule="performance", old_threshold=0.10, new_threshold=0.5, reason="by hand", actor="x"
    )
    assert line(store, "performance") == 0.10

    window(store, 1, share=0.35, auc=0.6)
    alerts = evaluate(store)
    assert alerts["performance"]["state"] == "open" and alerts["performance"]["windows"] == 2
    assert alerts["performance"]["threshold"] == 0.10
    assert "performance" not in set(store.silenced_alerts(model=SPEC.name)["rule"])
    assert len(store.alert_feedback(alert_id=QUALITY)) == 12  # every vote is kept, none moved the line


def test_the_line_stays_within_its_bounds(store):
    window(store, 0, share=0.35)
    evaluate(store)
    moved = [give_feedback(store, alert_id=DRIFT, useful=False, actor=f"p{i}@startup.com").new_line for i in range(7)]
    assert moved == [0.375, 0.45, 0.525, 0.6, 0.6, 0.6, 0.6]  # never past twice the default line
    assert len(store.rule_adjustments(model=SPEC.name, active=True)) == 4  # a vote at the ceiling moves nothing
    assert line(store, "drift") == 0.6 == POLICY.bounds(rule=adapted_rules(store=store, spec=SPEC)[1], default=0.3)[1]
    back = [give_feedback(store, alert_id=DRIFT, useful=True, actor=f"q{i}@startup.com").new_line for i in range(6)]
    assert back == [0.525, 0.45, 0.375, 0.3, 0.3, 0.3]  # "useful" undoes it, never stricter than the default
    assert line(store, "drift") == 0.3

    window(store, 1, share=0.65)
    for i in range(8):
        give_feedback(store, alert_id=DRIFT, useful=False, actor=f"r{i}@startup.com")
    assert evaluate(store)["drift"]["state"] == "open"  # past the ceiling, the alert fires whatever was said


def test_undo_brings_the_default_line_and_the_alert_back(store):
    window(store, 0, share=0.4)
    evaluate(store)
    first = give_feedback(store, alert_id=DRIFT, useful=False, actor="maya@startup.com")
    second = give_feedback(store, alert_id=DRIFT, useful=False, actor="sam@startup.com")
    assert second.new_line == 0.45
    window(store, 1, share=0.4)
    assert evaluate(store)["drift"]["state"] == "resolved"
    assert len(store.silenced_alerts(model=SPEC.name)) == 2

    undone = revert_adjustment(store, adjustment_id=first.adjustment_id, actor="ana@startup.com")
    assert undone == [first.adjustment_id, second.adjustment_id]  # the later change built on it goes too
    assert store.rule_adjustments(model=SPEC.name, active=True).empty
    kept = store.rule_adjustments(model=SPEC.name)
    assert len(kept) == 2 and set(kept["reverted_by"]) == {"ana@startup.com"} and kept["reverted_at"].notna().all()
    assert line(store, "drift") == 0.3 and store.silenced_alerts(model=SPEC.name).empty

    alert = evaluate(store)["drift"]
    assert alert["state"] == "open" and alert["threshold"] == 0.3 and alert["windows"] == 2
    assert events(store, DRIFT)[-1][0] == "reopened"
    assert store.silenced_alerts(model=SPEC.name).empty
    with pytest.raises(StoreError, match="already undone by ana@startup.com"):
        revert_adjustment(store, adjustment_id=second.adjustment_id, actor="ana@startup.com")


def test_undoing_the_latest_change_keeps_the_earlier_one(store):
    window(store, 0, share=0.4)
    evaluate(store)
    first = give_feedback(store, alert_id=DRIFT, useful=False, actor="maya@startup.com")
    second = give_feedback(store, alert_id=DRIFT, useful=False, actor="sam@startup.com")
    assert revert_adjustment(store, adjustment_id=second.adjustment_id, actor="ana@startup.com") == [
        second.adjustment_id
    ]
    assert line(store, "drift") == first.new_line == 0.375


def test_one_vote_per_person_and_window_and_only_editors_give_it(store):
    window(store, 0, share=0.35)
    evaluate(store)
    give_feedback(store, alert_id=DRIFT, useful=False, actor="maya@startup.com")
    with pytest.raises(StoreError, match="already gave feedback"):
        give_feedback(store, alert_id=DRIFT, useful=True, actor="maya@startup.com")
    with pytest.raises(StoreError, match="Say who you are"):
        give_feedback(store, alert_id=DRIFT, useful=False, actor="  ")
    assert len(store.alert_feedback(alert_id=DRIFT)) == 1 and len(store.rule_adjustments()) == 1

    viewer = Identity(name="v", email="viewer@startup.com", role="viewer", via="accounts")
    with pytest.raises(PermissionDenied, match="cannot give feedback on alerts"):
        act(store, viewer, "alert.feedback", lambda: give_feedback(store, alert_id=DRIFT, useful=False, actor="v"))
    assert len(store.alert_feedback(alert_id=DRIFT)) == 1
    assert store.audit.read(action="alert.feedback")["outcome"].tolist() == ["refused"]


def test_deleting_the_model_forgets_its_feedback(store):
    window(store, 0, share=0.35)
    evaluate(store)
    give_feedback(store, alert_id=DRIFT, useful=False, actor="maya@startup.com")
    window(store, 1, share=0.35)
    evaluate(store)
    assert len(store.silenced_alerts()) == 2
    store.delete_model(SPEC.name)
    assert store.alert_feedback().empty and store.rule_adjustments().empty and store.silenced_alerts().empty


def test_refresh_evaluates_with_the_lines_feedback_moved(copied):
    """On the demo: after "not useful" on a warning alert still well past its line, the next refresh stores it
    with the moved line, and every window it kept quiet lies between the two lines."""
    with Store.open(copied.db_path) as store:
        warning = store.list_alerts(severity="warning", state="open")
        picked = warning.loc[(warning["value"] / warning["threshold"]).idxmax()]
        assert picked["value"] >= picked["threshold"] * (1 + POLICY.step)
        done = give_feedback(store, alert_id=picked["id"], useful=False, actor="maya@startup.com")
        assert done.new_line == pytest.approx(done.old_line * (1 + POLICY.step))
        refresh(store=store, settings=copied, models=[picked["model"]], progress=lambda _: None)
        assert store.get_alert(picked["id"])["threshold"] == pytest.approx(done.new_line)
        quiet = store.silenced_alerts(model=picked["model"])
        assert set(quiet["rule"]) <= {picked["rule"]}
        assert ((quiet["measure"] >= done.old_line) & (quiet["measure"] < done.new_line)).all()
