"""Reading a founder's file: size, encoding, pasted headers, clashing names, formulas."""

from __future__ import annotations

import io

import pandas as pd
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


def test_text_that_is_not_utf8_nor_a_spreadsheets_own_encoding(churn_rows):
    """Russian in Windows-1251 would read as Windows-1252 without an error, as `Ïðèâåò`: it is refused."""
    data = csv_bytes(churn_rows.head(20)).replace(b"Month-to-month", "Помесячно".encode("cp1251"), 1)
    with pytest.raises(DataError, match=r"not UTF-8 text: the first bad byte is at byte [\d,]+ \(line \d+\)"):
        read_table(data, name="cyrillic.csv", max_mb=5)
    for bad in (b"\x81", "¤".encode("cp1252")):  # a byte with no character, a sign no western text holds
        with pytest.raises(DataError, match=r"not UTF-8 text: the first bad byte is at byte 6 \(line 2\)"):
            read_table(b"a,b\nx" + bad + b",1\n", name="odd.csv", max_mb=5)


def test_excels_plain_csv_on_windows_and_its_unicode_text_are_read(churn_rows):
    """Excel on Windows saves "CSV (Comma delimited)" as Windows-1252, "Unicode Text" as tab-separated UTF-16."""
    rows = churn_rows.head(30).assign(contract="Año — €12 “promo”", payment_method="Crédit £")
    utf8 = read_table(csv_bytes(rows), name="utf8.csv", max_mb=5)
    windows = read_table(rows.to_csv(index=False).encode("cp1252"), name="win.csv", max_mb=5)
    assert windows.equals(utf8) and "read_as" not in utf8.attrs
    assert windows.attrs["read_as"] == "Read as Windows-1252 text (Excel's plain 'CSV' on Windows), not UTF-8."
    unicode_text = read_table(rows.to_csv(index=False, sep="\t").encode("utf-16"), name="u.txt", max_mb=5)
    assert unicode_text.equals(utf8)
    assert unicode_text.attrs["read_as"].startswith("Read as UTF-16 text (Excel's 'Unicode Text'). Read as columns ")


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


def test_rows_over_the_limit_are_refused_before_parsing(tmp_path):
    import io

    import pandas as pd

    with pytest.raises(DataError, match=r"has about 11 rows; ModelPulse takes at most 10 rows per file"):
        read_table(b"a\n" + b"1\n" * 11, name="x.csv", max_mb=5, max_rows=10)
    assert len(read_table(b"a\r" + b"1\r" * 10, name="x.csv", max_mb=5, max_rows=10)) == 10  # \r line ends
    buffer = io.BytesIO()
    pd.DataFrame({"a": range(11)}).to_parquet(buffer)
    with pytest.raises(DataError, match=r"has 11 rows; ModelPulse takes at most 10 rows"):
        read_table(buffer.getvalue(), name="x.parquet", max_mb=5, max_rows=10)


def test_a_file_over_the_size_limit_is_refused_from_its_size(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "big.csv"
    path.write_bytes(b"a\n" + b"1\n" * 1_000_000)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(DataError, match=r"is 2.0 MB; the limit is 1 MB|is 2 MB; the limit is 1 MB"):
        read_table(path, name="big.csv", max_mb=1)


def test_csv_dialects_and_parquet_columns_no_check_could_read():
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    with pytest.raises(DataError, match=r"not valid CSV: its header row cannot be read \(field larger"):
        read_table(b"a" * 200_000 + b",b\n1,2\n", name="x.csv", max_mb=5)
    for column, what in ((pa.array([b"\xff", b"x"]), "raw bytes"), (pa.array([[1], [2, 3]]), "lists or records")):
        buffer = io.BytesIO()
        pq.write_table(pa.table({"bad\nname": column, "b": [1, 2]}), buffer)
        with pytest.raises(DataError, match=r"column `bad\\nname` holds " + what) as info:
            read_table(buffer.getvalue(), name="x.parquet", max_mb=5)
        assert len(info.value.user_message.splitlines()) == 1


def test_values_in_sentences_stay_on_one_line():
    import pandas as pd

    from core.intake.checks import check_unique
    from core.intake.checks import parse_numbers

    with pytest.raises(DataError, match=r"first at row 3 \('x\\nDROP'\)") as info:
        parse_numbers(pd.DataFrame({"n": ["1", "x\nDROP"]}), "n", source="f.csv")
    assert len(info.value.user_message.splitlines()) == 1
    with pytest.raises(DataError, match=r"1 id with a line break or another control character, first at row 2"):
        check_unique(pd.DataFrame({"id": ["a\u2028b", "c"]}), "id", source="f.csv", what="file")


def test_a_european_spreadsheet_export_is_read_with_its_separator_and_decimal_commas():
    """Excel in most of Europe saves "CSV" with semicolons and decimal commas: read as one column, the file
    could not be mapped at all, and `29,85` would be refused as not a number."""
    data = (
        b"Kunde;Anmeldung;Monatlich;Umsatz;Anzahl;Code\n"
        b"A1;01/02/2018;29,85;1.234;3;1.5\n"
        b"A2;13/02/2018;56,95;2.000,5;4;2\n"
        b"A3;14/02/2018;53;999;5;x\n"
    )
    frame = read_table(data, name="export.csv", max_mb=5)
    assert list(frame.columns) == ["kunde", "anmeldung", "monatlich", "umsatz", "anzahl", "code"]
    assert frame["monatlich"].tolist() == ["29.85", "56.95", "53"]
    assert frame["umsatz"].tolist() == ["1234", "2000.5", "999"]  # the file writes decimals with commas
    assert frame["anzahl"].tolist() == ["3", "4", "5"] and frame["code"].tolist() == ["1.5", "2", "x"]
    assert frame.attrs["read_as"] == (
        "Read as columns separated by semicolons, with decimal commas (29,85 is 29.85; 1.234 is 1234) in "
        "`monatlich`, `umsatz`."
    )
    tabs = read_table(b"a\tb\n1.5\tx\n", name="t.csv")
    assert tabs["a"].tolist() == ["1.5"] and tabs.attrs["read_as"] == "Read as columns separated by tabs."
    # with no decimal comma anywhere, `1.234` keeps its point: nothing in the file says it is a thousand
    assert read_table(b"a;b\n1.234;x\n", name="s.csv")["a"].tolist() == ["1.234"]
    # a column mixing both ways is left as written, for the number check to name its first odd value
    assert read_table(b"a;b\n12.5;x\n29,85;y\n", name="m.csv")["a"].tolist() == ["12.5", "29,85"]
    # a comma file is read as before, even when a cell holds a semicolon
    plain = read_table(b'a,b\n"x;y",1\n', name="c.csv")
    assert plain["a"].tolist() == ["x;y"] and "read_as" not in plain.attrs


def test_cells_spreadsheets_and_python_write_for_nothing_are_empty():
    frame = read_table(b"a;b\n1,5;x\nnan;#N/A\n2,25;\n", name="e.csv")
    assert frame["a"].tolist()[0] == "1.5" and pd.isna(frame["a"].iloc[1]) and frame["a"].iloc[2] == "2.25"
    assert frame["b"].isna().tolist() == [False, True, True]


def _workbook(frame: pd.DataFrame, *, sheets: int = 1) -> bytes:
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="Export", index=False)
        for k in range(1, sheets):
            frame.head(2).to_excel(writer, sheet_name=f"Old {k}", index=False)
    return buffer.getvalue()


