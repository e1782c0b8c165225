"""The DuckDB store: schema, transactions, bad files and locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from core.demo.datasets import CHURN
from core.errors import StoreError
from core.errors import StoreLockedError
from core.errors import StoreMissingError
from core.modeling.scoring import Predictions
from core.store import SCHEMA_VERSION
from core.store import Store
from core.store import quote_ident


def _rows(n: int, start: int = 0) -> pd.DataFrame:
    spec = CHURN.spec
    frame = pd.DataFrame({c: ["x"] * n for c in spec.categorical})
    for c in spec.numerical:
        frame[c] = np.arange(n, dtype=float)
    frame["_split"] = "production"
    frame["_set"] = "production"
    frame["_ts"] = pd.date_range("2020-01-01", periods=n, freq="h")
    frame["_entity_id"] = [f"E{start + i}" for i in range(n)]
    return frame


@pytest.fixture
def store(any_settings):
    """A store with the churn model, on each backend in turn (a DuckDB file, a DuckLake catalog)."""
    with Store.at(any_settings, create=True) as s:
        s.upsert_model(CHURN.spec)
        yield s


def test_migration_is_idempotent(any_settings):
    with Store.at(any_settings, create=True) as s:
        assert s.schema_version() == SCHEMA_VERSION
        tables = s.conn.tables()
        assert s.migrate() == SCHEMA_VERSION
        assert s.conn.tables() == tables
        assert s.conn.fetch("SELECT count(*) FROM schema_version")[0][0] == SCHEMA_VERSION
    with Store.at(any_settings) as s:  # reopening migrates nothing
        assert s.conn.fetch("SELECT count(*) FROM schema_version")[0][0] == SCHEMA_VERSION


@pytest.fixture(params=["file", "ducklake"])
def empty_settings(request, tmp_path):
    """Settings of a store not made yet, on each backend (a lake in an empty catalog database of its own)."""
    from tests.conftest import make_settings

    if request.param == "file":
        return make_settings(tmp_path)
    from core.config import Settings
    from tests.lakes import create_database
    from tests.lakes import lake_url

    server = request.getfixturevalue("lake_server")
    dbname = f"old_{tmp_path.name[-20:].lower().replace('-', '_')}"
    create_database(server, dbname)
    return Settings.shared_under(lake_url(server, dbname), tmp_path / "shared", seed=7, threads=2)


def test_outcomes_stored_before_schema_11_get_their_rows_time(empty_settings, monkeypatch):
    """A store written before outcomes carried their row's time is brought up with every time filled in, and
    its windows read the same outcomes as before."""
    from core.store import migrations

    any_settings = empty_settings

    older = {v: steps for v, steps in migrations.MIGRATIONS.items() if v < 11}
    monkeypatch.setattr(migrations, "MIGRATIONS", older)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 10)
    rows = _rows(48)  # two days, hourly
    labels = pd.DataFrame({"entity_id": ["E1", "E30", "E47"], "label": [1.0, 0.0, 1.0], "label_ts": rows["_ts"][:3]})
    with Store.at(any_settings, create=True) as s:
        s.upsert_model(CHURN.spec)
        preds = {1: Predictions(prediction=np.zeros(48), probability=np.full(48, 0.2))}
        s.write_batch(spec=CHURN.spec, rows=rows, predictions=preds)
        # outcomes as the code before schema 11 stored them (five columns)
        with s.conn.transaction() as cur, s.conn.registered(cur, labels, "old") as source:
            cur.execute(f"INSERT INTO labels SELECT 'churn', entity_id, label, label_ts, 'old' FROM {source}")  # noqa: S608
        assert s.schema_version() == 10
    monkeypatch.undo()
    with Store.at(any_settings) as s:
        assert s.schema_version() == SCHEMA_VERSION
        times = dict(s.conn.fetch("SELECT entity_id, row_ts FROM labels ORDER BY entity_id"))
        assert times == {e: rows.loc[rows["_entity_id"] == e, "_ts"].iloc[0].to_pydatetime() for e in times}
        assert len(times) == 3
        day = s.read_window(
            spec=CHURN.spec,
            version=1,
            start=pd.Timestamp("2020-01-02").to_pydatetime(),
            end=pd.Timestamp("2020-01-03").to_pydatetime(),
        )
        assert sorted(day.dropna(subset=["_label"])["_entity_id"]) == ["E30", "E47"]


def test_batch_is_written_whole(store):
    preds = {1: Predictions(prediction=np.zeros(5), probability=np.full(5, 0.2))}
    store.write_batch(
        spec=CHURN.spec,
        rows=_rows(5),
        predictions=preds,
        labels=pd.DataFrame({"entity_id": ["E0"], "label": [1.0], "label_ts": [pd.Timestamp("2020-02-01")]}),
    )
    counts = store.counts()
    assert counts["rows__churn"] == 5 and counts["predictions"] == 5 and counts["labels"] == 1


def test_batch_that_fails_midway_leaves_nothing(store):
    good = {1: Predictions(prediction=np.zeros(5), probability=np.full(5, 0.2))}
    store.write_batch(spec=CHURN.spec, rows=_rows(5), predictions=good)
    before = store.counts()
    # rows and the first predictions insert fine; the labels frame then fails to convert
    bad_labels = pd.DataFrame(
        {"entity_id": ["E5"], "label": ["not a number"], "label_ts": [pd.Timestamp("2020-02-01")]}
    )
    with pytest.raises(ValueError):
        store.write_batch(
            spec=CHURN.spec,
            rows=_rows(3, start=5),
            predictions={1: Predictions(np.zeros(3), np.zeros(3))},
            labels=bad_labels,
        )
    assert store.counts() == before
    # and the store still accepts the next good batch
    store.write_batch(spec=CHURN.spec, rows=_rows(2, start=9), predictions={1: Predictions(np.zeros(2), np.zeros(2))})
    assert store.counts()["rows__churn"] == before["rows__churn"] + 2


def test_prediction_length_mismatch_rolls_back(store):
    before = store.counts()
    with pytest.raises(StoreError, match="3 predictions for 4 rows"):
        store.write_batch(spec=CHURN.spec, rows=_rows(4), predictions={1: Predictions(np.zeros(3), np.zeros(3))})
    assert store.counts() == before


def test_missing_store_says_how_to_create_one(tmp_path):
    with pytest.raises(StoreMissingError) as info:
        Store.open(tmp_path / "nope.duckdb")
    assert "make run" in info.value.user_message
    assert not (tmp_path / "nope.duckdb").exists()


def test_corrupt_store_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "bad.duckdb"
    payload = b"this is not a database" * 100
    path.write_bytes(payload)
    with pytest.raises(StoreError, match="not a DuckDB database"):
        Store.open(path)
    assert path.read_bytes() == payload


def test_truncated_store_is_refused(tmp_path, settings):
    store = Store.at(settings, create=True)
    store.upsert_model(CHURN.spec)
    store.write_batch(spec=CHURN.spec, rows=_rows(50), predictions={1: Predictions(np.zeros(50), np.zeros(50))})
    store.close()
    data = store.path.read_bytes()
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(data[:5000])
    with pytest.raises(StoreError) as info:
        Store.open(cut)
    assert "\n" not in info.value.user_message


def test_foreign_duckdb_file_is_not_adopted(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE payroll (who VARCHAR, amount DOUBLE)")
    con.execute("INSERT INTO payroll VALUES ('a', 1)")
    con.close()
    with pytest.raises(StoreError, match="not a ModelPulse store"):
        Store.open(path)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0] == 1


def test_second_writer_gets_a_sentence_not_a_traceback(settings):
    """The file's one-writer rule (a shared store has none: tests/store/test_many_writers.py)."""
    Store.at(settings, create=True).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(settings.db_path)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as info:
            Store.open(settings.db_path)
        assert f"process {holder.pid}" in info.value.user_message
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)
    time.sleep(0.1)
    with Store.open(settings.db_path):
        pass


