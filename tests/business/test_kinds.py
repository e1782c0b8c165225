"""Business kinds: one strategy per kind, registered by name; a fourth kind is one new class."""

from __future__ import annotations

import pandas as pd
import pytest

from core.alerts import default_rules
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
    assert [k.name for k in kinds_for_task("regression", "money")] == ["pricing_error", "none"]
    assert [k.name for k in kinds_for_task("regression", "count")] == ["error_cost", "none"]
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


def test_a_count_target_speaks_in_its_own_unit_and_costs_per_unit_of_error():
    business = HOTEL.spec.business.model_copy(
        update={
            "kind": "error_cost",
            "target_unit": "count",
            "unit_name": "bikes",
            "target_noun": "daily rentals",
            "value_per_unit": 2.0,
            "quantity_column": None,
            "entity": "day",
        }
    )
    spec = HOTEL.spec.model_copy(update={"business": business})
    stats = {"n": 30, "n_labelled": 30, "money_error": 450.0, "money_under": 300.0, "money_over": 150.0}
    values = kpi_values(spec, stats)
    assert values["error_cost"] == 900.0 and values["too_low_cost"] == 600.0
    rule = next(r for r in default_rules(spec) if r.key == "performance")
    row = pd.Series({"value": 21.0, "reference": 15.0, "column": None, "metric": "rmse", "details": "{}"})
    text = rule.words(Firing(spec, row, stats, "in the week of 4 Mar 2024", 0.4))
    assert "missed by 21 bikes on a typical day" in text.what and "against 15 bikes" in text.what
    assert "$" not in text.what and "priced" not in text.what and "night" not in text.what
    assert text.cost == "Its misses in the week of 4 Mar 2024 added up to 450 bikes, about $900."
    worse = rule.words(Firing(spec, row, {**stats, "money_error": 600.0}, "in the week of 4 Mar 2024", 0.4))
    assert worse.cost.startswith("Its misses in the week of 4 Mar 2024 cost about $1,200, $300 more than its usual")
    assert worse.cost_value == 300.0


@pytest.mark.parametrize("kind", ["cost_per_event", "revenue_at_risk", "pricing_error"])
def test_a_founders_own_model_is_not_worded_as_the_demo(kind):
    """Every founder's yes/no model picking "each 'yes' costs a fixed amount" had read "On-time share", "Cost of
    delays" and "Predicted late"; its money sentences come from its own words too."""
    demo = {"cost_per_event": FLIGHTS, "revenue_at_risk": CHURN, "pricing_error": HOTEL}[kind].spec
    own = demo.business.model_copy(
        update={"kind": kind, "entity": "payment", "positive": "fraudulent payments", "negative": "", "unit": "amount"}
    )
    spec = demo.model_copy(update={"business": own})
    stats = {"n": 40, "tp": 3, "fn": 2, "value_fn": 120.0, "qty_labelled": 10.0, "money_error": 50.0}
    words = [f"{k.label} {k.help}" for k in kind_for(spec).kpis(spec)]
    words += [kind_for(spec).loss(spec, stats, "in May", None)[0], kind_for(spec).exposure(spec, stats, "in May")[0]]
    text = " ".join(words).lower()
    for demo_word in ("late", "delay", "on-time", "flight", "leave", "who left", "night", "booking", "customer"):
        assert demo_word not in text, (demo_word, text)
    if kind == "cost_per_event":
        titles = [k.label for k in kind_for(spec).kpis(spec)]
        assert titles[0] == "Share of payments not fraudulent" and "Cost of fraudulent payments" in titles
        assert kind_for(FLIGHTS.spec).kpis(FLIGHTS.spec)[0].label == "On-time share"  # the demo keeps its words
