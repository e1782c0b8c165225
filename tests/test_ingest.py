"""Bring your own data: every invalid file gets one exact sentence and leaves the store's counts unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from core.byo import Mapping
from core.byo import create_external_model
from core.byo import create_trained_model
from core.byo import log_labels
from core.byo import log_predictions
from core.config import REPO_ROOT
from core.demo import CHURN
from core.demo import FLIGHTS
from core.errors import DataError
from core.errors import StoreLockedError
from core.inbox import process_inbox
from core.ingest import read_upload
from core.ingest import safe_csv
from core.monitoring.runner import run_monitoring
from core.schema import ArchConfig
from core.schema import BusinessConfig
from core.store import Store
from tests.conftest import make_settings


@pytest.fixture
def copied(demo_settings, tmp_path):
    """A private copy of the reduced demo store (so writes here touch no other test)."""
    cfg = make_settings(tmp_path / "copy")
    shutil.copy(demo_settings.db_path, cfg.db_path)
    shutil.copytree(demo_settings.models_dir, cfg.models_dir)
    return cfg


def churn_batch(n: int = 300) -> pd.DataFrame:
    """Real churn rows as a customer would send them: new ids, a signup time, features, the outcome."""
    frame = CHURN.load(REPO_ROOT / "data").head(n).copy()
    frame["customer_id"] = [f"NEW{i:04d}" for i in range(len(frame))]
    frame["signed_up_at"] = pd.Timestamp("2018-04-02") + pd.to_timedelta(np.arange(len(frame)) * 90, unit="m")
    return frame


@pytest.fixture(scope="module")
def churn_rows() -> pd.DataFrame:
    return churn_batch(300)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def _counts(cfg) -> dict:
    with Store.open(cfg.db_path, read_only=True) as s:
        return s.counts()


def _refused(cfg, fn, match: str) -> str:
    before = _counts(cfg)
    with Store.open(cfg.db_path) as store, pytest.raises(DataError) as info:
        fn(store)
    assert _counts(cfg) == before, "a refused file changed the store"
    message = info.value.user_message
    assert match in message, message
    assert "\n" not in message and "Traceback" not in message
    return message


# ----------------------------------------------------------------------------- reading files
def test_empty_file():
    with pytest.raises(DataError, match="The file x.csv is empty."):
        read_upload(b"", filename="x.csv", max_mb=5)
    with pytest.raises(DataError, match="has a header but no rows"):
        read_upload(b"a,b\n", filename="x.csv", max_mb=5)


def test_file_over_the_size_limit():
    with pytest.raises(DataError, match=r"is 2 MB; the limit is 1 MB \(setting MODELPULSE_MAX_UPLOAD_MB\)"):
        read_upload(b"a\n" + b"1\n" * 1_000_000, filename="big.csv", max_mb=1)


def test_text_that_is_not_utf8(churn_rows):
    data = _csv(churn_rows.head(20)).replace(b"Month-to-month", "Mo\u00f1th".encode("latin-1"), 1)
    with pytest.raises(DataError, match=r"not UTF-8 text: the first bad byte is at byte [\d,]+ \(line \d+\)"):
        read_upload(data, filename="latin1.csv", max_mb=5)


def test_header_row_repeated_in_the_data(churn_rows):
    head = churn_rows.head(5)
    data = _csv(head) + _csv(head)  # two exports pasted together
    with pytest.raises(DataError, match=r"Row 7 of pasted.csv repeats the header row"):
        read_upload(data, filename="pasted.csv", max_mb=5)


def test_column_names_that_clash_after_normalising():
    with pytest.raises(DataError, match=r"columns `Signup Date` and `signup_date` both become `signup_date`"):
        read_upload(b"Signup Date,signup_date\n2020-01-01,2020-01-02\n", filename="x.csv", max_mb=5)


def test_formulas_are_kept_as_text_and_escaped_on_export(churn_rows, copied):
    rows = churn_rows.head(120).copy()
    rows["payment_method"] = rows["payment_method"].astype(object)
    rows.loc[rows.index[0], "payment_method"] = '=HYPERLINK("http://evil","x")'
    frame = read_upload(_csv(rows), filename="f.csv", max_mb=5)
    with Store.open(copied.db_path) as store:
        log_predictions(model="churn", frame=frame, store=store, source="f.csv")
        stored = store.query_df("SELECT payment_method FROM rows__churn WHERE _entity_id = 'NEW0000'")
    assert stored.iloc[0, 0] == '=HYPERLINK("http://evil","x")'
    exported = safe_csv(stored).decode()
    assert "'=HYPERLINK" in exported and "\n=HYPERLINK" not in exported


# ----------------------------------------------------------------------------- predictions and labels
def test_missing_required_column(copied, churn_rows):
    frame = churn_rows.drop(columns=["contract"])
    _refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "p.csv has no column `contract`, which is needed as a feature.",
    )


def test_timestamps_that_are_not_dates(copied, churn_rows):
    frame = churn_rows.astype({"signed_up_at": str}).copy()
    frame.loc[frame.index[[1, 5, 9]], "signed_up_at"] = ["yesterday", "soon", "n/a"]
    _refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "In p.csv, column `signed_up_at` has 3 values that are not dates, first at row 3 ('yesterday').",
    )


def test_text_in_a_numeric_column(copied, churn_rows):
    frame = read_upload(_csv(churn_rows), filename="p.csv", max_mb=5)
    frame.loc[[4, 6], "monthly_charges"] = ["about 50", "n.a."]
    _refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "In p.csv, column `monthly_charges` has 2 values that are not numbers, first at row 6 ('about 50').",
    )


def test_duplicate_ids_in_a_label_file(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__churn WHERE _split = 'production' LIMIT 5")["_entity_id"]
    labels = pd.DataFrame({"customer_id": [*ids, ids.iloc[1]], "churn": ["Yes", "No", "No", "Yes", "No", "No"]})
    _refused(
        copied,
        lambda s: log_labels(model="churn", frame=labels, store=s, source="l.csv"),
        f"In l.csv, column `customer_id` has 1 repeated ids in this label file, first at row 7 ('{ids.iloc[1]}').",
    )


def test_labels_for_unknown_ids(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__churn WHERE _split = 'production' LIMIT 3")["_entity_id"]
    labels = pd.DataFrame({"customer_id": [*ids, "GHOST1", "GHOST2"], "churn": ["Yes", "No", "No", "Yes", "No"]})
    _refused(
        copied,
        lambda s: log_labels(model="churn", frame=labels, store=s, source="l.csv"),
        "In l.csv, 2 labels are for ids the model never scored, first at row 5 ('GHOST1').",
    )


def test_label_that_is_not_a_class(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__churn WHERE _split = 'production' LIMIT 2")["_entity_id"]
    labels = pd.DataFrame({"customer_id": ids, "churn": ["Yes", "maybe"]})
    _refused(
        copied,
        lambda s: log_labels(model="churn", frame=labels, store=s, source="l.csv"),
        "has 1 values that are not one of the classes No, Yes, first at row 3 ('maybe')",
    )


def test_valid_predictions_then_labels_then_monitoring(copied, churn_rows):
    frame = read_upload(_csv(churn_rows.drop(columns=["churn"])), filename="p.csv", max_mb=5)
    before = _counts(copied)
    with Store.open(copied.db_path) as store:
        result = log_predictions(model="churn", frame=frame.assign(new_field="x"), store=store, source="p.csv")
        assert result.rows == 300
        assert result.message.endswith("Not used by the model, so not stored: `new_field`.")
        after = store.counts()
        assert after["rows__churn"] == before["rows__churn"] + 300
        assert after["predictions"] == before["predictions"] + 600  # live and shadow version
        with pytest.raises(DataError, match=r"300 ids in p.csv were stored before, first at row 2 \('NEW0000'\)"):
            log_predictions(model="churn", frame=frame, store=store, source="p.csv")
        labels = churn_rows[["customer_id", "churn"]].assign(label_time="2018-06-01")
        assert log_labels(model="churn", frame=labels, store=store, source="l.csv").labels == 300
        assert store.counts()["labels"] == before["labels"] + 300
        summary = run_monitoring(store=store, models=["churn"], progress=lambda _: None)
        assert summary.computed["churn"] >= 2
        windows = store.read_window_stats(model="churn", version=1)
        assert pd.Timestamp("2018-04-01") in set(windows["window_start"])


def test_code_api_opens_the_configured_store(copied, churn_rows, monkeypatch):
    import core

    monkeypatch.setenv("MODELPULSE_DB", str(copied.db_path))
    monkeypatch.setenv("MODELPULSE_MODELS_DIR", str(copied.models_dir))
    frame = churn_rows.drop(columns=["churn"]).head(10)
    assert core.log_predictions(model="churn", frame=frame).rows == 10
    assert core.log_labels(model="churn", frame=churn_rows[["customer_id", "churn"]].head(10)).labels == 10


# ----------------------------------------------------------------------------- new models
def _mapping(**kw) -> Mapping:
    base = dict(
        name="acme_churn",
        title="Acme churn",
        task="binary",
        timestamp="signed_up_at",
        entity="customer_id",
        target="churn",
        numerical=("tenure", "monthly_charges"),
        categorical=("contract", "payment_method"),
        positive_class="Yes",
        window="month",
        business=BusinessConfig(
            kind="revenue_at_risk",
            value_column="monthly_charges",
            entity="customer",
            positive="customers who leave",
            unit="revenue",
        ),
    )
    base.update(kw)
    return Mapping(**base)


def test_target_with_one_class_is_refused(copied, churn_rows):
    frame = churn_rows.assign(churn="No")
    _refused(
        copied,
        lambda s: create_trained_model(
            store=s, settings=copied, mapping=_mapping(), frame=frame, source="t.csv", progress=lambda _: None
        ),
        "In t.csv, column `churn` holds only one class (`No`), so there is nothing to learn or to measure.",
    )


def test_probabilities_outside_zero_and_one(copied, churn_rows):
    p = np.linspace(0, 1.3, len(churn_rows))
    frame = churn_rows.assign(p_churn=p)
    n, first = int((p > 1).sum()), int(np.flatnonzero(p > 1)[0])
    mapping = _mapping(name="acme_ext", probabilities=("p_churn",))
    _refused(
        copied,
        lambda s: create_external_model(
            store=s,
            mapping=mapping,
            frame=frame,
            source="e.csv",
            reference_start=pd.Timestamp("2018-04-01"),
            reference_end=pd.Timestamp("2018-04-10"),
        ),
        f"In e.csv, column `p_churn` has {n} probabilities outside 0 to 1, first at row {first + 2} ({p[first]}).",
    )


def test_multiclass_probabilities_that_do_not_add_up(copied, churn_rows):
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], size=len(churn_rows))
    p[3] = [0.5, 0.2, 0.1]
    frame = churn_rows.assign(p_month=p[:, 0], p_one=p[:, 1], p_two=p[:, 2])
    mapping = _mapping(
        name="acme_contract",
        task="multiclass",
        target="contract",
        categorical=("payment_method",),
        probabilities=("p_month", "p_one", "p_two"),
        positive_class=None,
        classes=("Month-to-month", "One year", "Two year"),
        business=BusinessConfig(),
    )
    _refused(
        copied,
        lambda s: create_external_model(
            store=s,
            mapping=mapping,
            frame=frame,
            source="m.csv",
            reference_start=pd.Timestamp("2018-04-01"),
            reference_end=pd.Timestamp("2018-04-10"),
        ),
        "probabilities in `p_month`, `p_one`, `p_two` do not add up to 1 in 1 rows, "
        "first at row 5 (they add up to 0.8)",
    )


def test_import_external_predictions_then_labels(copied, churn_rows):
    rng = np.random.default_rng(1)
    frame = churn_rows.drop(columns=["churn"]).assign(p_churn=rng.random(len(churn_rows)))
    mapping = _mapping(
        name="acme_ext", target=None, label_column="churn", probabilities=("p_churn",), classes=("No", "Yes")
    )
    with Store.open(copied.db_path) as store:
        spec = create_external_model(
            store=store,
            mapping=mapping,
            frame=frame,
            source="e.csv",
            reference_start=pd.Timestamp("2018-04-02"),
            reference_end=pd.Timestamp("2018-04-09"),
        )
        assert spec.source == "external"
        version = store.live_version("acme_ext")
        assert version.weights_path is None and version.metadata["external"]
        outcomes = churn_rows[["customer_id", "churn"]]
        prod_ids = store.query_df("SELECT _entity_id FROM rows__acme_ext WHERE _split = 'production'")["_entity_id"]
        result = log_labels(
            model="acme_ext", frame=outcomes[outcomes["customer_id"].isin(prod_ids)], store=store, source="l.csv"
        )
        assert result.labels == len(prod_ids)
        summary = run_monitoring(store=store, models=["acme_ext"], progress=lambda _: None)
        assert summary.computed["acme_ext"] >= 1
        perf = store.read_results(model="acme_ext", version=1, check="performance")
        assert perf["value"].notna().any()


def test_multiclass_end_to_end(tmp_path):
    """Train on real flights with three delay classes, monitor, and read per-class results."""
    cfg = make_settings(tmp_path / "mc")
    frame = FLIGHTS.load(REPO_ROOT / "data")
    frame = frame[frame["departs_at"] < "2013-03-01"].sample(6000, random_state=0).sort_values("departs_at")
    raw = pd.read_parquet(
        REPO_ROOT / "data" / "flights.parquet",
        columns=["carrier", "flight", "origin", "year", "month", "day", "sched_dep_time", "arr_delay"],
    )
    raw["flight_id"] = (
        raw["carrier"]
        + raw["flight"].astype(str)
        + "-"
        + raw["origin"]
        + "-"
        + (raw["year"] * 10000 + raw["month"] * 100 + raw["day"]).astype(str)
        + "-"
        + raw["sched_dep_time"].astype(str).str.zfill(4)
    )
    delay = frame["flight_id"].map(raw.set_index("flight_id")["arr_delay"])
    frame = frame[delay.notna()].assign(
        delay=pd.cut(delay[delay.notna()], [-1e9, 15, 60, 1e9], labels=["on time", "late", "very late"]).astype(str)
    )
    mapping = Mapping(
        name="delay_class",
        title="Delay class",
        task="multiclass",
        timestamp="departs_at",
        entity="flight_id",
        target="delay",
        numerical=("distance", "hour", "visib", "wind_speed"),
        categorical=("carrier", "origin", "dest"),
        window="week",
        min_rows=100,
    )
    with Store.open(cfg.db_path, create=True) as store:
        spec, quality = create_trained_model(
            store=store,
            settings=cfg,
            mapping=mapping,
            frame=frame,
            source="delays.csv",
            arch=ArchConfig(hidden=(32,), max_epochs=5),
            progress=lambda _: None,
        )
        assert spec.classes == ("late", "on time", "very late")
        assert {q["split"] for q in quality} == {"validation", "test"}
        run_monitoring(store=store, models=["delay_class"], progress=lambda _: None)
        perf = store.read_results(model="delay_class", version=1, check="performance")
        per_class = set(perf["metric"])
        assert {"accuracy", "f1", "f1[late]", "f1[on time]", "f1[very late]"} <= per_class
        drift = store.read_results(model="delay_class", version=1, check="prediction_drift")
        assert (drift["method"] == "jensenshannon").all()
    # the pages handle a multiclass model too
    from streamlit.testing.v1 import AppTest

    from tests.test_pages import APP
    from tests.test_pages import _close_cached_stores

    os.environ["MODELPULSE_DB"] = str(cfg.db_path)
    try:
        for page in ("pages/overview.py", "pages/health.py", "pages/kpis.py", "pages/alerts.py", "pages/report.py"):
            at = AppTest.from_file(APP, default_timeout=120)
            at.query_params["model"] = "delay_class"
            at.run()
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        assert any("Delay class" in m.value for m in at.markdown) or at.title
    finally:
        _close_cached_stores()
        del os.environ["MODELPULSE_DB"]


# ----------------------------------------------------------------------------- shell and inbox
def test_cli_ingest_and_the_second_writer(copied, churn_rows, tmp_path):
    path = tmp_path / "batch.csv"
    churn_rows.drop(columns=["churn"]).head(50).to_csv(path, index=False)
    env = {
        "MODELPULSE_DB": str(copied.db_path),
        "MODELPULSE_MODELS_DIR": str(copied.models_dir),
        "PATH": "/usr/bin:/bin",
        "DO_NOT_TRACK": "1",
    }
    ok = subprocess.run(
        [sys.executable, "-m", "core", "ingest", str(path), "--model", "churn", "--no-monitor"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Stored 50 predictions for Customer churn." in ok.stdout
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(copied.db_path)!r})
        print("ready", flush=True)
        sys.stdin.read()"""),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        second = subprocess.run(
            [sys.executable, "-m", "core", "ingest", str(path), "--model", "churn"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        with pytest.raises(StoreLockedError):
            Store.open(copied.db_path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    assert f"is open in another process (process {holder.pid})" in second.stderr
    assert "drop the file into" in second.stderr


def test_inbox_imports_good_files_and_explains_bad_ones(copied, churn_rows):
    folder = copied.inbox_dir / "churn"
    (folder / "labels").mkdir(parents=True)
    good = churn_rows.drop(columns=["churn"]).head(40)
    good.to_csv(folder / "batch1.csv", index=False)
    bad = good.assign(customer_id=[f"X{i}" for i in range(40)]).drop(columns=["tenure"])
    bad.to_csv(folder / "batch2.csv", index=False)
    (folder / "batch3.csv.tmp").write_text("still being written")
    import os
    import time

    old = time.time() - 10
    for p in folder.glob("*.csv"):
        os.utime(p, (old, old))
    with Store.open(copied.db_path) as store:
        items = process_inbox(store=store, settings=copied, monitor=False)
        assert store.known_entities(model="churn", ids=list(good["customer_id"])) == set(good["customer_id"])
    assert [(i.path.parent.name, i.ok) for i in items] == [("done", True), ("failed", False)]
    error = next(folder.glob("failed/*.error.txt")).read_text()
    assert "has no column `tenure`" in error
    assert (folder / "batch3.csv.tmp").exists()


def test_cli_score_and_train_a_new_version(copied, churn_rows, tmp_path):
    path = tmp_path / "new.csv"
    churn_rows.drop(columns=["churn"]).head(40).to_csv(path, index=False)
    env = {
        "MODELPULSE_DB": str(copied.db_path),
        "MODELPULSE_MODELS_DIR": str(copied.models_dir),
        "PATH": "/usr/bin:/bin",
        "DO_NOT_TRACK": "1",
        "MODELPULSE_THREADS": "2",
    }
    out = subprocess.run(
        [sys.executable, "-m", "core", "score", "--model", "churn", "--data", str(path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Stored 40 predictions for Customer churn. Scored by v1 (live) and 1 shadow version(s)." in out.stdout
    trained = subprocess.run(
        [sys.executable, "-m", "core", "train", "--model", "churn", "--max-epochs", "3"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr
    assert "Saved churn v3" in trained.stdout
    with Store.open(copied.db_path, read_only=True) as store:
        assert [v.version for v in store.list_versions("churn")] == [1, 2, 3]
        assert store.live_version("churn").version == 1  # a new version starts in the shadow
        missing = store.rows_without_predictions(spec=store.get_spec("churn"), version=3)
        assert missing.empty  # it scored every stored row, so it compares on the same traffic
