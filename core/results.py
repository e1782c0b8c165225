"""Typed monitoring results: what a check found, in numbers and one plain sentence.

Calculators return :class:`CheckResult` objects, a window's checks travel as one :class:`WindowResult`,
the store maps them to rows (`core.store.mappers`), and alerts, views and pages read them back as a
:class:`Results` table. Nothing downstream ever sees an Evidently object. These types sit on the
ground floor because both the monitoring engine (which makes them) and the store (which keeps them)
need them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

import pandas as pd


class Status(StrEnum):
    """How a checked number compares with its threshold."""

    OK = "ok"
    WARN = "warn"
    ALERT = "alert"
    NOT_ENOUGH_DATA = "not_enough_data"
    NO_LABELS = "no_labels"


class Check(StrEnum):
    """The kinds of check run on each window."""

    DRIFT = "drift"  # one feature's distribution vs the reference
    DRIFT_SHARE = "drift_share"  # share of features that drifted
    PREDICTION_DRIFT = "prediction_drift"
    TARGET_DRIFT = "target_drift"
    PERFORMANCE = "performance"
    ESTIMATED_PERFORMANCE = "estimated_performance"
    OVERFITTING = "overfitting"
    QUALITY = "quality"
    VOLUME = "volume"
    SEGMENT = "segment"  # one group of rows (a column's value or range) against the same group in validation


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One number from one check on one window (or on the training data, for the train/validation gap)."""

    check: Check
    metric: str
    value: float
    status: Status
    message: str
    column: str | None = None
    method: str | None = None
    threshold: float | None = None
    reference: float | None = None
    lower: float | None = None
    upper: float | None = None
    n_rows: int = 0
    details: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in (Status.WARN, Status.ALERT)


@dataclass(frozen=True, kw_only=True)
class WindowResult:
    """All checks of one model version on one time window."""

    model: str
    version: int
    start: datetime
    end: datetime
    n_rows: int
    n_labels: int
    fingerprint: str
    checks: tuple[CheckResult, ...]
    stats: dict = field(default_factory=dict)
    segments: tuple[tuple[str, str, dict], ...] = ()
    """(column, group, statistics) of every group of rows (`core.monitoring.segments`)."""
    daily: tuple[tuple[datetime, dict], ...] = ()
    seconds: float = 0.0

    @property
    def enough_data(self) -> bool:
        return not any(c.status == Status.NOT_ENOUGH_DATA and c.check == Check.VOLUME for c in self.checks)

    def get(self, check: Check, metric: str | None = None, column: str | None = None) -> CheckResult | None:
        """The first result matching check (and metric/column when given)."""
        for c in self.checks:
            if c.check == check and (metric is None or c.metric == metric) and (column is None or c.column == column):
                return c
        return None


def clean(value: float | None) -> float | None:
    """None for NaN/inf so stored numbers are either real or absent."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Results:
    """Stored check results as a DataFrame with filters (NannyML-style result object)."""

    COLUMNS = [
        "model",
        "version",
        "window_start",
        "window_end",
        "check",
        "metric",
        "column",
        "method",
        "value",
        "threshold",
        "reference",
        "lower",
        "upper",
        "status",
        "message",
        "n_rows",
    ]

    def __init__(self, frame: pd.DataFrame) -> None:
        self.data = frame if not frame.empty else pd.DataFrame(columns=self.COLUMNS)

    def filter(
        self,
        *,
        check: str | None = None,
        metric: str | None = None,
        column: str | None = None,
        version: int | None = None,
    ) -> Results:
        """Rows matching every given field."""
        mask = pd.Series(True, index=self.data.index)
        for key, value in (("check", check), ("metric", metric), ("column", column), ("version", version)):
            if value is not None:
                mask &= self.data[key] == value
        return Results(self.data[mask])

    def __len__(self) -> int:
        return len(self.data)

    def to_df(self) -> pd.DataFrame:
        return self.data.copy()
