"""JSON exports (records, JSON lines, an API page, a sheet's rows) and packed files (.gz, .zip) read as their CSV."""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.intake.files import read_table
from core.intake.files import table_name
from tests.conftest import csv_bytes
from tests.intake.test_inbox import imported_alone


def _records(rows: pd.DataFrame) -> list[dict]:
    """Each row as an API would send it: numbers as JSON numbers, times as text, empty cells as null."""
    out = []
    for row in rows.to_dict(orient="records"):
        record = {}
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                value = str(value)
            elif isinstance(value, float) and np.isnan(value):
                value = None
            elif isinstance(value, np.integer | np.floating):
                value = value.item()
            record[key] = value
        out.append(record)
    return out


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    from tests.conftest import churn_batch

    out = churn_batch(60)
    out.loc[3, "total_charges"] = np.nan  # an empty cell: null in JSON
    return out


def test_every_json_shape_and_packing_reads_as_the_same_rows_as_csv(rows):
    as_csv = read_table(csv_bytes(rows), name="rows.csv", max_mb=5)
    records = _records(rows)
    lines = "\n".join(json.dumps(r) for r in records).encode()
    sheet = [list(rows.columns)] + [list(r.values()) for r in records]
    shapes = {
        "rows.json": json.dumps(records, indent=2).encode(),
        "rows.jsonl": lines,
        "rows.ndjson": lines + b"\n\n",
        "lines_named.json": lines,  # JSON lines saved as .json, a common slip
        "page.json": json.dumps({"object": "list", "data": records, "has_more": False}).encode(),
        "sheet.json": json.dumps({"range": "A1:V61", "values": sheet}).encode(),
        "rows.jsonl.gz": gzip.compress(lines),
        "rows.csv.gz": gzip.compress(csv_bytes(rows)),
        "rows.tsv": rows.to_csv(index=False, sep="\t").encode(),
        "export.zip": _zip({"export/rows.csv": csv_bytes(rows), "__MACOSX/export/._rows.csv": b"\x00\x05"}),
        "workbook.zip": _zip({"rows.json": json.dumps(records).encode()}),
    }
    for name, data in shapes.items():
        frame = read_table(data, name=name, max_mb=5)
        pd.testing.assert_frame_equal(frame, as_csv, obj=name)
    assert read_table(shapes["page.json"], name="page.json", max_mb=5).attrs["read_as"] == (
        "Read the records under `data`."
    )
    assert "read_as" not in read_table(shapes["rows.json"], name="rows.json", max_mb=5).attrs


