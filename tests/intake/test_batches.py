"""Taking an import back: one batch's rows, predictions and outcomes go in one transaction; the
corrected file can then be sent, and monitoring matches the store again."""

from __future__ import annotations

import pytest

from core.errors import StoreError
from core.intake.batches import list_batches
from core.intake.batches import remove_batch
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.refresh import refresh
from core.store import Store
from tests.conftest import counts


def test_a_wrong_file_is_taken_back_and_the_corrected_one_goes_in(copied, churn_rows):
    before = counts(copied)
    with Store.open(copied.db_path) as store:
        refresh(store=store, progress=lambda _: None)
        windows_before = store.computed_windows(model="churn", version=1, scope="full")
        sent = log_predictions(model="churn", frame=churn_rows, store=store, source="april.csv", by="ana")
        refresh(store=store, models=["churn"], progress=lambda _: None)
        assert len(store.computed_windows(model="churn", version=1, scope="full")) > len(windows_before)
        listed = list_batches(store, model="churn")
        first = listed.iloc[0]
        assert first["id"] == sent.batch_id and first["source"] == "april.csv" and first["by"] == "ana"
        assert first["rows"] == 300 + 300 and first["removable"]

        removal = remove_batch(store, batch_id=sent.batch_id, by="ana")
        assert "300 rows with their 600 predictions and 300 outcomes" in removal.message
        # the April window held only this file: its results are gone, the other windows are as they were
        assert store.computed_windows(model="churn", version=1, scope="full") == windows_before
        assert list_batches(store, model="churn").iloc[0]["removed"].endswith("by ana")
    after = counts(copied)
    assert after == {**before, "batches": before["batches"] + 1}  # the batch stays on record, marked removed

    with Store.open(copied.db_path) as store:
        again = log_predictions(model="churn", frame=churn_rows, store=store, source="april-fixed.csv")
        assert again.rows == 300
        with pytest.raises(StoreError, match="was already removed"):
            store.remove_batch(batch_id=sent.batch_id, by="ana")


def test_an_outcomes_batch_takes_only_its_outcomes(copied, churn_rows):
    with Store.open(copied.db_path) as store:
        log_predictions(model="churn", frame=churn_rows.drop(columns=["churn"]), store=store, source="p.csv")
        before = store.counts()
        sent = log_labels(model="churn", frame=churn_rows[["customer_id", "churn"]], store=store, source="o.csv")
        assert store.counts()["labels"] == before["labels"] + 300
        removal = remove_batch(store, batch_id=sent.batch_id, by="ana")
        assert removal.message.startswith(f"Removed batch {sent.batch_id}: 300 outcomes")
        assert store.counts()["labels"] == before["labels"]
        assert store.counts()["rows__churn"] == before["rows__churn"]


def test_the_rows_a_model_was_made_from_cannot_be_removed_alone(copied):
    with Store.open(copied.db_path) as store:
        reference = store.list_batches(model="churn").query("kind == 'reference'").iloc[0]["id"]
        with pytest.raises(StoreError, match="go with the model or its version"):
            store.remove_batch(batch_id=reference, by="ana")
        with pytest.raises(StoreError, match="Say who is removing"):
            store.remove_batch(batch_id=reference, by=" ")
