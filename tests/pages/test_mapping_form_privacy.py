"""The upload page's mapping form under AppTest: each column that looks like personal data gets a choice
(keep, drop, keyed hash) with its reason, starting from the suggestion, and the choice reaches the mapping."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from tests.intake.test_privacy import uploaded
from tests.intake.test_privacy import with_personal_data


def _form(path: str) -> None:
    import pandas as pd
    import streamlit as st

    from core.intake.suggest import suggest_mapping
    from ui.mapping_form import mapping_form

    frame = pd.read_parquet(path)
    choice = mapping_form(frame, suggest_mapping(frame), filename="crm_export.csv", key="crm")
    if choice is not None:
        st.session_state["choice"] = choice


def test_the_form_offers_keep_drop_or_hash_for_each_flagged_column(tmp_path):
    path = tmp_path / "crm.parquet"
    uploaded(with_personal_data(CHURN.load(REPO_ROOT / "data").head(600))).to_parquet(path)
    at = AppTest.from_function(_form, args=(str(path),), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    radios = {r.label.split("`")[1]: r for r in at.radio if r.label.startswith("`")}
    assert set(radios) == {"email", "full_name", "phone", "notes", "last_ticket"}
    assert radios["email"].value == "hash" and radios["notes"].value == "drop"
    assert "look like e-mail addresses" in radios["email"].label
    assert radios["email"].options == ["Keep it as it is", "Drop it (never stored)", "Store a keyed hash instead"]
    radios["phone"].set_value("keep")
    radios["full_name"].set_value("hash")
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    mapping = at.session_state["choice"].mapping
    assert mapping.hashed_columns == ("email", "full_name")
    assert mapping.dropped_columns == ("notes", "last_ticket")
    assert not {"notes", "last_ticket"} & {*mapping.numerical, *mapping.categorical}


def test_a_time_column_mixing_zones_does_not_break_the_import_form(tmp_path):
    """Found by fuzzing: the import form's reference-period picker raised pandas' mixed-time-zone error."""
    frame = CHURN.load(REPO_ROOT / "data").head(300).copy()
    frame["customer_id"] = [f"C{i}" for i in range(len(frame))]
    stamps = ["2018-06-11T23:00:00", "2018-06-01 10:00:00-08:00"] * (len(frame) // 2)
    frame["signed_up_at"] = stamps
    frame["probability"] = 0.3
    path = tmp_path / "mixed.parquet"
    frame.to_parquet(path)
    at = AppTest.from_function(_form, args=(str(path),), default_timeout=60)
    at.run()
    how = next(r for r in at.radio if r.label == "What should ModelPulse do?")
    how.set_value("import").run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_form_says_how_numbers_only_dates_will_be_read(tmp_path):
    """A European export: the form names the order it read the dates in, with the row that shows it, and the
    reference period of an import starts on the right day."""
    frame = CHURN.load(REPO_ROOT / "data").head(300).copy()
    frame["customer_id"] = [f"C{i}" for i in range(len(frame))]
    times = pd.Timestamp("2018-02-01") + pd.to_timedelta(range(len(frame)), unit="h")
    frame["signed_up_at"] = times.strftime("%d/%m/%Y %H:%M")
    frame["probability"] = 0.3
    path = tmp_path / "eu.parquet"
    frame.to_parquet(path)
    at = AppTest.from_function(_form, args=(str(path),), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    notes = [c.value for c in at.caption if "are read day first" in c.value]
    assert notes == [
        "Dates in `signed_up_at` are read day first (day/month/year), as row 290's '13/02/2018 00:00' shows: "
        "'01/02/2018 00:00' is 1 February 2018. Every later file of this model is read the same way."
    ]
    how = next(r for r in at.radio if r.label == "What should ModelPulse do?")
    how.set_value("import").run()
    assert not at.exception, [e.value for e in at.exception]
    start = next(d for d in at.date_input if d.label == "From")
    assert str(start.value) == "2018-02-01"  # month first it would be 2 January
