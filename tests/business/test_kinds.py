"""Business kinds: one strategy per kind, registered by name; a fourth kind is one new class."""

from __future__ import annotations

import pandas as pd
import pytest

from core.alerts.rule import Firing
from core.alerts.rules import DriftRule
from core.business import KINDS
from core.business import KPI
from core.business import BusinessKind
from core.business import kind_for
from core.business import kinds_for_task
from core.business import register
from core.demo.datasets import CHURN
from core.demo.datasets import FLIGHTS
from core.demo.datasets import HOTEL
from core.monitoring.thresholds import Thresholds
from core.views.compare import compare_versions
from core.views.kpis import kpi_values
from core.views.kpis import kpis_for


def test_the_demo_models_get_their_kinds_and_a_mismatch_falls_back_to_counts():
    assert kind_for(CHURN.spec).name == "revenue_at_risk"
    assert kind_for(FLIGHTS.spec).name == "cost_per_event"
    assert kind_for(HOTEL.spec).name == "pricing_error"
    wrong_task = HOTEL.spec.model_copy(
        update={"business": HOTEL.spec.business.model_copy(update={"kind": "cost_per_event"})}
    )
    assert kind_for(wrong_task).name == "none"
    assert [k.key for k in kpis_for(wrong_task)] == ["n"]


def test_the_upload_form_offers_the_kinds_of_each_task():
    assert [k.name for k in kinds_for_task("binary")] == ["cost_per_event", "revenue_at_risk", "none"]
    assert [k.name for k in kinds_for_task("regression")] == ["pricing_error", "none"]
    assert [k.name for k in kinds_for_task("multiclass")] == ["none"]


def test_every_kind_has_exactly_one_headline_kpi():
    for spec in (CHURN.spec, FLIGHTS.spec, HOTEL.spec):
        assert sum(k.headline for k in kpis_for(spec)) == 1


@pytest.fixture
def subscription_kind():
    """A fourth kind, written as one class: each flagged customer who stays is worth a fixed upsell."""

    @register
    class Upsell(BusinessKind):
        name = "upsell"
        tasks = ("binary",)
        choice = "Each flagged 'yes' is an upsell worth a fixed amount"

        def kpis(self, spec):
            return [KPI("upsell", "Upsell found", "money", "Flagged customers who did say yes.", True, headline=True)]

        def values(self, spec, stats, business):
            return {"upsell": stats.get("tp", 0) * business.value_per_positive}

        def exposure(self, spec, stats, when):
            value = stats.get("flagged", 0) * spec.business.value_per_positive
            return f"About ${value:,.0f} of upsell rides on the calls made {when}.", value

        def gain(self, spec, stats_a, stats_b):
            return (stats_b.get("tp", 0) - stats_a.get("tp", 0)) * spec.business.value_per_positive, "upsell"

        def gain_sentence(self, spec, gain, b):
            return f"Had v{b} been live, about ${gain:,.0f} more upsell would have been found."

    yield Upsell
    del KINDS["upsell"]


def test_a_fourth_kind_is_one_class_and_every_reader_follows_it(subscription_kind):
    business = CHURN.spec.business.model_copy(update={"kind": "upsell", "value_per_positive": 50.0})
    spec = CHURN.spec.model_copy(update={"business": business})
    assert [k.key for k in kpis_for(spec)] == ["upsell"]
    stats = {"n": 100, "n_labelled": 100, "tp": 7, "fp": 3, "fn": 10, "tn": 80, "flagged": 10}
    assert kpi_values(spec, stats)["upsell"] == 350.0
    rule = DriftRule.for_model(spec, Thresholds())
    row = pd.Series({"value": 0.5, "reference": None, "column": None, "metric": "drift_share", "details": "{}"})
    text = rule.words(Firing(spec, row, stats, "in Mar 2018", 0.5))
    assert text.cost == "About $500 of upsell rides on the calls made in Mar 2018." and text.cost_value == 500.0
    windows = pd.DataFrame(
        {
            "version": [1, 2],
            "window_start": [pd.Timestamp("2018-03-01")] * 2,
            "n_labels": [100, 100],
            "stats": [stats, {**stats, "tp": 9, "fn": 8}],
        }
    )
    comparison = compare_versions(spec, windows, a=1, b=2, metric="recall", n_boot=10)
    assert comparison.money == 100.0
    assert "about $100 more upsell" in comparison.recommendation
