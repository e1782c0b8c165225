"""Alert rules: each carries its check, line, severity and words; one without words cannot be defined."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.alerts import RULES
from core.alerts import default_rules
from core.alerts.evaluate import _verdicts
from core.alerts.rule import AlertRule
from core.demo.datasets import CHURN
from core.demo.datasets import HOTEL
from core.monitoring.thresholds import Band
from core.monitoring.thresholds import Thresholds
from core.results import Check


def test_a_rule_without_words_is_refused_when_it_is_written():
    with pytest.raises(TypeError, match="must define `what`"):

        class Silent(AlertRule):
            key = "silent"
            check = Check.DRIFT_SHARE
            band = 0.5
            title = "something"
            action = "Do something."

    with pytest.raises(TypeError, match="must set `action`"):

        class NoAction(AlertRule):
            key = "no_action"
            check = Check.DRIFT_SHARE
            band = 0.5
            title = "something"

            def what(self, f):
                return "It happened."

    assert "silent" not in RULES and "no_action" not in RULES


def test_every_model_gets_the_rules_of_its_task_with_its_own_lines():
    th = Thresholds(drift_share=Band(warn=0.4, alert=0.6))
    churn = {r.key: r for r in default_rules(CHURN.spec, th)}
    hotel = {r.key: r for r in default_rules(HOTEL.spec, th)}
    assert "estimated_performance" in churn and "estimated_performance" not in hotel
    assert churn["drift"].threshold == 0.4 and churn["drift"].min_rows == CHURN.spec.min_rows
    assert churn["performance"].metric_of(CHURN.spec) == "roc_auc"
    assert hotel["performance"].metric_of(HOTEL.spec) == "rmse"
    assert {r.severity for r in churn.values()} == {"critical", "warning"}


def test_hysteresis_clears_only_well_inside_the_line():
    rule = default_rules(CHURN.spec)[1]  # drift: fires at 30% of the inputs
    assert rule.fires(0.3) and not rule.fires(0.29)
    assert not rule.clears(0.25) and rule.clears(0.23)


def test_shifts_the_chance_test_put_down_to_luck_neither_raise_nor_clear_an_alert():
    """A 20-row window's answers can sit far over the prediction-drift line by chance alone (normed
    Wasserstein's floor is about 1/sqrt(n)); the drift check says so in its details, and the rule reads
    that window as no evidence either way."""
    rule = next(r for r in default_rules(CHURN.spec) if r.key == "prediction_drift")

    def row(week: int, value: float, *, chance: bool = False) -> dict:
        details = {"chance": True, "chance_p": 0.4} if chance else {}
        return {
            "window_start": pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=week),
            "value": value,
            "reference": None,
            "metric": "wasserstein",
            "n_rows": 500,
            "details": json.dumps(details),
        }

    rows = pd.DataFrame([row(0, 0.3), row(1, 0.43, chance=True), row(2, 0.02, chance=False), row(3, 0.5, chance=True)])
    assert rule.measure_of(rows.iloc[1]) is None and rule.measure_of(rows.iloc[0]) == pytest.approx(0.3)
    verdicts, latest = _verdicts(rule, rows, skip=set())
    assert [v for _, v in verdicts] == [True, None, False, None]
    assert latest["value"] == pytest.approx(0.3)
    outcome = next(r for r in default_rules(CHURN.spec) if r.key == "target_drift")
    assert [v for _, v in _verdicts(outcome, rows, skip=set())[0]] == [True, None, False, None]
