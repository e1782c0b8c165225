"""Small helpers every sentence is built from."""

from __future__ import annotations

from core.wording import share_without
from core.wording import upper_first


def test_a_title_starts_upper_case_and_keeps_a_founders_own_capitals():
    assert upper_first("late flights") == "Late flights"
    assert upper_first("US customers") == "US customers"  # str.capitalize gave "Us customers"
    assert upper_first("'TRUE' outcomes") == "'TRUE' outcomes"
    assert upper_first("'churned' customers") == "'Churned' customers"
    assert upper_first("") == "" and upper_first("42") == "42"


def test_the_headline_share_without_a_word_for_the_other_outcome_reads_as_a_sentence():
    """A yes/no model without the optional `negative` word read "Share not among the churned customers"."""
    cases = {
        ("flight", "late flights"): "Share of flights not late",
        ("customer", "churned customers"): "Share of customers not churned",
        ("case", "cases marked fraud"): "Share of cases not marked fraud",
        ("customer", "customers who churn"): "Share of customers who do not churn",
        ("subscription", "subscriptions that renew"): "Share of subscriptions that do not renew",
        # a past or third-person verb would not read after "do not": the plain fallback
        ("customer", "customers who left"): "Share of customers not among the customers who left",
        ("case", "'A+' outcomes"): "Share of cases not among the 'A+' outcomes",
        ("order", "late deliveries"): "Share of orders not among the late deliveries",
    }
    for (entity, positive), label in cases.items():
        assert share_without(entity=entity, positive=positive) == label
