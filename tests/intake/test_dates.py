"""Numbers-only dates (`01/02/2018`): read in the order the column (or the model's first file) shows, never half one
way and half the other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.intake.dates import guess_times
from core.intake.dates import parse_timestamps
from core.intake.files import read_table
from core.intake.suggest import suggest_mapping
from core.intake.traffic import log_predictions
from core.store import Store
from tests.conftest import churn_batch
from tests.conftest import churn_mapping
from tests.conftest import csv_bytes
from tests.conftest import refused
from tests.intake.test_create import _external


def _read(values: list[str], order=None) -> list[pd.Timestamp]:
    return parse_timestamps(pd.DataFrame({"t": values}), "t", source="f.csv", date_order=order).tolist()


def _message(values: list[str], order=None) -> str:
    with pytest.raises(DataError) as info:
        _read(values, order)
    return info.value.user_message


def test_one_day_past_the_12th_makes_the_whole_column_day_first():
    # pandas alone reads the first value as 2 January and the second as 13 February
    assert _read(["01/02/2018", "13/02/2018 10:30", "05.03.2018", "7-3-18"]) == [
        pd.Timestamp("2018-02-01"),
        pd.Timestamp("2018-02-13 10:30"),
        pd.Timestamp("2018-03-05"),
        pd.Timestamp("2018-03-07"),
    ]


def test_a_month_first_column_stays_month_first_and_other_forms_are_untouched():
    assert _read(["01/02/2018", "02/13/2018", "2018-02-05", "2018-02-05T10:00:00"]) == [
        pd.Timestamp("2018-01-02"),
        pd.Timestamp("2018-02-13"),
        pd.Timestamp("2018-02-05"),
        pd.Timestamp("2018-02-05 10:00"),
    ]
    # a day equal to its month reads the same either way, so it decides nothing and is not ambiguous
    assert _read(["01/01/2018", "03/03/2018"]) == [pd.Timestamp("2018-01-01"), pd.Timestamp("2018-03-03")]


def test_a_column_written_both_ways_is_refused_naming_both_rows():
    message = _message(["01/02/2018", "13/02/2018", "02/13/2018"])
    assert message == (
        "In f.csv, column `t` has dates written day first (row 3: '13/02/2018') and dates written month first "
        "(row 4: '02/13/2018'). Write them all one way, best year first (2018-02-13), and send the file again."
    )


def test_dates_no_value_can_place_are_refused_unless_the_model_knows_its_order():
    assert "read as two different days" in _message(["01/02/2018", "03/04/2018"])
    assert "(row 2)" in _message(["01/02/2018", "03/04/2018"])
    assert _read(["01/02/2018", "03/04/2018"], order="day") == [pd.Timestamp("2018-02-01"), pd.Timestamp("2018-04-03")]
    assert _read(["01/02/2018", "03/04/2018"], order="month") == [
        pd.Timestamp("2018-01-02"),
        pd.Timestamp("2018-03-04"),
    ]
    message = _message(["01/02/2018", "02/13/2018"], order="day")
    assert "writes dates month first (row 3: '02/13/2018')" in message
    assert "this model's files write them day first (day/month/year)" in message


def test_the_guess_for_the_mapping_step_follows_the_column_and_never_raises():
    assert guess_times(pd.Series(["01/02/2018", "13/02/2018"])).tolist() == [
        pd.Timestamp("2018-02-01"),
        pd.Timestamp("2018-02-13"),
    ]
    both = guess_times(pd.Series(["01/02/2018", "13/02/2018", "02/13/2018"]))
    assert len(both) == 3 and both.notna().sum() >= 2  # a guess: the checks refuse the column later, with a sentence


def test_the_suggestion_carries_the_sentence_for_the_mapping_step():
    frame = pd.DataFrame({"order_id": ["a", "b", "c"], "ordered_on": ["01/02/2018", "03/04/2018", "05/06/2018"]})
    note = suggest_mapping(frame).dates
    assert note.problem and "no date in the file is past the 12th" in note.sentence
    frame["ordered_on"] = ["01/02/2018", "03/04/2018", "25/06/2018"]
    note = suggest_mapping(frame).dates
    assert not note.problem
    assert note.sentence.startswith("Dates in `ordered_on` are read day first (day/month/year), as row 4's")
    assert suggest_mapping(frame.assign(ordered_on=["2018-02-01", "2018-04-03", "2018-06-25"])).dates is None


def _day_first_upload(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """`frame` as a European spreadsheet exports it (dates day first), read back the way an upload is."""
    written = frame.assign(signed_up_at=frame["signed_up_at"].dt.strftime("%d/%m/%Y %H:%M"))
    return read_table(csv_bytes(written), name=name)


def test_a_model_keeps_its_first_files_order_for_every_later_file(copied):
    rows = churn_batch(400)
    first, later = rows.iloc[:300], rows.iloc[300:].copy()
    assert first["signed_up_at"].dt.day.max() > 12  # the first file shows its order
    rng = np.random.default_rng(1)
    upload = _day_first_upload(first.drop(columns=["churn"]).assign(p_churn=rng.random(300).round(4)), "first.csv")
    mapping = churn_mapping(
        name="eu_churn", target=None, label_column="churn", probabilities=("p_churn",), classes=("No", "Yes")
    )
    with Store.open(copied.db_path) as store:
        spec = _external(mapping, upload, "first.csv")(store)
        assert spec.date_order == "day" and store.get_spec("eu_churn").date_order == "day"
        stored = store.query_df("SELECT _entity_id, _ts FROM rows__eu_churn ORDER BY _entity_id")
        expected = first.set_index("customer_id")["signed_up_at"].dt.floor("min")
        assert (stored.set_index("_entity_id")["_ts"] == expected.loc[stored["_entity_id"]].to_numpy()).all()

        # a later file of early-in-the-month days only: nothing in it tells the order, the model does
        later["signed_up_at"] = pd.Timestamp("2018-06-01") + pd.to_timedelta(np.arange(len(later)) * 2, unit="h")
        assert later["signed_up_at"].dt.day.max() <= 12
        sent = later.drop(columns=["churn"]).assign(p_churn=rng.random(len(later)).round(4))
        log_predictions(model="eu_churn", frame=_day_first_upload(sent, "june.csv"), store=store, source="june.csv")
        june = store.query_df("SELECT min(_ts) AS lo, max(_ts) AS hi FROM rows__eu_churn WHERE _ts >= '2018-05-01'")
        assert june["lo"].iloc[0] == pd.Timestamp("2018-06-01")
        assert june["hi"].iloc[0] == later["signed_up_at"].max()
    # a file written the other way is refused and changes nothing
    other = later.assign(customer_id=[f"US{i:04d}" for i in range(len(later))])
    other["signed_up_at"] = pd.Timestamp("2018-07-13") + pd.to_timedelta(np.arange(len(other)), unit="h")
    us = read_table(
        csv_bytes(
            other.drop(columns=["churn"]).assign(
                p_churn=0.5, signed_up_at=other["signed_up_at"].dt.strftime("%m/%d/%Y %H:%M")
            )
        ),
        name="us.csv",
    )
    refused(
        copied,
        lambda s: log_predictions(model="eu_churn", frame=us, store=s, source="us.csv"),
        "In us.csv, column `signed_up_at` writes dates month first (row 2: '07/13/2018 00:00'), but this model's "
        "files write them day first (day/month/year).",
    )


def test_unix_times_from_a_database_export_are_read_as_utc_times(copied):
    """An API or database dump writes `created` as seconds (or milliseconds) since 1970: it was refused as
    "not dates", and never guessed as the time column."""
    rows = churn_batch(300)
    seconds = (rows["signed_up_at"].astype("datetime64[s]").astype("int64")).astype(str)
    assert _read(seconds.tolist()[:3]) == rows["signed_up_at"].dt.floor("s").tolist()[:3]
    millis = [f"{s}123" for s in seconds[:2]]
    assert _read(millis) == [t + pd.Timedelta(milliseconds=123) for t in rows["signed_up_at"].dt.floor("s")[:2]]
    assert "not dates" in _message([seconds[0], seconds[1] + "000"])  # seconds and milliseconds mixed
    frame = pd.DataFrame({"order_id": ["a", "b"], "created": ["1704412800", "1707782400"], "phone": ["2015550123"] * 2})
    guess = suggest_mapping(frame)
    assert guess.timestamp == "created" and "phone" not in (guess.timestamp, guess.entity)
    assert guess.dates.sentence == (
        "`created` holds Unix times (seconds since 1 January 1970, UTC): '1704412800' is 5 January 2024 00:00 UTC."
    )
    assert suggest_mapping(frame.rename(columns={"created": "reference"})).timestamp is None  # no time in its name
    # a model whose file holds Unix times stores the same instants as one written as dates
    upload = read_table(csv_bytes(rows.assign(signed_up_at=seconds)), name="dump.csv")
    with Store.open(copied.db_path) as store:
        _external(churn_mapping(name="dump_ext", probabilities=("p",)), upload.assign(p="0.3"), "dump.csv")(store)
        stored = store.query_df("SELECT _entity_id, _ts FROM rows__dump_ext ORDER BY _entity_id")
    expected = rows.set_index("customer_id")["signed_up_at"].dt.floor("s")
    assert stored.set_index("_entity_id")["_ts"].equals(
        expected.loc[stored["_entity_id"]].rename("_ts").rename_axis("_entity_id")
    )


def test_a_spreadsheets_date_numbers_are_read_as_the_dates_they_are():
    """A date cell left in the General format exports as its date number (`45304`, days since 30 December 1899;
    `45304.5` is noon): it was refused as "not dates"."""
    rows = churn_batch(50)
    days = (rows["signed_up_at"] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    assert _read([f"{d:.6f}" for d in days[:5]]) == rows["signed_up_at"].dt.round("s").tolist()[:5]
    assert _read(["45304", "45305.75"]) == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-01-14 18:00")]
    assert "not dates" in _message(["45304", "12000"])  # 1932: outside what is read as a date number
    frame = pd.DataFrame({"order_id": ["a", "b"], "order_date": ["45304", "45325"], "zip": ["10001", "94103"]})
    guess = suggest_mapping(frame)
    assert guess.timestamp == "order_date" and guess.dates.sentence == (
        "`order_date` holds spreadsheet date numbers (days since 30 December 1899): '45304' is 13 January 2024."
    )
    assert suggest_mapping(frame.rename(columns={"order_date": "amount"})).timestamp is None  # five digits unnamed


def test_times_across_a_daylight_saving_change_are_stored_as_the_instants_they_are():
    """A US shop's export writes -0500 in winter and -0400 in summer: it was refused as mixing time zones."""
    written = [
        "2024-03-09 23:30:00 -0500",
        "2024-03-11 08:00:00 -0400",
        "2024-07-01T12:00:00Z",
        "2024-11-04 09:00:00-05:00",
    ]
    assert _read(written) == [
        pd.Timestamp("2024-03-10 04:30"),
        pd.Timestamp("2024-03-11 12:00"),
        pd.Timestamp("2024-07-01 12:00"),
        pd.Timestamp("2024-11-04 14:00"),
    ]
    assert "mixes time zones: UTC-05:00 at row 2 but no time zone at row 3" in _message(
        ["2024-03-09 23:30:00 -0500", "2024-03-11 08:00:00"]
    )
