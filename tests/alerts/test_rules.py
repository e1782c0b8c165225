"""Alert rules: each carries its check, line, severity and words; one without words cannot be defined."""

from __future__ import annotations

import pytest

from core.alerts import RULES
from core.alerts import default_rules
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
