"""Reading a founder's file: size, encoding, pasted headers, clashing names, formulas."""

from __future__ import annotations

import pytest

from core.errors import DataError
from core.intake.files import read_table
from core.intake.files import safe_csv
from core.intake.traffic import log_predictions
from core.store import Store
from tests.conftest import csv_bytes


def test_empty_file():
    with pytest.raises(DataError, match="The file x.csv is empty."):
        read_table(b"", name="x.csv", max_mb=5)
    with pytest.raises(DataError, match="has a header but no rows"):
        read_table(b"a,b\n", name="x.csv", max_mb=5)


def test_file_over_the_size_limit():
    with pytest.raises(DataError, match=r"is 2 MB; the limit is 1 MB \(setting MODELPULSE_MAX_UPLOAD_MB\)"):
        read_table(b"a\n" + b"1\n" * 1_000_000, name="big.csv", max_mb=1)


def test_text_that_is_not_utf8(churn_rows):
    data = csv_bytes(churn_rows.head(20)).replace(b"Month-to-month", "Mo\u00f1th".encode("latin-1"), 1)
    with pytest.raises(DataError, match=r"not UTF-8 text: the first bad byte is at byte [\d,]+ \(line \d+\)"):
        read_table(data, name="latin1.csv", max_mb=5)


def test_header_row_repeated_in_the_data(churn_rows):
    head = churn_rows.head(5)
    data = csv_bytes(head) + csv_bytes(head)  # two exports pasted together
    with pytest.raises(DataError, match=r"Row 7 of pasted.csv repeats the header row"):
        read_table(data, name="pasted.csv", max_mb=5)


def test_column_names_that_clash_after_normalising():
    with pytest.raises(DataError, match=r"columns `Signup Date` and `signup_date` both become `signup_date`"):
        read_table(b"Signup Date,signup_date\n2020-01-01,2020-01-02\n", name="x.csv", max_mb=5)


def test_formulas_are_kept_as_text_and_escaped_on_export(churn_rows, copied):
    rows = churn_rows.head(120).copy()
    rows["payment_method"] = rows["payment_method"].astype(object)
    rows.loc[rows.index[0], "payment_method"] = '=HYPERLINK("http://evil","x")'
    frame = read_table(csv_bytes(rows), name="f.csv", max_mb=5)
    with Store.open(copied.db_path) as store:
        log_predictions(model="churn", frame=frame, store=store, source="f.csv")
        stored = store.query_df("SELECT payment_method FROM rows__churn WHERE _entity_id = 'NEW0000'")
    assert stored.iloc[0, 0] == '=HYPERLINK("http://evil","x")'
    exported = safe_csv(stored).decode()
    assert "'=HYPERLINK" in exported and "\n=HYPERLINK" not in exported


def test_a_column_name_repeated_in_the_header_is_refused_not_renamed():
    with pytest.raises(DataError, match=r"the column name `price` appears twice \(columns 2 and 4\)"):
        read_table(b"id,price,nights,price\n1,10,2,12\n", name="x.csv", max_mb=5)
