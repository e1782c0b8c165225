"""The mapping ModelPulse proposes for a new file: ids, leaks, windows and reference periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.demo.datasets import HOTEL
from core.intake.files import read_table
from core.intake.suggest import default_reference
from core.intake.suggest import propose_window
from core.intake.suggest import suggest_mapping
from tests.conftest import csv_bytes


def _as_uploaded(frame: pd.DataFrame) -> pd.DataFrame:
    return read_table(csv_bytes(frame), name="export.csv", max_mb=50)


def test_a_file_without_an_id_is_numbered_and_never_keyed_by_time_or_free_text():
    frame = HOTEL.load(REPO_ROOT / "data").drop(columns=["booking_id"]).head(2000)
    frame["note"] = np.where(np.arange(len(frame)) % 3 == 0, "late check-in", None)  # repeats and gaps
    guess = suggest_mapping(_as_uploaded(frame))
    assert guess.timestamp == "arrival_at"
    assert guess.entity is None and guess.id_from == "row_order"
    with_ids = _as_uploaded(CHURN.load(REPO_ROOT / "data").head(500))
    assert suggest_mapping(with_ids).entity == "customer_id"


def test_the_target_and_columns_that_are_the_target_are_left_out_of_the_inputs():
    frame = HOTEL.load(REPO_ROOT / "data").head(3000).copy()
    target = frame["avg_price_per_room"]
    frame["price_again"] = target
    share = np.random.default_rng(1).uniform(0.2, 0.8, len(frame))
    frame["base_price"] = (target * share).round(4)  # with the fee, adds up to the target; neither does alone
    frame["service_fee"] = target - frame["base_price"]
    frame["price_in_eur"] = target * 0.92 + np.random.default_rng(0).normal(0, 0.01, len(frame))
    guess = suggest_mapping(_as_uploaded(frame.rename(columns={"avg_price_per_room": "target"})))
    assert guess.target == "target" and guess.task == "regression"
    inputs = set(guess.numerical) | set(guess.categorical)
    assert "target" not in inputs
    for leak in ("price_again", "base_price", "service_fee", "price_in_eur"):
        assert leak in guess.leaks and leak not in inputs, leak
    assert "is the same as the target" in guess.leaks["price_again"]
    assert "add up to the target" in guess.leaks["base_price"]
    assert "follows the target almost exactly" in guess.leaks["price_in_eur"]
    assert "lead_time" in inputs and "lead_time" not in guess.leaks


def test_a_flag_recorded_with_the_outcome_is_flagged_for_a_yes_no_model():
    frame = CHURN.load(REPO_ROOT / "data").copy()
    frame["account_closed"] = np.where(frame["churn"] == "Yes", "closed", "open")
    guess = suggest_mapping(_as_uploaded(frame))
    assert guess.target == "churn" and guess.task == "binary"
    assert "account_closed" in guess.leaks and "alone gives the outcome" in guess.leaks["account_closed"]
    assert "contract" not in guess.leaks and "contract" in guess.categorical


def test_the_window_follows_the_data_granularity_and_span():
    months = pd.Series(pd.date_range("2020-01-01", periods=36, freq="MS").repeat(50))
    assert propose_window(months) == "month"
    hourly = pd.Series(pd.date_range("2024-01-01", periods=24 * 60, freq="h"))
    assert propose_window(hourly) in ("day", "week")
    sparse = pd.Series(pd.date_range("2020-01-01", periods=300, freq="D"))
    assert propose_window(sparse) == "month"


def test_the_reference_period_is_a_share_of_the_data_never_one_day_nor_all_of_it():
    ts = pd.Series(pd.date_range("2024-01-01", periods=90 * 24, freq="h"))
    start, end = default_reference(ts)
    assert start == pd.Timestamp("2024-01-01").date()
    assert 20 <= (end - start).days <= 35
    one_day = pd.Series(pd.date_range("2024-01-01 08:00", periods=10, freq="min"))
    assert default_reference(one_day)[1] == one_day.iloc[0].date()


def test_a_whole_number_column_with_gaps_does_not_break_the_leak_check():
    """Found by fuzzing: text of whole numbers with empty cells reads as Int64, which cannot hold a median."""
    n = 61  # 60 numbers and a gap: a median of 29.5
    frame = pd.DataFrame(
        {
            "churn": ["Yes", "No"] * 30 + ["Yes"],
            "tenure": pd.array([str(i) if i != 5 else None for i in range(n)], dtype="string"),
            "plan": ["a"] * n,
        }
    )
    guess = suggest_mapping(frame)
    assert guess.target == "churn" and "tenure" in guess.numerical


def test_a_column_named_for_what_happened_is_guessed_as_the_outcome():
    frame = CHURN.load(REPO_ROOT / "data").head(500)
    for name in ("Churned?", "is_fraud", "Has Converted"):
        guess = suggest_mapping(_as_uploaded(frame.rename(columns={"churn": name})))
        assert guess.target == name.strip("?").lower().replace(" ", "_") and guess.task == "binary", name
    plain = suggest_mapping(_as_uploaded(frame.rename(columns={"churn": "plan_tier"})))
    assert plain.target is None


def test_the_words_for_a_row_and_for_what_the_model_looks_for_come_from_the_files_names():
    """A TRUE/FALSE `churned` column made the KPI page say "Share not among the 'TRUE' outcomes" and "Cases
    flagged"; the names say "churned customers"."""
    from core.intake.suggest import entity_noun
    from core.intake.suggest import positive_words

    assert [entity_noun(c) for c in ("customer_id", "order_number", "customerid", "id", "kundennummer", None)] == [
        "customer",
        "order",
        "customer",
        "case",
        "case",
        "case",
    ]
    assert positive_words(target="churned", value="TRUE", entity="customer") == "churned customers"
    assert positive_words(target="is_fraud", value="1", entity="case") == "cases marked fraud"
    assert positive_words(target="churn", value="Yes", entity="customer") == "customers who churn"
    assert positive_words(target="renew", value="1", entity="subscription") == "subscriptions that renew"
    assert positive_words(target="status", value="late", entity="flight") == "late flights"
    assert positive_words(target="grade", value="A+", entity="case") == "'A+' outcomes"


def test_empty_and_constant_columns_are_left_out_and_no_longer_break_the_leak_check():
    """An export's empty `Notes` column made suggest_mapping raise ("boolean value of NA is ambiguous") as soon as
    the file had a target: the upload page showed a traceback."""
    frame = _as_uploaded(CHURN.load(REPO_ROOT / "data").head(500).assign(notes=None, currency="usd"))
    guess = suggest_mapping(frame)
    assert guess.target == "churn"
    assert guess.idle == {"notes": "`notes` is empty in every row.", "currency": "`currency` holds 'usd' in every row."}
    assert not {"notes", "currency"} & (set(guess.numerical) | set(guess.categorical))
    assert "contract" in guess.categorical


def test_the_leak_check_takes_any_target_a_founder_can_pick():
    """Picking a column of `inf` as a number target raised from the leak check (its spread is NA)."""
    from core.intake.suggest import leaky_columns

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": [str(v) for v in rng.normal(size=60)], "bad": ["inf"] * 60, "none": [None] * 60})
    for target in frame.columns:
        for task in ("binary", "multiclass", "regression"):
            rest = [c for c in frame.columns if c != target]
            assert leaky_columns(frame.astype("str"), target=target, task=task, columns=rest) == {}
