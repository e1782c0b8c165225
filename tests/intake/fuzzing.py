"""Strategies and invariants for fuzzing a founder's files (used by `test_fuzz_input.py` and `bench/fuzz.py`).

A drawn file starts from real churn rows (so some files are accepted and reach the store) and then
gets odd values in some cells, odd or extra columns, and one of several ways to be written: CSV with
other quoting, line endings, a BOM or another separator; Parquet with typed columns; JSON records or JSON
lines (repeated names repeated in the record); any of them sometimes packed as .gz or .zip; random bytes; a
truncated or corrupted copy. The invariants: only a `ModelPulseError` with one plain line escapes, a
refused file changes no stored row, and whatever is accepted can be monitored and shown.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import zipfile
from collections import Counter
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st

from core.errors import ModelPulseError
from core.store import Store

EXAMPLES = int(os.environ.get("MODELPULSE_FUZZ_EXAMPLES", "0") or 0)
"""Examples per path; 0 keeps each test's own bounded number (`bench/fuzz.py` sets more)."""
NO_SHRINK = os.environ.get("MODELPULSE_FUZZ_NO_SHRINK") == "1"
"""Report the first failing input as drawn: shrinking files of thousands of columns can take minutes."""


def fuzz_settings(examples: int) -> settings:
    """Derandomized (the same inputs on every run), no deadline, no example database."""
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate] if NO_SHRINK else list(Phase),
    )


TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
"""Any unicode (lone surrogates cannot be written as UTF-8, so no file holds them)."""

ODD_NUMBERS = [
    "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e308", "1e15", "1e16", "-0", "+5", "5.", ".5",
    "0x10", "1,234", "1_000", " 12 ", "", "NA", "null", "\u0663", "\uff11\uff12", "1e-400", "1.2.3",
    "True", "9" * 400, "9223372036854775808", "-9223372036854775809",
]  # fmt: skip
ODD_DATES = [
    "0001-01-01", "9999-12-31T23:59:59", "1899-12-31", "2101-01-01", "1900-01-01", "2100-12-31T23:59:59",
    "2018-06-01T10:00:00+05:00", "2018-06-01T10:00:00Z", "2018-06-01 10:00:00-08:00", "2018-06-01T10:00:00+0530",
    "1528000000", "2018-13-01", "2018-02-30", "June 5 2018", "05/06/2018", "", "NaT", "2018-06-01T25:00",
    "+002018-06-01", "2018-06-01T10:00:00.123456789", "2018-06-01 10:00 PST", "10000-01-01", "-2018-06-01",
    "2262-04-12", "1677-09-21", "2018-06-01T10:00:00+99:00", "2018-W23", "1e10",
]  # fmt: skip
ODD_TEXT = [
    "", " ", "x" * 1001, "x" * 100_000, "\x00", "=cmd()", '"', "a,b", "line\nbreak", "\r", "\t",
    "'; DROP TABLE models; --", "\U0001f600", "\u202eevil", "NULL", "None", "nan", "Month-to-month ",
]  # fmt: skip
ODD_IDS = ["", " ", "x" * 2000, "a\nb", "\x00", "1", "1.0", "NEW0000", "\u00e9", "'; DROP TABLE rows; --"]
ODD_NAMES = [
    'x"; DROP TABLE models; --', "'; DELETE FROM labels; --", "_row_id", "_ts", "_entity_id", "rows__churn",
    "", " ", "\u00e9t\u00e9", "\U0001f600", "Tenure", "tenure ", "a\nb", '"', "select", "1", "-", "column",
]  # fmt: skip


def odd_value(kind: str) -> st.SearchStrategy:
    """An odd cell for a column of `kind` (number, date, text or id), sometimes any text at all."""
    pool = {"number": ODD_NUMBERS, "date": ODD_DATES, "text": ODD_TEXT, "id": ODD_IDS}[kind]
    return st.one_of(st.sampled_from(pool), TEXT, st.none())


