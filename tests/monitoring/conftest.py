"""Shared slices of real data for the monitoring calculators."""

from __future__ import annotations

import pytest

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.demo.datasets import FLIGHTS


@pytest.fixture(scope="module")
def flights():
    frame = FLIGHTS.load(REPO_ROOT / "data")
    split = FLIGHTS.split(frame)
    return frame, split


@pytest.fixture(scope="module")
def flight_reference(flights):
    frame, split = flights
    return frame[split == "train"].sample(20_000, random_state=0)


@pytest.fixture(scope="module")
def churn_parts():
    frame = CHURN.load(REPO_ROOT / "data")
    split = CHURN.split(frame)
    return {s: frame[split == s] for s in ("train", "validation")}
