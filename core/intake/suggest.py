"""Guessing what each column of a new file is, for the mapping step to start from."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

ID_HINTS = ("id", "key", "uuid")
TIME_HINTS = ("date", "time", "timestamp", "_at", "day", "created")
TARGET_HINTS = ("target", "label", "outcome", "churn", "y", "class", "status")


@dataclass(frozen=True)
class Suggestion:
    """What a file's columns probably are, for the mapping step to start from."""

    timestamp: str | None
    entity: str | None
    target: str | None
    numerical: list[str]
    categorical: list[str]
    task: str


def _is_numeric(series: pd.Series) -> bool:
    values = series.dropna()
    if values.empty:
        return False
    parsed = pd.to_numeric(values, errors="coerce")
    return bool(parsed.notna().mean() > 0.98)


def _is_datetime(series: pd.Series) -> bool:
    values = series.dropna().astype(str).head(200)
    if values.empty or _is_numeric(values):
        return False
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95)


def suggest_mapping(frame: pd.DataFrame) -> Suggestion:
    """Detect numbers vs categories, and guess the time, id and target columns by name and content."""
    cols = list(frame.columns)
    timestamp = next((c for c in cols if any(h in c for h in TIME_HINTS) and _is_datetime(frame[c])), None)
    timestamp = timestamp or next((c for c in cols if _is_datetime(frame[c])), None)
    entity = next(
        (
            c
            for c in cols
            if c != timestamp and (c.endswith("_id") or c in ID_HINTS) and frame[c].nunique() == len(frame)
        ),
        None,
    )
    target = next((c for c in cols if c in TARGET_HINTS and c not in (timestamp, entity)), None)
    rest = [c for c in cols if c not in (timestamp, entity, target)]
    numerical = [c for c in rest if _is_numeric(frame[c]) and frame[c].nunique() > 2]
    categorical = [c for c in rest if c not in numerical]
    task = "regression"
    if target is not None:
        n = frame[target].nunique()
        task = "binary" if n == 2 else ("multiclass" if 2 < n <= 20 or not _is_numeric(frame[target]) else "regression")
    return Suggestion(timestamp, entity, target, numerical, categorical, task)
