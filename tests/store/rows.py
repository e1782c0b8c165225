"""Rows the store tests write: the churn model's production rows, an hour apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.demo.datasets import CHURN
from core.store.layout import stored_rows


def hourly_churn_rows(n: int, first: int = 0) -> pd.DataFrame:
    """`n` production rows of the churn model (every input the same), the k-th at 2020-01-01 plus `first + k`
    hours, with id `E<first + k>`."""
    features = pd.DataFrame(
        {c: np.ones(n) for c in CHURN.spec.numerical} | {c: ["a"] * n for c in CHURN.spec.categorical}
    )
    ts = pd.date_range("2020-01-01", periods=n, freq="h") + pd.Timedelta(hours=first)
    return stored_rows(
        features, ts=ts, entity_ids=[f"E{first + i}" for i in range(n)], split="production", reference_set="r"
    )