def test_an_excel_workbook_reads_as_its_csv_export_would(churn_rows):
    """Real churn rows as an Excel workbook (typed cells: numbers, times, empty cells) give the same frame as
    the same rows exported as CSV, so every later check and message is the same."""
    rows = churn_rows.copy()
    rows.loc[rows.index[3], "total_charges"] = float("nan")
    csv_frame = read_table(
        rows.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S").encode(), name="export.csv", max_mb=5
    )
    book = read_table(_workbook(rows, sheets=2), name="export.xlsx", max_mb=5)
    assert list(book.columns) == list(csv_frame.columns) and len(book) == len(csv_frame) == 300
    assert book.dtypes.equals(csv_frame.dtypes)
    for column in csv_frame.columns:
        a, b = book[column], csv_frame[column]
        numbers = pd.to_numeric(b, errors="coerce")
        if numbers.notna().sum() == b.notna().sum():  # 20.0 in a CSV is 20 in a workbook: the same number
            assert pd.to_numeric(a).equals(numbers), column
        else:
            assert a.equals(b), column
    assert book["total_charges"].isna().sum() == 1
    assert book.attrs["read_as"] == "Read the sheet `Export`, the first of 2 sheets with data."


def test_a_workbook_that_is_not_one_or_unpacks_too_far_is_refused_with_a_sentence():
    import io
    import zipfile

    for data in (b"not a zip at all", b"PK\x03\x04 truncated"):
        with pytest.raises(DataError, match="cannot be opened as an Excel workbook; open it in Excel and save it"):
            read_table(data, name="x.xlsx", max_mb=5)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * 60_000_000)
    with pytest.raises(DataError, match=r"unpacks to 60 MB from 0\.1 MB, far more than a workbook does"):
        read_table(bomb.getvalue(), name="x.xlsx", max_mb=5)
    with pytest.raises(DataError, match="save it as an Excel workbook \\(.xlsx\\) or as CSV UTF-8"):
        read_table(b"\xd0\xcf\x11\xe0", name="old.xls", max_mb=5)
    assert read_table(_workbook(pd.DataFrame([[1, 2]], columns=["a", "b"])), name="ok.xlsx").to_dict("list") == {
        "a": ["1"],
        "b": ["2"],
    }


def test_a_workbook_over_the_row_limit_is_refused_while_it_is_read():
    data = _workbook(pd.DataFrame({"a": range(50), "b": ["x"] * 50}))
    with pytest.raises(DataError, match="has 41 rows; ModelPulse takes at most 40 rows per file"):
        read_table(data, name="big.xlsx", max_rows=40)


def test_a_title_above_the_column_names_is_refused_with_where_they_begin():
    """Read as it is, a report's title line made a file of one column named after the title."""
    for data, title, line in (
        (b"Churn report Q1 2024\n\nid,when,amount\n1,2024-01-01,3\n", "Churn report Q1 2024", 3),
        (b"Churn report,,\n,,\nid,when,amount\n1,2024-01-01,3\n", "Churn report", 3),
        (b"\n,,\nid;wann;betrag\n1;2024-01-01;3\n", None, 3),
    ):
        said = f" \\('{title}'\\)" if title else ""
        with pytest.raises(
            DataError,
            match=rf"starts with a title or a note{said} above its column names, which begin on line {line}: delete",
        ):
            read_table(data, name="t.csv")
    assert read_table(b"id\nA\nB\n", name="one.csv")["id"].tolist() == ["A", "B"]  # one column and no title
    assert read_table(b"\n\nid;n\nA;1,5\n", name="blank.csv").to_dict("list") == {"id": ["A"], "n": ["1.5"]}
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_excel(writer, index=False, startrow=3)
        writer.sheets["Sheet1"]["A2"] = "Sales export"
    with pytest.raises(
        DataError, match=r"title or a note \('Sales export'\) above its column names, which begin on row 4"
    ):
        read_table(buffer.getvalue(), name="w.xlsx")
