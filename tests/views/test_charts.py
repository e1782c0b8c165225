"""Charts label their time axis by what the points are, and a month of month-dated data is complete."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.demo.datasets import HOTEL
from core.views.charts import dates_axis
from core.views.kpis import kpi_series


def test_month_starts_read_as_months_and_days_as_days():
    months = pd.Series(pd.date_range("2018-01-01", periods=6, freq="MS"))
    fig = dates_axis(go.Figure(go.Scatter(x=months, y=list(range(6)))), months)
    assert fig.layout.xaxis.tickformat == "%b %Y" and fig.layout.xaxis.hoverformat == "%b %Y"
    weeks = pd.Series(pd.date_range("2018-01-01", periods=6, freq="W-MON"))
    assert dates_axis(go.Figure(), weeks).layout.xaxis.tickformat == "%-d %b %Y"


def test_the_latest_month_of_month_dated_data_is_not_drawn_as_filling_up():
    spec = HOTEL.spec.model_copy(update={"window": "month"})
    days = pd.date_range("2018-01-01", periods=4, freq="MS")
    daily = pd.DataFrame(
        {
            "version": 1,
            "day": days,
            "window_start": days,
            "n_rows": 10,
            "n_labels": 10,
            "stats": [{"n": 10, "n_labelled": 10, "sum_sq_err": 10.0, "sum_abs_err": 5.0}] * 4,
        }
    )
    series = kpi_series(spec, daily, period="window", version=1)
    assert series["complete"].all()
    daily_dates = daily.assign(day=pd.date_range("2018-01-01", periods=4, freq="D"), window_start=days[0])
    assert not kpi_series(spec, daily_dates, period="month", version=1)["complete"].iloc[-1]