def test_identifiers_are_quoted_and_validated():
    assert quote_ident("weird name; drop") == '"weird name; drop"'
    with pytest.raises(StoreError):
        quote_ident('bad"name')


def test_promotion_is_recorded(store):
    for v in (1, 2):
        store.add_version(
            model="churn",
            version=v,
            weights_path=None,
            weights_sha256=None,
            reference_set="r",
            metadata={},
            live=(v == 1),
        )
    store.set_live(model="churn", version=2, by="ana@example.com", note="better recall")
    assert store.live_version("churn").version == 2
    history = store.promotions("churn")
    assert history.iloc[0]["promoted_by"] == "ana@example.com"
    assert list(history["version"]) == [2, 1]


def test_a_monitoring_process_holds_duckdb_to_its_memory_setting(tmp_path, monkeypatch):
    from core.config import load_settings
    from core.errors import ConfigError
    from tests.conftest import make_settings

    cfg = make_settings(tmp_path)
    with Store.at(cfg, create=True) as s:
        s.limit_memory(cfg.monitor_memory)
        assert cfg.monitor_memory == "256MB"
        # DuckDB reports the limit in MiB: 256 MB = 244.1 MiB
        assert s.conn.fetch("SELECT current_setting('memory_limit')")[0][0] == "244.1 MiB"
        with pytest.raises(StoreError, match='looks like 256MB or 1GB; got "256MB\'; DROP"'):
            s.limit_memory("256MB'; DROP")
    monkeypatch.setenv("MODELPULSE_MONITOR_MEMORY", "512MB")
    assert load_settings().monitor_memory == "512MB"
    monkeypatch.setenv("MODELPULSE_MONITOR_MEMORY", "a lot")
    with pytest.raises(ConfigError, match="monitor_memory must look like 256MB or 1GB; got 'a lot'"):
        load_settings()
