"""Fuzzed files through every intake path: the reader, later predictions, outcomes, and new models.

Each path draws files from `fuzzing.py` (real churn rows with odd cells, odd and many columns, other
CSV dialects, Parquet, random and corrupted bytes) and demands: only a `ModelPulseError` with one plain
line escapes; a refused file leaves every stored row as it was (counts and a checksum); an accepted
file can be monitored (`refresh`) and shown (the overview card, the model's status) without an error.
Hypothesis is derandomized, so CI tries the same inputs every run. How many inputs each path tried,
refused and accepted is written to `fuzz_counts.json` in pytest's temp dir (or MODELPULSE_FUZZ_COUNTS).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ModelPulseError
from core.intake.create import create_external_model
from core.intake.create import create_trained_model
from core.intake.files import read_table
from core.intake.suggest import suggest_mapping
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.refresh import refresh
from core.schema import ArchConfig
from core.store import Store
from core.views.overview import health_card
from tests.conftest import churn_batch
from tests.conftest import churn_mapping
from tests.conftest import make_settings
from tests.intake.fuzzing import Tally
from tests.intake.fuzzing import base_rows
from tests.intake.fuzzing import check_message
from tests.intake.fuzzing import fresh_ids
from tests.intake.fuzzing import fuzz_settings
from tests.intake.fuzzing import mutated
from tests.intake.fuzzing import snapshot
from tests.intake.fuzzing import written

pytestmark = pytest.mark.slow

COLUMNS = ["customer_id", "signed_up_at", "churn", "tenure", "monthly_charges", "contract", "payment_method"]
KINDS = {
    "customer_id": "id",
    "signed_up_at": "date",
    "churn": "text",
    "tenure": "number",
    "monthly_charges": "number",
    "contract": "text",
    "payment_method": "text",
    "p_churn": "number",
    "label_time": "date",
}
POOL = churn_batch(400)[[*COLUMNS, "senior_citizen"]]
TINY = ArchConfig(hidden=(8,), max_epochs=1)
_DAYS = itertools.count()


@pytest.fixture(scope="module")
def tally(tmp_path_factory):
    """Counts of every path; printed and written to JSON when the module ends."""
    counts = Tally()
    yield counts
    out = Path(os.environ.get("MODELPULSE_FUZZ_COUNTS") or tmp_path_factory.getbasetemp() / "fuzz_counts.json")
    merged = counts.write(out)
    print(f"\nfuzzed inputs ({out}):")
    for path, c in merged.items():
        print(f"  {path}: {c.get('tried', 0)} tried, {c.get('refused', 0)} refused, {c.get('accepted', 0)} accepted")


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    """One store for the whole module: a trained churn model (its own ids) and an imported one (ids from
    each row's time and order). Refused files must leave it as it was, so examples can share it."""
    cfg = make_settings(tmp_path_factory.mktemp("fuzz"))
    frame = churn_batch(400)
    with Store.open(cfg.db_path, create=True) as store:
        create_trained_model(
            store=store,
            settings=cfg,
            mapping=churn_mapping(name="fz_trained"),
            frame=frame,
            source="seed.csv",
            arch=TINY,
            progress=lambda _: None,
        )
        create_external_model(
            store=store,
            mapping=churn_mapping(name="fz_ext", entity=None, id_from="row_order", probabilities=("p_churn",)),
            frame=frame.drop(columns=["customer_id"]).assign(p_churn=0.3),
            source="seed.csv",
            reference_start=pd.Timestamp("2018-04-01"),
            reference_end=pd.Timestamp("2018-04-15"),
            settings=cfg,
        )
        refresh(store=store, settings=cfg, progress=lambda _: None)
    return cfg


def attempt(store: Store, tally: Tally, path: str, fn) -> object | None:
    """Run one step of a path: return its result, or None when it was refused with one sentence and
    the store unchanged. Anything that is not a ModelPulseError propagates and fails the test."""
    before = snapshot(store)
    try:
        result = fn()
    except ModelPulseError as exc:
        message = check_message(exc)
        assert snapshot(store) == before, f"a refused file changed the store: {message}"
        tally.add(path, "refused", message)
        return None
    tally.add(path, "accepted")
    return result


def read(store: Store, tally: Tally, path: str, data: bytes, name: str, cfg) -> pd.DataFrame | None:
    """The upload reader, counted under `path`, then the upload page's guess at the mapping."""
    frame = attempt(store, tally, f"{path}: read_table", lambda: read_table(data, name=name, max_mb=cfg.max_upload_mb))
    if frame is not None:
        suggest_mapping(frame)  # the upload page shows a guess for any file it could read
    return frame


def monitored(store: Store, cfg, model: str) -> None:
    """What comes after an accepted file: monitoring, the overview card and the model's status."""
    refresh(store=store, settings=cfg, models=[model], progress=lambda _: None)
    spec = store.get_spec(model)
    health_card(store, spec)
    store.model_status(model)


@fuzz_settings(150)
@given(data=st.data())
def test_any_file_through_the_reader(tally, data):
    """Random bytes, truncated and corrupted files: read or refused, never a traceback; a frame it returns
    has tidy, unique column names and the upload page can guess a mapping for it."""
    how = data.draw(st.sampled_from(["bytes", "structured"]))
    if how == "bytes":
        raw = data.draw(st.binary(max_size=400))
        name = data.draw(st.sampled_from(["a.csv", "a.parquet", "a.txt", "a.xlsx"]))
    else:
        n = data.draw(st.integers(1, 8))
        frame = data.draw(mutated(base_rows(POOL, n, pd.Timestamp("2018-05-01"), fresh_ids(n)), KINDS))
        raw, name = data.draw(written(frame))
    try:
        frame = read_table(raw, name=name, max_mb=5)
    except ModelPulseError as exc:
        tally.add("reader", "refused", check_message(exc))
        return
    tally.add("reader", "accepted")
    names = list(frame.columns)
    assert len(set(names)) == len(names) and all(n and n == n.lower() for n in names), names
    suggest_mapping(frame)


@fuzz_settings(40)
@given(data=st.data())
def test_fuzzed_prediction_files(fuzz_store, tally, data):
    """Later production rows for an existing model (trained, or imported with made-up ids)."""
    cfg = fuzz_store
    model = data.draw(st.sampled_from(["fz_trained", "fz_ext"]))
    n = data.draw(st.integers(1, 25))
    start = pd.Timestamp("2018-05-01") + pd.Timedelta(days=next(_DAYS) % 90, hours=data.draw(st.integers(0, 23)))
    frame = base_rows(POOL, n, start, fresh_ids(n)).drop(columns=["churn"] if data.draw(st.booleans()) else [])
    if model == "fz_ext":
        frame = frame.drop(columns=["customer_id"]).assign(
            p_churn=[str(p) for p in (0.05 + 0.9 * (i % 7) / 7 for i in range(n))]
        )
    raw, name = data.draw(written(data.draw(mutated(frame, KINDS))))
    with Store.open(cfg.db_path) as store:
        parsed = read(store, tally, "predictions", raw, name, cfg)
        if parsed is None:
            return
        path = f"predictions: log_predictions ({model})"
        result = attempt(
            store,
            tally,
            path,
            lambda: log_predictions(model=model, frame=parsed, store=store, settings=cfg, source=name),
        )
        if result is not None:
            check_message(ModelPulseError(result.message))  # the success sentence is one line too
            monitored(store, cfg, model)


@fuzz_settings(30)
@given(data=st.data())
def test_fuzzed_outcome_files(fuzz_store, tally, data):
    """Outcomes for stored ids (and for ids never scored, odd ids, odd outcomes and odd label times)."""
    cfg = fuzz_store
    with Store.open(cfg.db_path) as store:
        known = store.query_df("SELECT _entity_id FROM rows__fz_trained ORDER BY _row_id")["_entity_id"].tolist()
        ids = data.draw(st.lists(st.sampled_from(known), min_size=1, max_size=20, unique=True))
        outcomes = data.draw(
            st.lists(
                st.sampled_from(["Yes", "No", "yes", "1", "0", "1.0", "No "]), min_size=len(ids), max_size=len(ids)
            )
        )
        frame = pd.DataFrame({"customer_id": ids, "churn": outcomes})
        if data.draw(st.booleans()):
            frame["label_time"] = [
                (pd.Timestamp("2018-09-01") + pd.Timedelta(hours=i)).isoformat() for i in range(len(ids))
            ]
        raw, name = data.draw(written(data.draw(mutated(frame, KINDS))))
        parsed = read(store, tally, "outcomes", raw, name, cfg)
        if parsed is None:
            return
        result = attempt(
            store,
            tally,
            "outcomes: log_labels",
            lambda: log_labels(model="fz_trained", frame=parsed, store=store, settings=cfg, source=name),
        )
        if result is not None:
            monitored(store, cfg, "fz_trained")


@fuzz_settings(25)
@given(data=st.data())
def test_fuzzed_files_for_a_new_imported_model(fuzz_store, tally, data):
    """The upload page's new-model path with a model's own predictions: read, guess, validate, store."""
    cfg = fuzz_store
    n = data.draw(st.integers(60, 140))
    frame = base_rows(POOL, n, pd.Timestamp("2018-01-01"), fresh_ids(n))
    frame["p_churn"] = [str(round(0.02 + 0.96 * ((i * 37) % 101) / 100, 4)) for i in range(n)]
    raw, name = data.draw(written(data.draw(mutated(frame, KINDS))))
    with Store.open(cfg.db_path) as store:
        parsed = read(store, tally, "new imported model", raw, name, cfg)
        if parsed is None:
            return
        model = f"fz_new_{fresh_ids(1, '')[0]}"
        mapping = churn_mapping(name=model, probabilities=("p_churn",), window="week")
        spec = attempt(
            store,
            tally,
            "new imported model: create_external_model",
            lambda: create_external_model(
                store=store,
                mapping=mapping,
                frame=parsed,
                source=name,
                reference_start=pd.Timestamp("2018-01-01"),
                reference_end=pd.Timestamp("2018-01-12"),
                settings=cfg,
            ),
        )
        if spec is not None:
            monitored(store, cfg, model)


@fuzz_settings(4)
@given(data=st.data())
def test_fuzzed_files_for_a_new_trained_model(fuzz_store, tally, data):
    """The new-model path that trains (a tiny network, one epoch): validation, training and monitoring."""
    cfg = fuzz_store
    n = data.draw(st.integers(120, 200))
    frame = base_rows(POOL, n, pd.Timestamp("2018-01-01"), fresh_ids(n))
    raw, name = data.draw(written(data.draw(mutated(frame, KINDS))))
    with Store.open(cfg.db_path) as store:
        parsed = read(store, tally, "new trained model", raw, name, cfg)
        if parsed is None:
            return
        model = f"fz_train_{fresh_ids(1, '')[0]}"
        result = attempt(
            store,
            tally,
            "new trained model: create_trained_model",
            lambda: create_trained_model(
                store=store,
                settings=cfg,
                mapping=churn_mapping(name=model, window="week"),
                frame=parsed,
                source=name,
                arch=TINY,
                progress=lambda _: None,
            ),
        )
        if result is not None:
            monitored(store, cfg, model)
