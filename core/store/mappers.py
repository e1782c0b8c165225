"""Typed results to table rows, in one place (NannyML keeps the same idea in `io/db/mappers.py`).

Each function takes what a calculator or a rule produced and returns the frame or parameter list
one table takes, with the column types the table declares.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import astuple
from dataclasses import fields
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from core.predictions import Predictions
from core.results import CheckResult
from core.results import WindowResult
from core.store.types import AlertRow

ALERT_COLUMNS = tuple(f.name for f in fields(AlertRow))


def json_default(value: object) -> object:
    """JSON for the numpy and time values results carry; non-finite numbers become null."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        v = float(value)
        return v if np.isfinite(v) else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_json(value: object) -> str:
    """One stored JSON document; NaN and infinities become null (JSON has no words for them)."""
    return json.dumps(_finite(value), default=json_default, allow_nan=False)


def check_frame(
    *,
    model: str,
    version: int,
    scope: str,
    start: datetime | None,
    end: datetime | None,
    checks: Sequence[CheckResult],
) -> pd.DataFrame:
    """`check_results` rows of one window's (or, with no start, one version's) checks."""
    n = len(checks)

    def numbers(attr: str) -> pd.Series:
        return pd.to_numeric(pd.Series([getattr(c, attr) for c in checks], dtype=object), errors="coerce").astype(
            "float64"
        )

    return pd.DataFrame(
        {
            "model": pd.Series([model] * n, dtype="string"),
            "version": pd.Series([int(version)] * n, dtype="int32"),
            "scope": scope,
            "window_start": pd.to_datetime(pd.Series([start] * n, dtype=object)).astype("datetime64[us]"),
            "window_end": pd.to_datetime(pd.Series([end] * n, dtype=object)).astype("datetime64[us]"),
            "check_kind": pd.Series([str(c.check) for c in checks], dtype="string"),
            "metric": pd.Series([c.metric for c in checks], dtype="string"),
            "column_name": pd.Series([c.column for c in checks], dtype="string"),
            "method": pd.Series([c.method for c in checks], dtype="string"),
            "value": numbers("value"),
            "threshold": numbers("threshold"),
            "reference": numbers("reference"),
            "lower": numbers("lower"),
            "upper": numbers("upper"),
            "status": pd.Series([str(c.status) for c in checks], dtype="string"),
            "message": pd.Series([c.message for c in checks], dtype="string"),
            "n_rows": pd.Series([c.n_rows for c in checks], dtype="int64"),
            "details": [to_json(c.details) if c.details else None for c in checks],
        }
    )


def window_row(result: WindowResult, *, scope: str, computed_at: datetime) -> list:
    """The `monitor_windows` bookkeeping row of one computed window."""
    return [
        result.model,
        int(result.version),
        scope,
        result.start,
        result.end,
        int(result.n_rows),
        int(result.n_labels),
        result.fingerprint,
        computed_at,
        float(result.seconds),
    ]


def window_stats_row(result: WindowResult) -> list:
    """The `window_stats` row: the window's sufficient statistics as JSON."""
    return [
        result.model,
        int(result.version),
        result.start,
        result.end,
        int(result.n_rows),
        int(result.n_labels),
        to_json(result.stats),
    ]


def daily_frame(result: WindowResult) -> pd.DataFrame:
    """`daily_stats` rows: one per day of the window."""
    days = pd.DataFrame(
        {
            "model": result.model,
            "version": int(result.version),
            "day": pd.to_datetime([d for d, _ in result.daily]).date,
            "window_start": pd.Timestamp(result.start),
            "n_rows": [int(s["n"]) for _, s in result.daily],
            "n_labels": [int(s["n_labelled"]) for _, s in result.daily],
            "stats": [to_json(s) for _, s in result.daily],
        }
    )
    days["window_start"] = days["window_start"].astype("datetime64[us]")
    return days


def segment_frame(
    model: str, version: int, segments: Sequence[tuple[str, str, dict]], *, window_start: Any = None
) -> pd.DataFrame:
    """`segment_stats` rows of one window, or `segment_reference` rows (with each group's position) when
    no window is given."""
    frame = pd.DataFrame(
        {
            "model": model,
            "version": int(version),
            "column_name": [c for c, _, _ in segments],
            "segment": [g for _, g, _ in segments],
            "n_rows": [int(s.get("n", 0)) for _, _, s in segments],
            "n_labels": [int(s.get("n_labelled", 0)) for _, _, s in segments],
            "stats": [to_json(s) for _, _, s in segments],
        }
    )
    if window_start is not None:
        frame.insert(2, "window_start", pd.Timestamp(window_start))
        frame["window_start"] = frame["window_start"].astype("datetime64[us]")
    else:
        frame.insert(4, "position", range(len(frame)))
    return frame


def predictions_frame(
    *, model: str, version: int, row_ids: Any, ts: Any, entity_ids: Any, pred: Predictions, batch_id: str
) -> pd.DataFrame:
    """One version's outputs for a set of stored rows, shaped like the `predictions` table."""
    n = len(row_ids)
    frame = pd.DataFrame(
        {
            "model": model,
            "version": int(version),
            "row_id": np.asarray(row_ids, dtype="int64"),
            "ts": pd.to_datetime(pd.Series(ts)).astype("datetime64[us]").to_numpy(),
            "entity_id": pd.Series(entity_ids).astype("string").to_numpy(),
            "prediction": np.asarray(pred.prediction, dtype="float64"),
            "probability": np.asarray(pred.probability, dtype="float64")
            if pred.probability is not None
            else np.full(n, np.nan),
            "batch_id": batch_id,
        }
    )
    if pred.scores is not None:
        frame["scores"] = list(np.asarray(pred.scores, dtype="float64"))
    return frame


def alert_values(alert: AlertRow) -> list:
    """The `alerts` row of one alert, in :data:`ALERT_COLUMNS` order."""
    return list(astuple(alert))
