"""New models from a file: trained ones and imported predictions, binary and multiclass."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.demo.datasets import FLIGHTS
from core.intake.create import create_external_model
from core.intake.create import create_trained_model
from core.intake.mapping import Mapping
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.refresh import refresh
from core.schema import ArchConfig
from core.schema import BusinessConfig
from core.store import Store
from tests.conftest import churn_mapping
from tests.conftest import make_settings
from tests.conftest import refused


def _external(mapping: Mapping, frame: pd.DataFrame, source: str):
    """Creating an imported model from `frame`, its first week of April 2018 as the reference, on a store."""
    return lambda s: create_external_model(
        store=s,
        mapping=mapping,
        frame=frame,
        source=source,
        reference_start=pd.Timestamp("2018-04-01"),
        reference_end=pd.Timestamp("2018-04-10"),
    )


def test_target_with_one_class_is_refused(copied, churn_rows):
    frame = churn_rows.assign(churn="No")
    refused(
        copied,
        lambda s: create_trained_model(
            store=s, settings=copied, mapping=churn_mapping(), frame=frame, source="t.csv", progress=lambda _: None
        ),
        "In t.csv, column `churn` holds only one class (`No`), so there is nothing to learn or to measure.",
    )


def test_probabilities_outside_zero_and_one(copied, churn_rows):
    p = np.linspace(0, 1.3, len(churn_rows))
    frame = churn_rows.assign(p_churn=p)
    n, first = int((p > 1).sum()), int(np.flatnonzero(p > 1)[0])
    mapping = churn_mapping(name="acme_ext", probabilities=("p_churn",))
    refused(
        copied,
        _external(mapping, frame, "e.csv"),
        f"In e.csv, column `p_churn` has {n} probabilities outside 0 to 1, first at row {first + 2} ({p[first]}).",
    )


def test_multiclass_probabilities_that_do_not_add_up(copied, churn_rows):
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], size=len(churn_rows))
    p[3] = [0.5, 0.2, 0.1]
    frame = churn_rows.assign(p_month=p[:, 0], p_one=p[:, 1], p_two=p[:, 2])
    mapping = churn_mapping(
        name="acme_contract",
        task="multiclass",
        target="contract",
        categorical=("payment_method",),
        probabilities=("p_month", "p_one", "p_two"),
        positive_class=None,
        classes=("Month-to-month", "One year", "Two year"),
        business=BusinessConfig(),
    )
    refused(
        copied,
        _external(mapping, frame, "m.csv"),
        "probabilities in `p_month`, `p_one`, `p_two` do not add up to 1 in 1 rows, "
        "first at row 5 (they add up to 0.8)",
    )


def test_import_external_predictions_then_labels(copied, churn_rows):
    rng = np.random.default_rng(1)
    frame = churn_rows.drop(columns=["churn"]).assign(p_churn=rng.random(len(churn_rows)))
    mapping = churn_mapping(
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
        summary = refresh(store=store, models=["acme_ext"], progress=lambda _: None)
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
        refresh(store=store, models=["delay_class"], progress=lambda _: None)
        perf = store.read_results(model="delay_class", version=1, check="performance")
        per_class = set(perf["metric"])
        assert {"accuracy", "f1", "f1[late]", "f1[on time]", "f1[very late]"} <= per_class
        drift = store.read_results(model="delay_class", version=1, check="prediction_drift")
        assert (drift["method"] == "jensenshannon").all()
    # the pages handle a multiclass model too
    from streamlit.testing.v1 import AppTest

    from tests.pages.test_pages import APP
    from tests.pages.test_pages import _close_cached_stores

    os.environ["MODELPULSE_DB"] = str(cfg.db_path)
    try:
        for page in (
            "screens/overview.py",
            "screens/health.py",
            "screens/kpis.py",
            "screens/alerts.py",
            "screens/report.py",
        ):
            at = AppTest.from_file(APP, default_timeout=120)
            at.query_params["model"] = "delay_class"
            at.run()
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        assert any("Delay class" in m.value for m in at.markdown) or at.title
    finally:
        _close_cached_stores()
        del os.environ["MODELPULSE_DB"]


def test_a_file_without_ids_trains_then_takes_later_predictions_and_outcomes(tmp_path):
    from tests.conftest import churn_batch

    cfg = make_settings(tmp_path / "noid")
    frame = churn_batch(1200).drop(columns=["customer_id"])
    mapping = churn_mapping(entity=None, id_from="row_order", window="week")
    with Store.open(cfg.db_path, create=True) as store:
        spec, _ = create_trained_model(
            store=store,
            settings=cfg,
            mapping=mapping,
            frame=frame,
            source="export.csv",
            arch=ArchConfig(hidden=(16,), max_epochs=2),
            progress=lambda _: None,
        )
        assert spec.entity == "modelpulse_id" and spec.id_from == "row_order"
        later = churn_batch(1500).drop(columns=["customer_id"]).iloc[1200:]
        later["signed_up_at"] = later["signed_up_at"] + pd.Timedelta(days=400)
        sent = log_predictions(model="acme_churn", frame=later.drop(columns=["churn"]), store=store, source="may.csv")
        assert sent.rows == 300
        outcomes = log_labels(model="acme_churn", frame=later[["signed_up_at", "churn"]], store=store, source="o.csv")
        assert outcomes.labels == 300
    again = refused(
        cfg,
        lambda s: log_predictions(model="acme_churn", frame=later.drop(columns=["churn"]), store=s),
        "were stored before",
    )
    assert "may have been sent already" in again


def test_ids_from_columns_that_do_not_tell_rows_apart_are_refused(tmp_path):
    from tests.conftest import churn_batch

    cfg = make_settings(tmp_path / "hash")
    frame = churn_batch(400).drop(columns=["customer_id"])
    mapping = churn_mapping(entity=None, id_from="hash", id_columns=("contract", "payment_method"))
    Store.open(cfg.db_path, create=True).close()
    refused(
        cfg,
        lambda s: create_trained_model(store=s, settings=cfg, mapping=mapping, frame=frame, source="f.csv"),
        "the columns `contract`, `payment_method` do not tell rows apart",
    )


def test_a_yes_outcome_that_is_not_one_of_the_targets_values_is_refused(copied, churn_rows):
    """It used to fall back to the last class in sorted order: `ja` / `nein` with `1` typed made `nein` the
    outcome the model looks for, silently."""
    frame = churn_rows.assign(churn=churn_rows["churn"].map({"Yes": "ja", "No": "nein"}), p_churn=0.3)
    mapping = churn_mapping(name="acme_ext", probabilities=("p_churn",), positive_class="1")
    refused(
        copied,
        _external(mapping, frame, "e.csv"),
        "The 'yes' outcome `1` is not one of the values of `churn` (`ja`, `nein`); pick the one the model looks for.",
    )


def test_a_us_spreadsheet_export_imports_with_its_amounts_and_percent_probabilities(copied, churn_rows):
    """Amounts as `$1,234.50`, probabilities as `87.5%`, outcomes as TRUE/FALSE and a totals row: the numbers
    stored are the numbers meant, and the totals row is not a customer."""
    from core.intake.files import read_table

    rng = np.random.default_rng(3)
    p = rng.integers(0, 1001, len(churn_rows)) / 1000
    shown = churn_rows.assign(
        monthly_charges=churn_rows["monthly_charges"].map(lambda v: f"${v * 20:,.2f}"),  # over $1,000 for some
        churn=churn_rows["churn"].map({"Yes": "TRUE", "No": "FALSE"}),
        p_churn=[f"{v * 100:.1f}%" for v in p],
    )
    data = shown.to_csv(index=False) + ",,,,,,,,\nTotal,,,,,,,,\n"
    frame = read_table(data.encode(), name="us.csv", max_mb=5)
    assert "`monthly_charges`" in frame.attrs["read_as"] and "`p_churn`" in frame.attrs["read_as"]
    mapping = churn_mapping(name="acme_ext", probabilities=("p_churn",), positive_class="TRUE")
    with Store.open(copied.db_path) as store:
        _external(mapping, frame, "us.csv")(store)
        stored = store.query_df(
            "SELECT r._entity_id AS customer_id, r.monthly_charges, p.probability FROM rows__acme_ext r "
            "JOIN predictions p ON p.model = 'acme_ext' AND p.row_id = r._row_id ORDER BY r._entity_id"
        )
    expected = churn_rows.assign(charges=churn_rows["monthly_charges"] * 20, p=p).sort_values("customer_id")
    assert len(stored) == len(churn_rows)
    assert np.allclose(stored["monthly_charges"], expected["charges"].round(2), atol=1e-9)
    assert np.allclose(stored["probability"], expected["p"], atol=1e-12)


def test_an_input_empty_in_every_row_trains_and_is_monitored(tmp_path):
    """A founder can tick an empty column as a number input: validation lets it in, so training must take it.
    sklearn's yardstick raised "window shape cannot be larger than input array shape" on it."""
    from core.intake.files import read_table

    cfg = make_settings(tmp_path / "empty")
    frame = CHURN.load(REPO_ROOT / "data").head(1500).copy()
    frame["signed_up_at"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(frame)) * 5, unit="h")
    upload = read_table(frame.assign(notes=None, region="US").to_csv(index=False).encode(), name="f.csv")
    mapping = churn_mapping(
        numerical=("tenure", "monthly_charges", "notes"),
        categorical=("contract", "region"),
        window="month",
        min_rows=50,
    )
    with Store.open(cfg.db_path, create=True) as store:
        spec, quality = create_trained_model(
            store=store,
            settings=cfg,
            mapping=mapping,
            frame=upload.head(1000),
            source="f.csv",
            arch=ArchConfig(hidden=(16,), max_epochs=3),
            progress=lambda _: None,
        )
        assert {q["split"] for q in quality} == {"validation", "test"}
        later = upload.iloc[1000:]
        log_predictions(model=spec.name, frame=later.drop(columns=["churn"]), store=store, settings=cfg, source="g.csv")
        log_labels(model=spec.name, frame=later[["customer_id", "churn"]], store=store, source="l.csv")
        assert refresh(store=store, models=[spec.name], progress=lambda _: None).computed[spec.name] >= 2
        said = store.query_df(
            "SELECT message FROM check_results WHERE model = ? AND column_name = 'notes' AND metric = ?",
            [spec.name, "out_of_range_share"],
        )["message"]
    assert len(said) and (said == "`notes` had no values in training, so there is no range to compare with.").all()
