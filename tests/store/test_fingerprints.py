"""Window fingerprints counted once and then only where data changed: always equal to a full count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo.datasets import CHURN
from core.modeling.scoring import Predictions
from core.store import Store
from core.store.fingerprints import FINGERPRINT_CACHE
from core.store.fingerprints import FingerprintsFamily

SPEC = CHURN.spec  # monthly windows
COUNT_ALL = FingerprintsFamily._count_windows  # the full count, taken before any test spies on it


def _rows(n: int, start: int, first_day: str) -> pd.DataFrame:
    frame = pd.DataFrame({c: ["x"] * n for c in SPEC.categorical})
    for c in SPEC.numerical:
        frame[c] = np.arange(n, dtype=float)
    frame["_split"] = "production"
    frame["_set"] = "production"
    frame["_ts"] = pd.date_range(first_day, periods=n, freq="D")
    frame["_entity_id"] = [f"E{start + i}" for i in range(n)]
    return frame


def _labels(rows: pd.DataFrame, value: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"entity_id": rows["_entity_id"], "label": value, "label_ts": rows["_ts"] + pd.Timedelta(days=2)}
    )


def _write(store: Store, rows: pd.DataFrame, labels: pd.DataFrame | None = None) -> str:
    n = len(rows)
    preds = {1: Predictions(np.zeros(n), np.full(n, 0.5))}
    return store.write_batch(spec=SPEC, rows=rows, predictions=preds, labels=labels)


def _full(store: Store) -> pd.DataFrame:
    return COUNT_ALL(FingerprintsFamily(store.conn), SPEC, "month")


def _same(store: Store) -> pd.DataFrame:
    got = store.window_fingerprints(spec=SPEC)
    pd.testing.assert_frame_equal(got, _full(store), check_dtype=False)
    return got


@pytest.fixture
def store(any_settings):
    with Store.at(any_settings, create=True) as s:
        s.upsert_model(SPEC)
        yield s


@pytest.fixture
def recounts(monkeypatch):
    """Which windows each call recounted (None: all of them); no clock margin, so a batch written before a
    count is never taken for a new one."""
    monkeypatch.setattr("core.store.fingerprints.CLOCK_MARGIN", pd.Timedelta(0))
    calls: list = []
    original = FingerprintsFamily._count_windows

    def spy(self, spec, unit, *, cur=None, windows=None):
        calls.append(None if windows is None else [pd.Timestamp(w) for w in windows])
        return original(self, spec, unit, cur=cur, windows=windows)

    monkeypatch.setattr(FingerprintsFamily, "_count_windows", spy)
    return calls


def test_fingerprints_recount_only_the_windows_written_to(store, recounts):
    jan_mar = _rows(90, 0, "2020-01-01")
    _write(store, jan_mar, _labels(jan_mar.iloc[:40]))
    first = _same(store)
    assert recounts[0] is None and len(first) == 3  # the first call counts everything
    recounts.clear()
    _same(store)
    assert recounts[:1] == []  # nothing written since: the cache answers, nothing is counted
    recounts.clear()

    april = _rows(20, 1000, "2020-04-01")
    _write(store, april)  # new rows without outcomes: only their window
    _same(store)
    assert recounts[0] == [pd.Timestamp("2020-04-01")]
    recounts.clear()

    # late outcomes: only the window of their rows (outcomes carry their row's time), March here
    store.write_labels(model=SPEC.name, labels=_labels(jan_mar.iloc[60:70]))
    got = _same(store)
    assert recounts[0] == [pd.Timestamp("2020-03-01")]
    assert int(got.loc[got["window_start"] == pd.Timestamp("2020-03-01"), "n_labels"].iloc[0]) == 10
    recounts.clear()

    may = _rows(5, 2000, "2020-05-01")
    _write(store, may, _labels(may))  # rows with their outcomes: their window
    _same(store)
    assert recounts[0] == [pd.Timestamp("2020-05-01")]
    recounts.clear()

    # outcomes of two months at once, some replacing earlier ones: both months and nothing else
    both = pd.concat([jan_mar.iloc[:5], jan_mar.iloc[45:50]])
    corrected = store.write_labels(model=SPEC.name, labels=_labels(both, value=0.0))
    got = _same(store)
    assert recounts[0] == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01")]
    assert float(got["label_sum"].iloc[0]) == 26.0  # 31 January outcomes, 5 corrected to 0
    recounts.clear()

    store.remove_batch(batch_id=corrected, by="ana@example.com")  # a removal recounts everything
    _same(store)
    assert recounts[0] is None


def test_fingerprints_follow_a_purge_and_a_read_only_open(store, any_settings):
    rows = _rows(120, 0, "2020-01-01")
    _write(store, rows, _labels(rows))
    _same(store)
    store.retention.purge_before(model=SPEC.name, cutoff=pd.Timestamp("2020-02-01").to_pydatetime())
    got = _same(store)
    assert pd.Timestamp(got["window_start"].min()) == pd.Timestamp("2020-02-01")
    more = _rows(10, 500, "2020-06-01")
    _write(store, more, _labels(more))
    store.close()
    with Store.at(any_settings, read_only=True) as ro:  # reads the cache, writes nothing
        got = ro.window_fingerprints(spec=SPEC)
        pd.testing.assert_frame_equal(got, _full(ro), check_dtype=False)
        assert pd.Timestamp("2020-06-01") in set(pd.to_datetime(got["window_start"]))


def test_deleting_a_model_forgets_its_counts(store):
    rows = _rows(40, 0, "2020-01-01")
    _write(store, rows, _labels(rows))
    _same(store)
    assert store.conn.fetch(f"SELECT count(*) FROM {FINGERPRINT_CACHE}")[0][0] == 2  # noqa: S608
    store.delete_model(SPEC.name)  # every family, the counts included
    assert store.conn.fetch(f"SELECT count(*) FROM {FINGERPRINT_CACHE}")[0][0] == 0  # noqa: S608
