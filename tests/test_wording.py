"""Small helpers every sentence is built from."""

from __future__ import annotations

from core.wording import upper_first


def test_a_title_starts_upper_case_and_keeps_a_founders_own_capitals():
    assert upper_first("late flights") == "Late flights"
    assert upper_first("US customers") == "US customers"  # str.capitalize gave "Us customers"
    assert upper_first("'TRUE' outcomes") == "'TRUE' outcomes"
    assert upper_first("'churned' customers") == "'Churned' customers"
    assert upper_first("") == "" and upper_first("42") == "42"