def test_nested_records_become_columns_and_ids_keep_every_digit(rows):
    """`{"billing": {"contract": ...}}` is the column `billing_contract`; an id of 20 digits stays exact where a
    float would round it (pyarrow's JSON reader gives 1.2345678901234567e19); a list in a cell is kept as text."""
    records = _records(rows.head(5))
    for i, record in enumerate(records):
        record["customer_id"] = 12345678901234567890 + i
        record["billing"] = {"contract": record.pop("contract"), "card": {"on_file": i % 2 == 0}}
        record["tags"] = ["trial", "promo"] if i == 0 else []
    frame = read_table(json.dumps(records).encode(), name="api.json", max_mb=5)
    assert list(frame["customer_id"]) == [str(12345678901234567890 + i) for i in range(5)]
    assert list(frame["billing_contract"]) == list(rows.head(5)["contract"])
    assert list(frame["billing_card_on_file"]) == ["TRUE", "FALSE", "TRUE", "FALSE", "TRUE"]
    assert list(frame["tags"]) == ['["trial", "promo"]', "[]", "[]", "[]", "[]"]
    assert frame.attrs["read_as"] == "`tags` holds lists, kept as their JSON text."
    # a record that adds a name adds a column; the rows before it have it empty
    late = read_table(b'{"id": "a"}\n{"id": "b", "plan": "pro"}\n', name="late.jsonl", max_mb=5)
    assert late["plan"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cut.json", b'[{"a": 1}, {"a": 2}', "line 1, column 20: the text ends before the list of records is closed"),
        ("bad.jsonl", b'{"a": 1}\n{"a": 2,}\n', "The file bad.jsonl is not valid JSON: line 2, column 9: Expecting"),
        ("mixed.json", b'[{"a": 1}, 5]', "Record 2 of mixed.json is a number, not a record of named values"),
        ("empty.json", b"[]", "The file empty.json holds no records."),
        ("blank.json", b"  \n", "The file blank.json is empty."),
        ("two.json", b'{"users": [{"a": 1}], "orders": [{"b": 2}]}', "holds several lists of records (`users`, "),
        ("twice.jsonl", b'{"a": 1}\n{"a": 2, "b": 3, "a": 4}\n', "In twice.jsonl, a record names `a` twice; rename"),
        ("clash.json", b'{"x.b": 1, "x": {"b": 2}}', "record 1 gives `x.b` twice (once inside a nested record)"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "The file deep.json nests its values too deeply"),
        ("rows.json", b'[["id", "plan"], ["a", "pro", "extra"]]', "Row 2 of rows.json has 3 values for 2 column"),
        ("keyed.jsonl", b"\n".join(b'{"u%d": 1}' % i for i in range(10_001)), "use more than 10,000 different"),
        ("two.zip", _zip({"a.csv": b"a\n1\n", "b.csv": b"a\n2\n"}), "holds 2 files (a.csv, b.csv); a zip file must"),
        ("nothing.zip", _zip({}), "The file nothing.zip holds 0 files; a zip file must hold exactly one table"),
        ("doc.zip", _zip({"notes.docx": b"x"}), "The file doc.zip holds notes.docx, but it must be a .csv, .tsv"),
        ("data.gz", gzip.compress(b"a\n1\n"), "no name says what is inside it; name it after the table it holds"),
        ("broken.csv.gz", b"\x1f\x8b not gzip", "The file broken.csv.gz is not a readable gzip file"),
        ("broken.zip", b"PK\x03\x04 not a zip", "The file broken.zip is not a readable zip file"),
        ("inner.csv.gz.gz", gzip.compress(gzip.compress(b"a\n1\n")), "holds inner.csv.gz, but it must be a .csv"),
        ("bomb.csv.gz", gzip.compress(b"a\n" + b"0\n" * 20_000_000), "bomb.csv.gz unpacks to more than 14 MB from "),
    ],
)
def test_a_json_or_packed_file_that_is_not_one_table_is_refused_with_a_sentence(name, data, message):
    with pytest.raises(DataError) as caught:
        read_table(data, name=name, max_mb=5)
    assert message in caught.value.user_message


def test_the_row_limit_counts_records_and_unpacked_lines():
    lines = b"\n".join(b'{"id": %d}' % i for i in range(101))
    with pytest.raises(DataError, match=r"has more than 100 records; ModelPulse takes at most 100 rows per file"):
        read_table(lines, name="many.jsonl", max_mb=5, max_rows=100)
    with pytest.raises(DataError, match=r"has about 101 rows; ModelPulse takes at most 100 rows per file"):
        read_table(gzip.compress(b"id\n" + b"1\n" * 101), name="many.csv.gz", max_mb=5, max_rows=100)
    assert len(read_table(lines, name="many.jsonl", max_mb=5, max_rows=101)) == 101


def test_a_packed_json_lines_file_dropped_in_the_inbox_is_imported(copied, rows):
    """A service that writes its predictions as gzipped JSON lines drops them as they are."""
    folder = copied.inbox_dir / "churn"
    folder.mkdir(parents=True)
    batch = rows.drop(columns=["churn"]).iloc[10:40]
    path = folder / "predictions-0001.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in _records(batch)).encode()))
    imported_alone(copied, path, batch)


def test_a_files_name_without_how_it_is_stored_names_the_model():
    """The upload proposed "customers_export_jsonl" as the model's name for `customers_export.jsonl.gz`."""
    names = ["customers_export.jsonl.gz", "orders.csv", "orders.CSV.GZ", "export.zip", "a.b.parquet", "notes", "x.gz"]
    assert [table_name(n) for n in names] == ["customers_export", "orders", "orders", "export", "a.b", "notes", "x"]
