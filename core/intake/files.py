"""Reading a founder's file: the one reader for uploads, dropped files, the CLI and the shipped demo data.

CSV cells are read as text first, so nothing is silently coerced (typing happens in `checks.py`);
column names are tidied (`Signup Date ` -> `signup_date`) and refused when two tidy to the same name
or the header repeats inside the data. Every problem is one sentence naming the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import DataError
from core.intake.checks import printable
from core.intake.checks import require_columns
from core.intake.checks import spreadsheet_row
from core.intake.encoding import as_utf8
from core.intake.json_records import json_as_csv
from core.intake.layout import EMPTY
from core.intake.layout import check_rows
from core.intake.layout import check_size
from core.intake.layout import refuse_title
from core.intake.numbers import read_numbers
from core.intake.packed import UNPACKERS
from core.intake.packed import unpack
from core.intake.workbook import workbook_as_csv

MAX_ROWS = 1_000_000
"""Rows one founder's file may hold, counted before it is parsed (Parquet metadata, a CSV's line breaks):
ingesting 1M churn rows peaks near 1.8 GB, a 200 MB upload of 1.3M rows above 2 GB (bench/RESULTS.md,
session 5). A bigger export goes in as several files."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NAME_CLEAN = re.compile(r"[^0-9a-zA-Z]+")


def normalise_name(name: object) -> str:
    """`Signup Date ` -> `signup_date`: lower case, anything not a letter or digit becomes `_`."""
    out = NAME_CLEAN.sub("_", str(name).strip()).strip("_").lower()
    return out or "column"


