"""Calibration samples: each window keeps a sample of its answered rows, which later windows' estimates read
instead of joining every row of their period with its outcome (core/store/calibration.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo.datasets import CHURN
from core.modeling.scoring import Predictions
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.store import Store
from core.store import rows_table_name
from tests.store.rows import hourly_churn_rows

N = 2_000
LAG = pd.Timedelta(days=3)
MAX_ROWS = Thresholds().estimate_calibration_rows


@pytest.fixture
def store(any_settings):
    """The churn model with N hourly rows, answers and outcomes (3 days late; every third row has none), on
    each backend in turn."""
    rows = hourly_churn_rows(N)  # Jan to Mar 2020: three monthly windows
    answered = rows.iloc[np.arange(N) % 3 != 0]
    labels = pd.DataFrame(
        {"entity_id": answered["_entity_id"], "label": np.arange(len(answered)) % 2, "label_ts": answered["_ts"] + LAG}
    )
    with Store.at(any_settings, create=True) as s:
        s.upsert_model(CHURN.spec)
        s.write_batch(
            spec=CHURN.spec, rows=rows, labels=labels, predictions={1: Predictions(np.zeros(N), np.linspace(0, 1, N))}
        )
        yield s


def _sample(store: Store, start: pd.Timestamp, *, mark: str, rows: int) -> int:
    window = make_window(start, CHURN.spec.window)
    return store.sample_window(spec=CHURN.spec, version=1, start=window.start, end=window.end, mark=mark, rows=rows)


def _windows(store: Store) -> list[pd.Timestamp]:
    return [pd.Timestamp(w) for w in store.window_fingerprints(spec=CHURN.spec)["window_start"]]


def _answered(store: Store) -> pd.DataFrame:
    """Every answered row with its probability, outcome and times, straight from the rows."""
    table = rows_table_name("churn")
    return store.query_df(
        f"""SELECT r._ts, p.probability, l.label, l.label_ts FROM {table} r
            JOIN predictions p ON p.model = 'churn' AND p.version = 1 AND p.row_id = r._row_id
            JOIN labels l ON l.model = 'churn' AND l.entity_id = r._entity_id"""  # noqa: S608
    )


def test_a_whole_sample_reads_exactly_the_answered_rows_of_the_period_known_in_time(store):
    for w in _windows(store):
        _sample(store, w, mark="m", rows=10_000)
    start, end, known_by = pd.Timestamp("2020-01-20"), pd.Timestamp("2020-02-25"), pd.Timestamp("2020-02-20")
    read = store.read_calibration(
        spec=CHURN.spec, version=1, start=start, end=end, known_by=known_by, max_rows=MAX_ROWS
    )
    truth = _answered(store)
    truth = truth[(truth["_ts"] >= start) & (truth["_ts"] < end) & (truth["label_ts"] <= known_by)]
    assert len(read) == len(truth) > 300  # the period spans two windows, and some outcomes were not in yet
    assert (read["_weight"] == 1.0).all()
    got = read.sort_values("_ts", ignore_index=True)
    want = truth.sort_values("_ts", ignore_index=True)
    assert (got["_ts"] == want["_ts"]).all()
    assert np.allclose(got["_probability"], want["probability"]) and (got["_label"] == want["label"]).all()


def test_a_capped_sample_stands_for_its_window_and_is_the_same_every_time(store):
    windows = _windows(store)
    truth = _answered(store)
    counts = truth.groupby(truth["_ts"].dt.to_period("M").dt.start_time).size()
    for w in windows:
        n = _sample(store, w, mark="m", rows=100)
        assert n == counts[w]
    everything = (pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-01"))
    first = store.read_calibration(
        spec=CHURN.spec, version=1, start=everything[0], end=everything[1], known_by=everything[2], max_rows=MAX_ROWS
    )
    assert len(first) == 100 * len(windows)
    per_window = first.groupby(first["_ts"].dt.to_period("M").dt.start_time)["_weight"]
    # each sampled row stands for its window's share: the weights add up to the window's answered rows
    assert np.allclose(per_window.sum().to_numpy(), counts.loc[per_window.sum().index].to_numpy())
    assert set(first["_ts"]) <= set(truth["_ts"])
    for w in windows:  # made again: the same rows
        _sample(store, w, mark="m", rows=100)
    again = store.read_calibration(
        spec=CHURN.spec, version=1, start=everything[0], end=everything[1], known_by=everything[2], max_rows=MAX_ROWS
    )
    pd.testing.assert_frame_equal(first, again)
    # a period larger than the calibration needs weighs as much as max_rows outcomes in all
    capped = store.read_calibration(
        spec=CHURN.spec, version=1, start=everything[0], end=everything[1], known_by=everything[2], max_rows=500
    )
    assert capped["_weight"].sum() == pytest.approx(500)
    assert np.allclose(capped["_weight"] / first["_weight"], 500 / first["_weight"].sum())


def test_marks_are_kept_and_samples_go_with_their_windows_and_model(store):
    windows = _windows(store)
    for w in windows:
        _sample(store, w, mark=f"m{w:%m}", rows=50)
    assert store.calibration_marks(model="churn", version=1) == {w: f"m{w:%m}" for w in windows}
    store.forget_windows(model="churn", version=1, starts=[windows[0].to_pydatetime()])
    assert set(store.calibration_marks(model="churn", version=1)) == set(windows[1:])
    left = store.query_df("SELECT DISTINCT window_start AS w FROM calibration_samples")["w"]
    assert set(pd.to_datetime(left)) == set(windows[1:])
    store.delete_model("churn")
    assert store.query_df("SELECT count(*) AS n FROM calibration_samples")["n"][0] == 0
    assert store.calibration_marks(model="churn", version=1) == {}


def test_retention_deletes_the_samples_of_the_rows_it_deletes(store):
    for w in _windows(store):
        _sample(store, w, mark="m", rows=10_000)
    cutoff = pd.Timestamp("2020-02-10").to_pydatetime()
    store.retention.set_retention(model="churn", days=1, by="maya@startup.com")
    store.retention.purge_before(model="churn", cutoff=cutoff)
    oldest = store.query_df("SELECT min(row_ts) AS t, count(*) AS n FROM calibration_samples")
    assert pd.Timestamp(oldest["t"][0]) >= pd.Timestamp(cutoff) and int(oldest["n"][0]) > 0
