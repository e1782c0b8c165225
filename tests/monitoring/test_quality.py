"""Data quality: gaps, new categories, values out of the training range."""

from __future__ import annotations

import numpy as np
import pytest

from core.demo.datasets import FLIGHTS
from core.monitoring.quality import profile_reference
from core.monitoring.quality import quality_checks
from core.monitoring.thresholds import Thresholds
from core.results import Status


def test_quality_flags_gaps_new_categories_and_out_of_range(flight_reference):
    spec = FLIGHTS.spec
    profile = profile_reference(spec, flight_reference, spec.features)
    current = flight_reference.sample(1000, random_state=9).copy()
    current.loc[current.index[:300], "humid"] = np.nan
    current.loc[current.index[:200], "carrier"] = "NEWAIR"
    current.loc[current.index[:100], "distance"] = 99_999
    current["visib"] = np.nan
    checks = {
        (c.metric, c.column): c
        for c in quality_checks(spec=spec, current=current, profile=profile, thresholds=Thresholds())
    }
    assert checks[("missing_share", "humid")].value == pytest.approx(0.3) and checks[("missing_share", "humid")].failed
    assert checks[("unseen_share", "carrier")].value == pytest.approx(0.2)
    assert "NEWAIR" in checks[("unseen_share", "carrier")].message
    assert checks[("out_of_range_share", "distance")].value == pytest.approx(0.1)
    assert not checks[("out_of_range_share", "hour")].failed
    assert (
        checks[("missing_columns", None)].status == Status.ALERT
        and "`visib`" in checks[("missing_columns", None)].message
    )