@st.composite
def mutated(draw, base: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """`base` (text cells) with odd cells, and columns dropped, renamed, duplicated or added."""
    frame = base.astype(object).copy()
    if draw(st.integers(0, 3)) == 0:  # a clean file now and then, so the accepted paths run too
        return frame
    for col, kind in kinds.items():
        if col not in frame or draw(st.integers(0, 2)) > 0:
            continue
        for _ in range(draw(st.integers(1, 3))):
            frame.iat[draw(st.integers(0, len(frame) - 1)), frame.columns.get_loc(col)] = draw(odd_value(kind))
    if draw(st.integers(0, 5)) == 0:  # a column goes missing
        frame = frame.drop(columns=[draw(st.sampled_from(list(frame.columns)))])
    extra = draw(st.sampled_from([0, 0, 0, 1, 3, 40, 2500]))
    names = draw(st.lists(st.one_of(st.sampled_from(ODD_NAMES), TEXT), min_size=min(extra, 3), max_size=min(extra, 3)))
    names += [f"extra_{i}" for i in range(extra - len(names))]
    if names:
        values = [draw(st.one_of(st.sampled_from(ODD_TEXT + ODD_NUMBERS), TEXT)) if extra < 40 else "1" for _ in names]
        added = pd.DataFrame([values] * len(frame), columns=names, index=frame.index)
        frame = pd.concat([frame, added], axis=1)  # names may repeat: that is part of the test
    if draw(st.integers(0, 7)) == 0 and len(frame) > 1:  # a repeated row (a repeated id)
        frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    return frame


def _typed(values: pd.Series) -> pd.Series:
    """A column as Parquet would hold it from a tidy export: numbers and times typed where all parse."""
    text = values.astype("string")
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() == text.notna().sum() and text.notna().any():
        return numbers.astype("float64")
    return text


@st.composite
def written(draw, frame: pd.DataFrame) -> tuple[bytes, str]:
    """The bytes of a file holding `frame`, and its name: CSV or Parquet written one of several ways."""
    how = draw(st.sampled_from(["csv"] * 5 + ["parquet"] * 3 + ["json"] * 2 + ["bytes", "corrupt"]))
    if how == "bytes":
        return draw(st.binary(max_size=300)), draw(st.sampled_from(["x.csv", "x.parquet", "x.txt", "x.json", "x.gz"]))
    if how == "json":
        data, name = _as_json(draw, frame)
    elif how in ("csv", "corrupt"):
        out = io.StringIO(newline="")
        quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
        delimiter = draw(st.sampled_from([","] * 6 + [";", "\t"]))
        ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        writer = csv.writer(out, quoting=quoting, delimiter=delimiter, lineterminator=ending)
        writer.writerow([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            writer.writerow(["" if v is None else str(v) for v in row])
        data = (draw(st.sampled_from(["", "\ufeff"])) + out.getvalue()).encode("utf-8")
        name = "upload.csv"
    else:
        arrays = []
        for i, c in enumerate(frame.columns):
            values = frame.iloc[:, i]
            if c in ("signed_up_at", "label_time") and draw(st.booleans()):
                parsed = pd.to_datetime(values.astype("string"), errors="coerce", format="mixed", utc=True)
                zone = draw(st.sampled_from([None, "UTC", "Asia/Kolkata", "America/Los_Angeles"]))
                parsed = parsed.dt.tz_convert(zone) if zone else parsed.dt.tz_localize(None)
                arrays.append(pa.array(parsed))
            else:
                arrays.append(pa.array(_typed(values)))
        table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        data, name = buffer.getvalue(), "upload.parquet"
    if draw(st.integers(0, 5)) == 0:  # packed, as a warehouse export or a "download as zip"
        if draw(st.booleans()):
            data, name = gzip.compress(data), f"{name}.gz"
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr(name, data)
            data, name = buffer.getvalue(), "upload.zip"
    if how == "corrupt" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.binary(min_size=0, max_size=8)) + data[at + draw(st.integers(0, 16)) :]
    return data, name


def _as_json(draw, frame: pd.DataFrame) -> tuple[bytes, str]:
    """`frame` as JSON records or JSON lines, written by hand so that a name the frame repeats is repeated in the
    record (as a careless exporter would), cells that read as numbers as JSON numbers, empty cells as null."""

    def value(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "null"
        text = str(v)
        if draw(st.booleans()):
            try:
                number = float(text)
            except ValueError:
                return json.dumps(text)
            return json.dumps(int(number) if number.is_integer() and abs(number) < 1e15 else number)
        return json.dumps(text)

    names = [json.dumps(str(c)) for c in frame.columns]
    records = [
        "{" + ", ".join(f"{n}: {value(v)}" for n, v in zip(names, row, strict=True)) + "}"
        for row in frame.itertuples(index=False)
    ]
    if draw(st.booleans()):
        return ("[" + ",\n".join(records) + "]").encode("utf-8"), "upload.json"
    return "\n".join(records).encode("utf-8"), "upload.jsonl"


def snapshot(store: Store) -> tuple:
    """Row counts and a checksum of every stored row of every model (a refused file changes neither)."""
    tables = ["models", "model_versions", "predictions", "labels", "batches"]
    tables += [f"rows__{s.name}" for s in store.list_specs()]
    sums = {}
    for table in tables:
        frame = store.query_df(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the store's own list)
        frame = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True) if len(frame) else frame
        sums[table] = hashlib.sha1(pd.util.hash_pandas_object(frame.astype("string"), index=False).values).hexdigest()
    return store.counts(), sums


def check_message(exc: ModelPulseError) -> str:
    """A refusal is one plain sentence: no line break, no traceback, not empty, not a wall of text."""
    message = exc.user_message
    assert message.strip(), "an empty refusal"
    assert len(message.splitlines()) == 1, repr(message)
    assert "Traceback" not in message, message
    assert len(message) < 600, message
    return message


class Tally:
    """Inputs tried, refused and accepted per path, written as JSON when the run ends."""

    def __init__(self) -> None:
        self.counts: defaultdict[str, Counter] = defaultdict(Counter)
        self.reasons: defaultdict[str, Counter] = defaultdict(Counter)

    def add(self, path: str, outcome: str, message: str = "") -> None:
        """Count one input of `path` with its outcome (`refused` with the sentence's first words)."""
        self.counts[path]["tried"] += 1
        self.counts[path][outcome] += 1
        if message:
            self.reasons[path][" ".join(message.split()[:6])] += 1

    def write(self, path: Path) -> dict:
        """Merge these counts into the JSON file at `path` (several test modules may write it)."""
        merged = json.loads(path.read_text()) if path.is_file() else {}
        for name, counts in self.counts.items():
            merged[name] = {
                **{k: int(v) for k, v in counts.items()},
                "top_refusals": dict(self.reasons[name].most_common(5)),
            }
        path.write_text(json.dumps(merged, indent=2, ensure_ascii=False))
        return merged


_IDS = itertools.count()


def fresh_ids(n: int, prefix: str = "FZ") -> list[str]:
    """Ids no earlier example used (accepted files share one store)."""
    start = next(_IDS) * 100_000
    return [f"{prefix}{start + i}" for i in range(n)]


def base_rows(pool: pd.DataFrame, n: int, start: pd.Timestamp, ids: list[str]) -> pd.DataFrame:
    """`n` real churn rows as text, with fresh ids and times from `start` on, hours apart."""
    rows = pool.head(n).copy()
    rows["customer_id"] = ids
    rows["signed_up_at"] = [(start + pd.Timedelta(hours=5 * i)).isoformat() for i in range(n)]
    return rows.astype(str).replace({"nan": ""})
