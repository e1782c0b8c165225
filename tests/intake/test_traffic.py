"""Later predictions and outcomes for an existing model: every refusal leaves the store as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import DataError
from core.intake.files import read_table
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.refresh import refresh
from core.store import Store
from tests.conftest import counts
from tests.conftest import csv_bytes
from tests.conftest import refused


def test_missing_required_column(copied, churn_rows):
    frame = churn_rows.drop(columns=["contract"])
    refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "p.csv has no column `contract`, which is needed as a feature.",
    )


def test_timestamps_that_are_not_dates(copied, churn_rows):
    frame = churn_rows.astype({"signed_up_at": str}).copy()
    frame.loc[frame.index[[1, 5, 9]], "signed_up_at"] = ["yesterday", "soon", "n/a"]
    refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "In p.csv, column `signed_up_at` has 3 values that are not dates, first at row 3 ('yesterday').",
    )


def test_text_in_a_numeric_column(copied, churn_rows):
    frame = read_table(csv_bytes(churn_rows), name="p.csv", max_mb=5)
    frame.loc[[4, 6], "monthly_charges"] = ["about 50", "n.a."]
    refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "In p.csv, column `monthly_charges` has 2 values that are not numbers, first at row 6 ('about 50').",
    )


def test_duplicate_ids_in_a_label_file(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__churn WHERE _split = 'production' LIMIT 5")["_entity_id"]
    labels = pd.DataFrame({"customer_id": [*ids, ids.iloc[1]], "churn": ["Yes", "No", "No", "Yes", "No", "No"]})
    refused(
        copied,
        lambda s: log_labels(model="churn", frame=labels, store=s, source="l.csv"),
        f"In l.csv, column `customer_id` has 1 repeated ids in this label file, first at row 7 ('{ids.iloc[1]}').",
    )


def test_labels_for_unknown_ids(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__churn WHERE _split = 'production' LIMIT 3")["_entity_id"]
    labels = pd.DataFrame({"customer_id": [*ids, "GHOST1", "GHOST2"], "churn": ["Yes", "No", "No", "Yes", "No"]})
    refused(
        copied,
        lambda s: log_labels(model="churn", frame=labels, store=s, source="l.csv"),
        "In l.csv, 2 labels are for ids the model never scored, first at row 5 ('GHOST1').",
    )


def test_label_that_is_not_a_class(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__churn WHERE _split = 'production' LIMIT 2")["_entity_id"]
    labels = pd.DataFrame({"customer_id": ids, "churn": ["Yes", "maybe"]})
    refused(
        copied,
        lambda s: log_labels(model="churn", frame=labels, store=s, source="l.csv"),
        "has 1 values that are not one of the classes No, Yes, first at row 3 ('maybe')",
    )


def test_valid_predictions_then_labels_then_monitoring(copied, churn_rows):
    frame = read_table(csv_bytes(churn_rows.drop(columns=["churn"])), name="p.csv", max_mb=5)
    before = counts(copied)
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
        summary = refresh(store=store, models=["churn"], progress=lambda _: None)
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


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("monthly_charges", ["inf", "-inf"], "column `monthly_charges` has 2 infinite values, first at row 4 ('inf')"),
        ("tenure", ["1e308"], "column `tenure` has 1 number beyond ±1e15, first at row 4 ('1e308')"),
        ("signed_up_at", ["1500-03-01"], "column `signed_up_at` has 1 date outside 1900-01-01 to 2100-12-31"),
        ("signed_up_at", ["3000-01-01 10:00"], "first at row 4 ('3000-01-01 10:00')"),
        (
            "signed_up_at",
            ["2018-04-02T10:00:00+02:00"],
            "mixes time zones: no time zone at row 2 but UTC+02:00 at row 4",
        ),
        ("contract", ["x" * 1_000_000], "column `contract` has 1 value longer than 1,000 characters"),
        ("customer_id", ["y" * 5_000], "column `customer_id` has 1 value longer than 1,000 characters"),
    ],
)
def test_values_that_would_break_a_later_step_are_refused(copied, churn_rows, column, values, expected):
    frame = read_table(csv_bytes(churn_rows), name="p.csv", max_mb=5)
    frame.loc[range(2, 2 + len(values)), column] = values
    message = refused(copied, lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"), expected)
    assert len(message) < 400


def test_the_plausible_date_range_is_a_setting(copied, churn_rows, monkeypatch):
    frame = read_table(csv_bytes(churn_rows), name="p.csv", max_mb=5)
    monkeypatch.setenv("MODELPULSE_LATEST_DATE", "2018-04-05")
    refused(
        copied,
        lambda s: log_predictions(model="churn", frame=frame, store=s, source="p.csv"),
        "dates outside 1900-01-01 to 2018-04-05",
    )


def test_outcomes_that_are_infinite_are_refused(copied):
    with Store.open(copied.db_path, read_only=True) as s:
        ids = s.query_df("SELECT _entity_id FROM rows__hotel WHERE _split = 'production' LIMIT 3")["_entity_id"]
    frame = pd.DataFrame({"booking_id": ids, "avg_price_per_room": ["120", "inf", "95"]})
    refused(
        copied,
        lambda s: log_labels(model="hotel", frame=frame, store=s, source="o.csv"),
        "column `avg_price_per_room` has 1 infinite value, first at row 3",
    )
