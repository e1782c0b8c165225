"""KPIs pool rows over any period, and money edits change them."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.metrics import binary_metrics
from core.store import Store
from core.views.kpis import kpi_series
from tests.conftest import make_settings
from tests.pages.test_pages import APP
from tests.pages.test_pages import _close_cached_stores


def _raw(store: Store, model: str, version: int, start: str, end: str) -> pd.DataFrame:
    spec = store.get_spec(model)
    return store.read_window(spec=spec, version=version, start=pd.Timestamp(start), end=pd.Timestamp(end))


def test_a_month_is_computed_on_its_pooled_rows(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("flights")
        months = kpi_series(spec, store.read_daily_stats(model="flights", version=1), period="month", version=1)
        weeks = kpi_series(spec, store.read_daily_stats(model="flights", version=1), period="window", version=1)
        june = _raw(store, "flights", 1, "2013-06-01", "2013-07-01")
    labelled = june[june["_label"].notna()]
    row = months[months["period"] == pd.Timestamp("2013-06-01")].iloc[0]
    assert row["on_time_share"] == pytest.approx(1 - labelled["_label"].mean())
    assert row["n"] == len(june)
    flagged = (labelled["_probability"] >= 0.5).to_numpy()
    assert row["recall"] == pytest.approx(binary_metrics(labelled["_label"], labelled["_probability"])["recall"])
    assert row["missed_cost"] == pytest.approx(((~flagged) & (labelled["_label"] == 1)).sum() * 1500.0)
    # the mean of weekly shares is a different (wrong) number: weeks straddle months and differ in size
    in_june = weeks[(weeks["period"] >= "2013-06-01") & (weeks["period"] < "2013-07-01")]
    assert in_june["on_time_share"].mean() != pytest.approx(row["on_time_share"], abs=1e-9)


def test_regression_kpis_pool_money_exactly(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("hotel")
        months = kpi_series(spec, store.read_daily_stats(model="hotel", version=1), period="month", version=1)
        april = _raw(store, "hotel", 1, "2017-04-01", "2017-05-01")
    lab = april[april["_label"].notna()]
    err = lab["_prediction"] - lab["_label"]
    row = months[months["period"] == pd.Timestamp("2017-04-01")].iloc[0]
    assert row["pricing_error"] == pytest.approx((err.abs() * lab["nights"]).sum())
    assert row["rmse"] == pytest.approx(float(np.sqrt((err**2).mean())))


def test_editing_money_values_changes_the_kpis(demo_settings, tmp_path, monkeypatch):
    cfg = make_settings(tmp_path / "k")
    shutil.copy(demo_settings.db_path, cfg.db_path)
    monkeypatch.setenv("MODELPULSE_DB", str(cfg.db_path))
    monkeypatch.setenv("MODELPULSE_INBOX_POLL", "0")
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["model"] = "flights"
    at.run()
    at.switch_page("screens/kpis.py").run()
    assert not at.exception
    before = {m.label: m.value for m in at.metric}["Cost of late flights"]
    at.number_input[0].set_value(3000.0)
    at.button[0].click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)
    after = {m.label: m.value for m in at.metric}["Cost of late flights"]
    _close_cached_stores()
    money = lambda v: float(v.replace("$", "").replace(",", "").replace("k", "e3").replace("M", "e6"))  # noqa: E731
    assert money(after) == pytest.approx(2 * money(before), rel=0.02)
    with Store.open(cfg.db_path, read_only=True) as store:
        assert store.get_spec("flights").business.value_per_positive == 3000.0
