"""Reading a founder's file: the one reader for uploads, dropped files, the CLI and the shipped demo data.

CSV cells are read as text first, so nothing is silently coerced (typing happens in `checks.py`);
column names are tidied (`Signup Date ` -> `signup_date`) and refused when two tidy to the same name
or the header repeats inside the data. Every problem is one sentence naming the file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import DataError
from core.intake.checks import require_columns
from core.intake.checks import spreadsheet_row

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
                f"In {source}, columns `{seen[name]}` and `{original}` both become `{name}` once names are tidied; "
                "rename one of them."
            )
        seen[name] = original
    frame = frame.copy()
    frame.columns = names
    as_text = frame.astype("string")
    header = pd.Series([str(o).strip() for o in originals], index=frame.columns)
    repeated = (as_text.apply(lambda col: col.str.strip()) == header).all(axis=1)
    if repeated.any():
        first = int(np.flatnonzero(repeated.to_numpy())[0])
        raise DataError(
            f"Row {spreadsheet_row(first)} of {source} repeats the header row ({int(repeated.sum())} such row"
            f"{'s' if repeated.sum() > 1 else ''}); remove it. Files pasted together often do this."
        )
    return frame


def read_table(
    source: Path | str | bytes,
    *,
    name: str | None = None,
    max_mb: int | None = None,
    columns: list[str] | None = None,
    tidy: bool = True,
) -> pd.DataFrame:
    """Read a CSV or Parquet file (a path, or the bytes of an upload named `name`) into a frame.

    Checks, in order: the file exists, the size limit, empty file, text encoding, parse, and with
    `tidy` clashing names and a repeated header. `columns` must all be present and are returned in
    that order. Every problem is a :class:`DataError` naming the file.
    """
    if isinstance(source, bytes):
        data, filename = source, name or "the upload"
    else:
        path = Path(source)
        filename = name or str(path)
        if not path.is_file():
            raise DataError(f"The file {filename} is missing.")
        data = path.read_bytes()
    if max_mb is not None and len(data) / 1_000_000 > max_mb:
        raise DataError(
            f"The file {filename} is {len(data) / 1_000_000:,.0f} MB; the limit is {max_mb:,} MB "
            "(setting MODELPULSE_MAX_UPLOAD_MB)."
        )
    if not data.strip():
        raise DataError(f"The file {filename} is empty.")
    suffix = Path(filename).suffix.lower()
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise DataError(f"The file {filename} is not a readable Parquet file ({exc.__class__.__name__}).") from exc
    elif suffix in (".csv", ".txt"):
        frame = _read_csv(data, filename)
    else:
        raise DataError(f"The file {filename} must be a .csv or .parquet file.")
    if frame.empty:
        raise DataError(f"The file {filename} has a header but no rows.")
    if tidy:
        frame = normalise_columns(frame, source=filename)
    if columns is not None:
        require_columns(frame, columns, source=filename)
        frame = frame[columns]
    return frame


def _read_csv(data: bytes, filename: str) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"The file {filename} is not UTF-8 text: the first bad byte is at byte {exc.start + 1:,} "
            f"(line {line}). Save it as 'CSV UTF-8' and upload it again."
        ) from exc
    header = next(csv.reader(io.StringIO(text)), [])
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        name = name.strip()
        if name in seen:
            raise DataError(
                f"In {filename}, the column name `{name}` appears twice (columns {seen[name]} and {position}); "
                "rename one of them and send the file again."
            )
        seen[name] = position
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=["", "NA", "NaN", "null"])
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"The file {filename} is empty.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"The file {filename} is not valid CSV: {str(exc).splitlines()[-1]}") from exc


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
