"""Reading a founder's file: the one reader for uploads, dropped files, the CLI and the shipped demo data.

CSV cells are read as text first, so nothing is silently coerced (typing happens in `checks.py`);
column names are tidied (`Signup Date ` -> `signup_date`) and refused when two tidy to the same name
or the header repeats inside the data. Every problem is one sentence naming the file.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import itertools
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterable
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
from core.intake.numbers import read_numbers

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
        _check_size(path.stat().st_size, filename, max_mb)  # before a byte of it is read
        data = path.read_bytes()
    _check_size(len(data), filename, max_mb)
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
        _check_rows(breaks - 1 + (not data.endswith((b"\n", b"\r"))), filename, max_rows, about=True)
    return _read_csv(data, filename)


def _read_json(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    """JSON records, written out as CSV text and read by the CSV reader (as a workbook is)."""
    text, note = json_as_csv(data, filename, max_rows)
    frame = _read_csv(text, filename)
    said = frame.attrs.get("read_as")
    if note:
        frame.attrs["read_as"] = f"{note} {said}" if said else note
    return frame


def _refuse_old_spreadsheet(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    raise DataError(
        f"The file {filename} is a spreadsheet ModelPulse cannot read: save it as an Excel workbook (.xlsx) or as "
        "CSV UTF-8 and upload it again."
    )


def _read_gzip(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    """A gzip-compressed table (`orders.csv.gz`, as database and warehouse exports write them), read as the file
    inside it, which is named by the name without `.gz`."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
        try:
            inner = packed.read(_unpack_limit(len(data)) + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(
                f"The file {filename} is not a readable gzip file; compress it again, or send it unpacked."
            ) from exc
    _check_unpacked(len(inner), len(data), filename)
    return _read_as_named(inner, Path(filename).stem, filename, max_rows, packed=True)


def _read_zip(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    """A zip archive holding one table (what "download as zip" gives), read as that file; the folders and the
    hidden files a Mac adds are not counted."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not _mac_extra(m.filename)]
            if len(members) != 1:
                shown = ", ".join(printable(m.filename) for m in members[:5]) + (", ..." if len(members) > 5 else "")
                raise DataError(
                    f"The file {filename} holds {len(members)} files{f' ({shown})' if members else ''}; a zip file "
                    "must hold exactly one table. Send each file on its own."
                )
            member = members[0]
            _check_unpacked(member.file_size, len(data), filename)
            with archive.open(member) as inner_file:
                inner = inner_file.read(_unpack_limit(len(data)) + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise DataError(
            f"The file {filename} is not a readable zip file; zip it again, or send the table unzipped."
        ) from exc
    _check_unpacked(len(inner), len(data), filename)
    return _read_as_named(inner, Path(member.filename).name, filename, max_rows, packed=True)


def _mac_extra(name: str) -> bool:
    """The folder and hidden files macOS adds to every zip it makes."""
    return name.startswith("__MACOSX/") or Path(name).name.startswith(".")


def _unpack_limit(packed: int) -> int:
    return PACKED_EXPANSION * packed + 10_000_000


def _check_unpacked(size: int, packed: int, filename: str) -> None:
    if size > _unpack_limit(packed):
        raise DataError(
            f"The file {filename} unpacks to more than {_size_text(_unpack_limit(packed))} from "
            f"{_size_text(packed)}, far more than a table packs to; send the table unpacked."
        )


def _size_text(size: int) -> str:
    """`40 KB`, `1.2 MB`, `120 MB`."""
    if size < 1_000_000:
        return f"{max(size / 1000, 1):,.0f} KB"
    return f"{size / 1e6:,.1f} MB" if size < 10_000_000 else f"{size / 1e6:,.0f} MB"


READERS = {
    ".csv": _read_csv_counted,
    ".txt": _read_csv_counted,
    ".tsv": _read_csv_counted,
    ".tab": _read_csv_counted,
    ".xlsx": lambda data, filename, max_rows: _read_xlsx(data, filename, max_rows),
    ".parquet": lambda data, filename, max_rows: _read_parquet(data, filename, max_rows),
    ".json": lambda data, filename, max_rows: _read_json(data, filename, max_rows),
    ".jsonl": lambda data, filename, max_rows: _read_json(data, filename, max_rows),
    ".ndjson": lambda data, filename, max_rows: _read_json(data, filename, max_rows),
    ".xls": _refuse_old_spreadsheet,
    ".xlsm": _refuse_old_spreadsheet,
    ".xlsb": _refuse_old_spreadsheet,
    ".ods": _refuse_old_spreadsheet,
    ".numbers": _refuse_old_spreadsheet,
}
"""How each kind of file is read, by its name's ending."""
PACKERS = {".gz": _read_gzip, ".zip": _read_zip}
"""Compressed files, read as the one table inside."""
ACCEPTED = (".csv", ".tsv", ".xlsx", ".parquet", ".json", ".jsonl", ".ndjson", ".gz", ".zip")
"""The endings an upload or the inbox takes (the rest of READERS only say why not)."""
PACKED_EXPANSION = 100
"""How many times its own size a gzip or zip file may unpack to (CSV text packs 5-20x; a zip bomb thousands)."""


def table_name(filename: str) -> str:
    """A file's name without the endings that say how it is stored: `orders.csv.gz` -> `orders`."""
    path = Path(filename)
    if path.suffix.lower() in PACKERS:
        path = Path(path.stem)
    return path.stem if path.suffix.lower() in READERS else path.name


def _read_as_named(
    data: bytes, inner_name: str, filename: str, max_rows: int | None, *, packed: bool = False
) -> pd.DataFrame:
    """Read `data` by the ending of `inner_name` (the file itself, or the file inside a packed one); every message
    names `filename`, the file the founder sent."""
    suffix = Path(inner_name).suffix.lower()
    reader = READERS.get(suffix) or (None if packed else PACKERS.get(suffix))
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


XLSX_EXPANSION = 40
"""How many times its own size a workbook may unpack to (text XML packs 5-10x; a zip bomb packs thousands)."""
EMPTY = ("", "NA", "NaN", "nan", "null", "#N/A")
"""Cells read as empty, in a CSV and in a workbook alike."""


def _cell_text(value: object) -> str | None:
    """A workbook cell as the text a CSV export of it would hold: whole numbers without `.0`, times as ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    text = str(value)
    return None if text.strip() in EMPTY else text


def _read_xlsx(data: bytes, filename: str, max_rows: int | None) -> pd.DataFrame:
    """The first sheet with data of an Excel workbook, every cell as text (as a CSV is read), formulas as the
    values Excel last computed. The workbook is opened read-only and streamed, after its unpacked size is checked."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    damaged = (
        f"The file {filename} cannot be opened as an Excel workbook; open it in Excel and save it again as .xlsx, or "
        "as CSV UTF-8."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DataError(damaged) from exc
    if unpacked > XLSX_EXPANSION * len(data) + 10_000_000:
        raise DataError(
            f"The file {filename} unpacks to {unpacked / 1e6:,.0f} MB from {len(data) / 1e6:,.1f} MB, far more than a "
            "workbook does; save it as CSV UTF-8 and upload that."
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, ET.ParseError) as exc:
        raise DataError(damaged) from exc
    # streamed out as CSV text and read back by the CSV reader: the same text, empty cells and limits as a CSV
    # export, and a fraction of the memory a list of a million rows of Python values takes
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    used, sheets, n_rows, width = None, 0, 0, 0
    try:
        for sheet in book.worksheets:
            it = sheet.iter_rows(values_only=True)
            blank, head = 0, None
            for row in it:
                if any(v is not None for v in row):
                    head = row
                    break
                blank += 1
            if head is None:
                continue  # an empty sheet
            sheets += 1
            if used is not None:
                continue
            if _width(head) == 1:
                _refuse_title(itertools.chain([head], it), filename=filename, where="row", first_number=blank + 1)
            used, width = sheet.title, _width(head)
            # an unnamed column between named ones is named by its place, as a spreadsheet shows it
            writer.writerow([(_cell_text(v) or f"column_{i + 1}").strip() for i, v in enumerate(head[:width])])
            for row in it:
                cells = [_cell_text(v) for v in row[:width]]
                if not any(c is not None for c in cells):
                    continue  # a row left blank, often at the end
                n_rows += 1
                if max_rows is not None and n_rows > max_rows:
                    _check_rows(n_rows, filename, max_rows)
                writer.writerow([("" if c is None else c) for c in cells] + [""] * (width - len(cells)))
    except (KeyError, ValueError, TypeError, OSError, ET.ParseError) as exc:
        raise DataError(damaged) from exc
    finally:
        book.close()
    if used is None:
        raise DataError(f"The file {filename} is empty.")
    frame = _read_csv(out.getvalue().encode("utf-8"), filename)
    if sheets > 1:
        said = frame.attrs.get("read_as")
        sheet = f"Read the sheet `{printable(used)}`, the first of {sheets} sheets with data."
        frame.attrs["read_as"] = f"{sheet} {said}" if said else sheet
    return frame


def _width(header: tuple) -> int:
    """Columns up to the header's last named cell: a sheet's used range often runs on past it, and cells there
    with no name above them are left out, as they would be of any mapping."""
    named = [i for i, v in enumerate(header) if v is not None]
    return named[-1] + 1 if named else 0


SEPARATORS = (";", "\t", "|")
"""Separators other than the comma that spreadsheets write: a European Excel saves "CSV" with semicolons."""
WORDY = re.compile(r"\w")
SEPARATOR_NAMES = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _header(data: bytes, sep: str) -> list[str]:
    return next((line for line in _first_lines(data, sep) if line), [])  # pandas skips blank lines too


def _refuse_title(lines: Iterable[list], *, filename: str, where: str, first_number: int = 1) -> None:
    """Refuse a file whose first line is a title or a note (one filled cell) above the real column names, found
    among the next lines: read as it is, it would be one column named after the title."""
    lines = iter(lines)
    first = next(lines, [])
    while first == [] and (line := next(lines, None)) is not None:  # blank lines before the names are skipped
        first, first_number = line, first_number + 1
    filled = _filled(first)
    if len(filled) > 1:
        return
    for number, line in enumerate(itertools.islice(lines, 20), start=first_number + 1):
        if len(_filled(line)) > 1:
            title = f" ('{printable(filled[0])}')" if filled else ""
            raise DataError(
                f"The file {filename} starts with a title or a note{title} above its column names, which begin on "
                f"{where} {number}: delete the {where}s above the column names and upload it again."
            )


def _first_lines(data: bytes, sep: str) -> Iterator[list[str]]:
    """The file's records, decoded only as far as they are read. newline="": the csv module then reads \r, \r\n
    and \n line ends alike, as pandas does."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    yield from csv.reader(text, delimiter=sep)


def _filled(line: list) -> list[str]:
    """A line's cells holding a letter or digit: a cell of only punctuation (`,,` read with semicolons) is as
    empty as a blank one."""
    return [str(c).strip() for c in line if c is not None and WORDY.search(str(c))]


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
                _refuse_title(_first_lines(data, candidate), filename=filename, where="line")
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


def _check_size(size: int, filename: str, max_mb: int | None) -> None:
    if max_mb is not None and size / 1_000_000 > max_mb:
        mb = size / 1_000_000
        # a decimal where whole megabytes would read "20 MB; the limit is 20 MB"
        shown = f"{mb:,.0f}" if round(mb) > max_mb else f"{mb:,.1f}" if round(mb, 1) > max_mb else f"{size:,} bytes"
        raise DataError(
            f"The file {filename} is {shown}{'' if 'bytes' in shown else ' MB'}; the limit is {max_mb:,} MB "
            "(setting MODELPULSE_MAX_UPLOAD_MB)."
        )


def _check_rows(rows: int, filename: str, max_rows: int | None, *, about: bool = False) -> None:
    if max_rows is not None and rows > max_rows:
        raise DataError(
            f"The file {filename} has {'about ' if about else ''}{rows:,} rows; ModelPulse takes at most "
            f"{max_rows:,} rows per file, so send it as several smaller files."
        )


def _read_parquet(data: bytes, filename: str, max_rows: int | None = None) -> pd.DataFrame:
    """A Parquet file as a frame; its schema is checked first, so columns no check could read are refused
    by name (raw bytes would fail to decode, nested values have no single value per cell)."""
    try:
        meta = pq.read_metadata(io.BytesIO(data))
        schema = meta.schema.to_arrow_schema()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"The file {filename} is not a readable Parquet file ({exc.__class__.__name__}).") from exc
    _check_rows(meta.num_rows, filename, max_rows)
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
