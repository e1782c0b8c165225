"""Time windows (day, week or month) over a model's production traffic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

FREQ = {"day": "D", "week": "W-MON", "month": "MS"}


@dataclass(frozen=True, order=True)
class Window:
    """A half-open interval `[start, end)` of production timestamps."""

    start: datetime
    end: datetime

    def label(self, size: str) -> str:
        """Short human label: `12 Jun 2017`, `week of 5 Jun 2017`, `Jun 2017`."""
        if size == "month":
            return f"{self.start:%b %Y}"
        if size == "week":
            return f"week of {self.start:%-d %b %Y}"
        return f"{self.start:%-d %b %Y}"


def window_start(ts: pd.Series | pd.DatetimeIndex, size: str) -> pd.Series:
    """Floor timestamps to the start of their window (weeks start on Monday)."""
    ts = pd.to_datetime(pd.Series(ts))
    if size == "day":
        return ts.dt.floor("D")
    if size == "week":
        day = ts.dt.floor("D")
        return day - pd.to_timedelta(day.dt.weekday, unit="D")
    if size == "month":
        return ts.dt.to_period("M").dt.to_timestamp()
    raise ValueError(f"unknown window size {size!r}")


def next_start(start: pd.Timestamp, size: str) -> pd.Timestamp:
    """The start of the window after the one starting at `start`."""
    if size == "day":
        return start + pd.Timedelta(days=1)
    if size == "week":
        return start + pd.Timedelta(days=7)
    return start + pd.DateOffset(months=1)


def make_window(start: pd.Timestamp, size: str) -> Window:
    """The window that starts at `start`."""
    start = pd.Timestamp(start)
    return Window(start.to_pydatetime(), next_start(start, size).to_pydatetime())
