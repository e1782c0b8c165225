"""Alert state over any sequence of windows, recomputed windows, people's actions and reruns.

Hypothesis draws the sequences (derandomized: the same examples on every run). After every step the
evaluation must not raise, and the stored alert must be coherent: one alert per rule, a known state,
`resolved_at` set exactly when resolved, a history that starts with `opened`, the system never saying
the same thing twice in a row, and a rerun that changes nothing. Windows are also recomputed with other values, which is
what taking a batch back or late outcomes do.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from core.alerts import evaluate_alerts
from core.errors import StoreError
from core.store import Store
from tests.alerts.test_evaluate import RULE
from tests.alerts.test_evaluate import SPEC
from tests.alerts.test_evaluate import _window
from tests.conftest import make_settings

SHARES = st.sampled_from([0.0, 0.1, 0.23, 0.25, 0.29, 0.3, 0.31, 0.5, 0.9, float("nan")])
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("window"), st.integers(0, 7), SHARES, st.sampled_from([50, 500])),
        st.tuples(st.just("evaluate")),
        st.tuples(st.just("person"), st.sampled_from(["acknowledged", "resolved", "open"])),
    ),
    min_size=1,
    max_size=14,
)


def _check(store: Store) -> None:
    alerts = store.list_alerts(model=SPEC.name)
    assert len(alerts) <= 1
    if alerts.empty:
        return
    alert = alerts.iloc[0]
    assert alert["state"] in ("open", "acknowledged", "resolved")
    assert (alert["state"] == "resolved") == pd.notna(alert["resolved_at"]), alert.to_dict()
    history = store.alert_events(alert["id"])
    assert history.iloc[0]["event"] == "opened"
    steps = list(zip(history["actor"], history["event"], strict=True))
    twice = [a for a, b in zip(steps, steps[1:], strict=False) if a == b and a[0] == "modelpulse"]
    assert not twice, steps  # the system never says the same thing twice in a row
    before = (alert["state"], len(history))
    evaluate_alerts(store=store, spec=SPEC, version=1, rules=[RULE])
    after = store.list_alerts(model=SPEC.name).iloc[0]
    assert (after["state"], len(store.alert_events(alert["id"]))) == before, "a rerun changed the alert"


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_any_sequence_keeps_alerts_coherent(tmp_path_factory, steps):
    cfg = make_settings(tmp_path_factory.mktemp("prop"))
    with Store.open(cfg.db_path, create=True) as store:
        store.upsert_model(SPEC)
        for step in [*steps, ("evaluate",)]:
            if step[0] == "window":
                _, day, share, n_rows = step
                _window(store, day, share, n_rows=n_rows)
            elif step[0] == "evaluate":
                evaluate_alerts(store=store, spec=SPEC, version=1, rules=[RULE])
                _check(store)
            else:
                alerts = store.list_alerts(model=SPEC.name)
                if alerts.empty:
                    continue
                alert = alerts.iloc[0]
                if alert["state"] == step[1]:  # pressing the button of the state it is in: told so, nothing changes
                    with pytest.raises(StoreError, match=f"already {step[1]}"):
                        store.set_alert_state(alert_id=alert["id"], state=step[1], actor="ana@example.com")
                else:
                    store.set_alert_state(alert_id=alert["id"], state=step[1], actor="ana@example.com")