def normalise_columns(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Rename columns to normalised names; refuse names that clash and a header repeated inside the data."""
    originals = [str(c) for c in frame.columns]
    names = [normalise_name(c) for c in originals]
    seen: dict[str, str] = {}
    for original, name in zip(originals, names, strict=True):
        if name in seen:
            raise DataError(
                f"In {source}, columns `{printable(seen[name])}` and `{printable(original)}` both become `{name}` once "
                "names are tidied; rename one of them."
            )
        seen[name] = original
    frame = frame.set_axis(names, axis=1)  # no copy of the data (copy-on-write)
    repeated = _header_rows(frame, [str(o).strip() for o in originals])
    if repeated.any():
        first = int(np.flatnonzero(repeated.to_numpy())[0])
        raise DataError(
            f"Row {spreadsheet_row(first)} of {source} repeats the header row ({int(repeated.sum())} such row"
            f"{'s' if repeated.sum() > 1 else ''}); remove it. Files pasted together often do this."
        )
    return frame


def _header_rows(frame: pd.DataFrame, header: list[str]) -> pd.Series:
    """True for rows whose every cell is the header's name for its column. One column at a time, and
    only on rows still in the running: a text copy of a whole million-row, 3,000-column file would not fit."""
    candidates = pd.Series(True, index=frame.index)
    for position, name in enumerate(header):
        rows = np.flatnonzero(candidates.to_numpy())
        if not len(rows):
            break
        cells = frame.iloc[rows, position].astype("string").str.strip()
        candidates.iloc[rows] = (cells == name).fillna(False).to_numpy()
    return candidates


def read_table(
    source: Path | str | bytes,
    *,
    name: str | None = None,
    max_mb: int | None = None,
    columns: list[str] | None = None,
    tidy: bool = True,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file (a path, or the bytes of an upload named `name`) into a frame.

    Checks, in order: the file exists, the size limit, empty file, the row limit (from Parquet's
    metadata or a CSV's line breaks, before parsing), text encoding, parse, and with `tidy` clashing
    names and a repeated header. A founder's file (`max_mb` given) gets the row limit `MAX_ROWS`
    unless `max_rows` says otherwise. `columns` must all be present and are
    returned in that order. Every problem is a :class:`DataError` naming the file.
    """
    if max_rows is None and max_mb is not None:
        max_rows = MAX_ROWS
    if isinstance(source, bytes):
        data, filename = source, name or "the upload"
    else:
        path = Path(source)
        filename = name or str(path)
        if not path.is_file():
            raise DataError(f"The file {filename} is missing.")
        check_size(path.stat().st_size, filename, max_mb)  # before a byte of it is read
        data = path.read_bytes()
    check_size(len(data), filename, max_mb)
    if not data[: 1 << 16].strip() and not data.strip():  # the whole file is copied only when it starts blank
        raise DataError(f"The file {filename} is empty.")
    frame = _read_as_named(data, Path(filename).name, filename, max_rows)
    if frame.empty:
        raise DataError(f"The file {filename} has a header but no rows.")
    read_as = frame.attrs.get("read_as")
    if tidy:
        frame = normalise_columns(frame, source=filename)
    if columns is not None:
        require_columns(frame, columns, source=filename)
        frame = frame[columns]
    if read_as:
        frame.attrs["read_as"] = read_as  # how the file was read, for the upload page to say
    return frame


def _read_csv_counted(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    if max_rows is not None:
        # every row ends a line (a quoted cell may hold more line breaks, so this is "about")
        breaks = data.count(b"\n") or data.count(b"\r")
        check_rows(breaks - 1 + (not data.endswith((b"\n", b"\r"))), filename, max_rows, about=True)
    return _read_csv(data, filename)


def _read_workbook(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    return _via_csv(workbook_as_csv(data, filename, max_rows), filename)


def _read_json(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    return _via_csv(json_as_csv(data, filename, max_rows), filename)


def _via_csv(converted: tuple[bytes, str | None], filename: str) -> pd.DataFrame:
    """A workbook or JSON file written out as CSV text, read by the CSV reader, with how it was read said first."""
    text, note = converted
    frame = _read_csv(text, filename)
    said = frame.attrs.get("read_as")
    if note:
        frame.attrs["read_as"] = f"{note} {said}" if said else note
    return frame


def _read_parquet(data: bytes, filename: str, max_rows: int | None = None) -> pd.DataFrame:
    """A Parquet file as a frame; its schema is checked first, so columns no check could read are refused
    by name (raw bytes would fail to decode, nested values have no single value per cell)."""
    try:
        meta = pq.read_metadata(io.BytesIO(data))
        schema = meta.schema.to_arrow_schema()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"The file {filename} is not a readable Parquet file ({exc.__class__.__name__}).") from exc
    check_rows(meta.num_rows, filename, max_rows)
    for field in schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            raise DataError(
                f"In {filename}, column `{printable(field.name)}` holds raw bytes, not text or numbers; write it "
                "as text and send the file again."
            )
        if pa.types.is_nested(kind):
            raise DataError(
                f"In {filename}, column `{printable(field.name)}` holds lists or records, not one value per cell; "
                "flatten it into plain columns and send the file again."
            )
    try:
        return pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"The file {filename} is not a readable Parquet file ({exc.__class__.__name__}).") from exc


def _refuse_old_spreadsheet(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    raise DataError(
        f"The file {filename} is a spreadsheet ModelPulse cannot read: save it as an Excel workbook (.xlsx) or as "
        "CSV UTF-8 and upload it again."
    )


READERS = {
    ".csv": _read_csv_counted,
    ".txt": _read_csv_counted,
    ".tsv": _read_csv_counted,
    ".tab": _read_csv_counted,
    ".xlsx": _read_workbook,
    ".parquet": _read_parquet,
    ".json": _read_json,
    ".jsonl": _read_json,
    ".ndjson": _read_json,
    ".xls": _refuse_old_spreadsheet,
    ".xlsm": _refuse_old_spreadsheet,
    ".xlsb": _refuse_old_spreadsheet,
    ".ods": _refuse_old_spreadsheet,
    ".numbers": _refuse_old_spreadsheet,
}
"""How each kind of file is read, by its name's ending."""
ACCEPTED = (".csv", ".tsv", ".xlsx", ".parquet", ".json", ".jsonl", ".ndjson", ".gz", ".zip")
"""The endings an upload or the inbox takes (the rest of READERS only say why not)."""


def table_name(filename: str) -> str:
    """A file's name without the endings that say how it is stored: `orders.csv.gz` -> `orders`."""
    path = Path(filename)
    if path.suffix.lower() in UNPACKERS:
        path = Path(path.stem)
    return path.stem if path.suffix.lower() in READERS else path.name


def _read_as_named(
    data: bytes, inner_name: str, filename: str, max_rows: int | None, *, packed: bool = False
) -> pd.DataFrame:
    """Read `data` by the ending of `inner_name` (the file itself, or the file inside a packed one); every message
    names `filename`, the file the founder sent."""
    suffix = Path(inner_name).suffix.lower()
    if suffix in UNPACKERS and not packed:
        inner, inner_name = unpack(data, filename)
        return _read_as_named(inner, inner_name, filename, max_rows, packed=True)
    reader = READERS.get(suffix)
    if reader is None and packed and not suffix:
        raise DataError(
            f"The file {filename} is packed, but no name says what is inside it; name it after the table it holds, "
            "as in `orders.csv.gz`."
        )
    if reader is None:
        inside = f" holds {printable(inner_name)}, but it" if packed else ""
        raise DataError(
            f"The file {filename}{inside} must be a .csv, .tsv, .xlsx, .parquet or .json file (or one of them packed "
            "as .gz or .zip)."
        )
    if packed and not data.strip():
        raise DataError(f"The file {filename} is empty.")
    return reader(data, filename, max_rows)


SEPARATORS = (";", "\t", "|")
"""Separators other than the comma that spreadsheets write: a European Excel saves "CSV" with semicolons."""
SEPARATOR_NAMES = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _header(data: bytes, sep: str) -> list[str]:
    return next((line for line in _first_lines(data, sep) if line), [])  # pandas skips blank lines too


def _first_lines(data: bytes, sep: str) -> Iterator[list[str]]:
    """The file's records, decoded only as far as they are read. newline="": the csv module then reads \r, \r\n
    and \n line ends alike, as pandas does."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    yield from csv.reader(text, delimiter=sep)


def _separator(header: list[str]) -> str:
    """The comma, unless the header reads as one column that another separator splits (the most frequent one)."""
    if len(header) != 1:
        return ","
    counts = {sep: header[0].count(sep) for sep in SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(data: bytes, filename: str) -> pd.DataFrame:
    data, encoding = as_utf8(data, filename)
    try:
        header = _header(data, ",")
        sep = _separator(header)
        if sep != ",":
            header = _header(data, sep)
        if sum(1 for name in header if name.strip()) <= 1:
            for candidate in (",", *SEPARATORS):  # a title hides the separator of the lines below it
                refuse_title(_first_lines(data, candidate), filename=filename, where="line")
    except csv.Error as exc:
        raise DataError(f"The file {filename} is not valid CSV: its header row cannot be read ({exc}).") from exc
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        name = name.strip()
        if name in seen:
            raise DataError(
                f"In {filename}, the column name `{printable(name)}` appears twice (columns {seen[name]} and "
                f"{position}); rename one of them and send the file again."
            )
        seen[name] = position
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=sep,
            encoding="utf-8-sig",
            dtype=str,
            keep_default_na=False,
            na_values=list(EMPTY),  # Excel writes #N/A; str(float("nan")) is nan
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"The file {filename} is empty.") from exc
    except (ValueError, OverflowError, csv.Error) as exc:  # pandas' ParserError is a ValueError
        raise DataError(f"The file {filename} is not valid CSV: {_last_line(exc)}") from exc
    frame, totals = _without_trailing_rows(frame)
    numbers = read_numbers(frame, sep=sep, tidy=normalise_name)
    notes = [encoding] if encoding else []
    if sep != ",":
        notes.append(
            f"Read as columns separated by {SEPARATOR_NAMES[sep]}{f', {numbers.commas}' if numbers.commas else ''}."
        )
    notes += [note for note in (totals, numbers.plain) if note]
    if notes:
        frame.attrs["read_as"] = " ".join(notes)
    return frame


TOTALS = re.compile(r"\s*(?:grand\s+)?(?:totals?|sum|summe|gesamt|totale?|totaal|suma|total général)\s*:?\s*", re.I)
"""The label a spreadsheet's totals row starts with."""


def _without_trailing_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The frame without the rows a spreadsheet leaves at its end: empty rows (`,,,,`) and one totals row (`Total,,,
    "$456,116.60"`), which would otherwise be read as a row with no time or id, or as a customer called Total; the
    sentence saying a totals row was left out."""
    frame = _without_empty_end(frame)
    if len(frame) < 2:
        return frame, None
    last = frame.iloc[-1]
    label = next((str(v) for v in last.iloc[:3] if isinstance(v, str) and v.strip()), None)
    if label is None or not TOTALS.fullmatch(label) or last.notna().all():
        return frame, None
    note = f"The file's last row ('{printable(label.strip())}') adds up the rows above; it was left out."
    return _without_empty_end(frame.iloc[:-1]), note


def _without_empty_end(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows up to the last with a filled cell; only the file's end is read unless it is all empty."""
    for rows in (frame.tail(1000), frame):
        filled = np.flatnonzero(rows.notna().any(axis=1).to_numpy())
        if len(filled):
            return frame.iloc[: len(frame) - len(rows) + int(filled[-1]) + 1]
    return frame.iloc[:0]


def _last_line(exc: Exception) -> str:
    """The last line of a parser's message (pandas puts the useful part there), ending in a full stop."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [exc.__class__.__name__]
    return lines[-1].rstrip(".") + "."


def escape_formula(value: object) -> object:
    """Prefix an apostrophe to text a spreadsheet would run as a formula (=, +, -, @ ...)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes with every text cell that looks like a formula escaped."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(escape_formula)
    out.columns = [escape_formula(str(c)) for c in out.columns]
    return out.to_csv(index=False).encode("utf-8")
