"""The overview's one line on every model."""

from __future__ import annotations

import dataclasses

import pytest

from core.views.overview import HealthCard
from core.views.overview import fleet_verdict


def _card(title: str, status: str) -> HealthCard:
    fields = {f.name: None for f in dataclasses.fields(HealthCard) if f.default is dataclasses.MISSING}
    fields.update(model=title.lower(), title=title, status=status)
    return HealthCard(**fields)


@pytest.mark.parametrize(
    ("statuses", "tone", "line"),
    [
        (["green"], "success", "Churn is healthy."),  # was "All 1 models are healthy."
        (["grey"], "info", "Churn has no checked data yet."),
        (["red"], "error", "**Churn needs action now.**"),
        (["green", "green"], "success", "All 2 models are healthy."),
        (["green", "grey"], "info", "1 of 2 models are healthy; no checked data yet for Flights."),
        (["amber", "red", "green"], "error", "**1 of 3 models need action now:** Flights."),
        (["amber", "amber", "green"], "warning", "**2 of 3 models are worth a look:** Churn, Flights."),
    ],
)
def test_the_fleet_line_names_a_lone_model_and_never_calls_one_without_data_healthy(statuses, tone, line):
    cards = [_card(title, s) for title, s in zip(("Churn", "Flights", "Hotel"), statuses, strict=False)]
    assert fleet_verdict(cards) == (tone, line)
