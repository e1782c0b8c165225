"""Nothing the store can hold breaks monitoring: windows full of odd values become findings, not crashes.

Validation keeps these values out of the store; here they are written straight into it (as another tool
or an older version could), and a property test draws which odd values land in which columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from core.predictions import Predictions
from core.refresh import refresh
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.store import Store
from core.store import stored_rows
from tests.conftest import make_settings

SPEC = ModelSpec(
    name="odd",
    title="Odd values",
    task="binary",
    target="y",
    timestamp="ts",
    entity="id",
    numerical=("a", "b"),
    categorical=("c",),
    classes=("no", "yes"),
    positive_class="yes",
    window="day",
    min_rows=20,
    source="external",
    probability_columns=("p",),
    business=BusinessConfig(kind="cost_per_event", value_per_positive=10.0, entity="order", positive="returns"),
)
ODD_NUMBERS = [np.inf, -np.inf, np.nan, 1e308, -1e308, 0.0, 1e-300]
ODD_TEXT = ["", " ", "x" * 100_000, "=SUM(A1)", "\u0000", None]
ODD_ANSWERS = [np.nan, np.inf, -0.5, 1.5]


def _rows(n: int, start: pd.Timestamp, rng: np.random.Generator, split: str) -> tuple[pd.DataFrame, np.ndarray]:
    features = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(size=n), "c": rng.choice(list("xyz"), n)})
    ts = start + pd.to_timedelta(rng.uniform(0, 24 * 3600, n), unit="s")
    ids = [f"{split}-{start:%Y%m%d}-{i}" for i in range(n)]
    y = (rng.uniform(size=n) < 0.3).astype(float)
    rows = stored_rows(features, ts=ts, entity_ids=ids, split=split, reference_set="reference-1", target=y)
    return rows, y


def _store(root) -> Store:
    store = Store.open(make_settings(root).db_path, create=True)
    rng = np.random.default_rng(0)
    ref, y = _rows(400, pd.Timestamp("2024-01-01"), rng, "validation")
    p = np.clip(0.3 + 0.2 * (y - 0.3) + rng.normal(0, 0.1, len(y)), 0.01, 0.99)
    store.create_model(
        spec=SPEC,
        version=1,
        weights_path=None,
        weights_sha256=None,
        reference_set="reference-1",
        metadata={"external": True, "features": list(SPEC.features)},
        rows=ref,
        predictions={1: Predictions(prediction=(p >= 0.5).astype(float), probability=p)},
        labels=None,
        source="test",
        by="test",
    )
    return store


@st.composite
def windows(draw):
    """Three production days; in each, some rows get odd values in some columns."""
    days = []
    for _ in range(3):
        days.append(
            {
                "a": draw(st.sampled_from(ODD_NUMBERS)),
                "b": draw(st.sampled_from(ODD_NUMBERS)),
                "c": draw(st.sampled_from(ODD_TEXT)),
                "p": draw(st.sampled_from([None, *ODD_ANSWERS])),
                "label": draw(st.sampled_from([None, np.inf, -np.inf, 1e308, np.nan, 7.0])),
                "share": draw(st.sampled_from([0.05, 0.5, 1.0])),
                "rows": draw(st.sampled_from([5, 60])),
            }
        )
    return days


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(days=windows())
def test_monitoring_and_alerts_survive_any_stored_value(tmp_path_factory, days):
    store = _store(tmp_path_factory.mktemp("odd"))
    rng = np.random.default_rng(1)
    wrote_odd_number = False
    try:
        for k, day in enumerate(days):
            rows, y = _rows(day["rows"], pd.Timestamp("2024-02-01") + pd.Timedelta(days=k), rng, "production")
            hit = rng.uniform(size=len(rows)) < day["share"]
            wrote_odd_number |= bool(hit.any()) and any(abs(day[c]) > 1e15 for c in ("a", "b"))
            for col in ("a", "b", "c"):
                rows[col] = rows[col].astype(object)
                rows.loc[hit, col] = day[col]
            p = rng.uniform(0.05, 0.95, len(rows))
            if day["p"] is not None:
                p[hit] = day["p"]
            labels = pd.DataFrame({"entity_id": rows["_entity_id"], "label": y, "label_ts": rows["_ts"]})
            if day["label"] is not None:
                labels.loc[hit, "label"] = day["label"]
            labels = labels[labels["label"].notna()]  # the labels table cannot hold an empty outcome
            preds = Predictions(prediction=(np.nan_to_num(p) >= 0.5).astype(float), probability=p)
            store.write_batch(spec=SPEC, rows=rows, predictions={1: preds}, labels=labels, source=f"day {k}")
        summary = refresh(store=store, progress=lambda _: None)
        assert summary.computed["odd"] == len(days)
        results = store.read_results(model="odd", version=1)
        assert len(results) and results["message"].str.len().max() < 2_000
        odd = results[results["metric"] == "unusable_values"]
        if wrote_odd_number:
            assert len(odd) >= 1 and odd["message"].str.contains("impossibly large").any()
        alerts = store.list_alerts(model="odd")
        for text in alerts["what"].tolist() + alerts["cost"].tolist():
            assert "nan" not in text.lower().split() and "inf" not in text.lower().split(), text
    finally:
        store.close()
