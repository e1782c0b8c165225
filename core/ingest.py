"""Bringing a startup's own data in: read, map, validate, then store in one transaction.

The same checks run for the upload page, `python -m core ingest` and `core.log_predictions` /
`core.log_labels`, and every problem is one sentence that names the column, how many values are
wrong and the first bad row. Rows are numbered as in a spreadsheet: the header is row 1, so the
first data row is row 2.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import DataError
from core.schema import ModelSpec

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NAME_CLEAN = re.compile(r"[^0-9a-zA-Z]+")
ID_HINTS = ("id", "key", "uuid")
TIME_HINTS = ("date", "time", "timestamp", "_at", "day", "created")
TARGET_HINTS = ("target", "label", "outcome", "churn", "y", "class", "status")


def _row(index: int) -> int:
    """Spreadsheet row of the `index`-th data row (0-based): the header is row 1."""
    return int(index) + 2


def normalise_name(name: object) -> str:
    """`Signup Date ` -> `signup_date`: lower case, anything not a letter or digit becomes `_`."""
    out = NAME_CLEAN.sub("_", str(name).strip()).strip("_").lower()
    return out or "column"


# ----------------------------------------------------------------------------- reading a file
def read_upload(data: bytes, *, filename: str, max_mb: int) -> pd.DataFrame:
    """Read an uploaded CSV or Parquet file into a frame with normalised column names.

    Checks, in order: size limit, empty file, text encoding, parse, clashing names, a repeated header.
    CSV cells are read as text first, so nothing is silently coerced; typing happens in validation.
    """
    size_mb = len(data) / 1_000_000
    if size_mb > max_mb:
        raise DataError(
            f"The file {filename} is {size_mb:,.0f} MB; the limit is {max_mb:,} MB (setting MODELPULSE_MAX_UPLOAD_MB)."
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
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise DataError(
                f"The file {filename} is not UTF-8 text: the first bad byte is at byte {exc.start + 1:,} "
                f"(line {line}). Save it as 'CSV UTF-8' and upload it again."
            ) from exc
        try:
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, na_values=["", "NA", "NaN", "null"]
            )
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"The file {filename} is empty.") from exc
        except pd.errors.ParserError as exc:
            raise DataError(f"The file {filename} is not valid CSV: {str(exc).splitlines()[-1]}") from exc
    else:
        raise DataError(f"The file {filename} must be a .csv or .parquet file.")
    if frame.empty:
        raise DataError(f"The file {filename} has a header but no rows.")
    return normalise_columns(frame, source=filename)


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
            f"Row {_row(first)} of {source} repeats the header row ({int(repeated.sum())} such row"
            f"{'s' if repeated.sum() > 1 else ''}); remove it. Files pasted together often do this."
        )
    return frame


# ----------------------------------------------------------------------------- guessing a mapping
@dataclass(frozen=True)
class Suggestion:
    """What a file's columns probably are, for the mapping step to start from."""

    timestamp: str | None
    entity: str | None
    target: str | None
    numerical: list[str]
    categorical: list[str]
    task: str


def _is_numeric(series: pd.Series) -> bool:
    values = series.dropna()
    if values.empty:
        return False
    parsed = pd.to_numeric(values, errors="coerce")
    return bool(parsed.notna().mean() > 0.98)


def _is_datetime(series: pd.Series) -> bool:
    values = series.dropna().astype(str).head(200)
    if values.empty or _is_numeric(values):
        return False
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95)


def suggest_mapping(frame: pd.DataFrame) -> Suggestion:
    """Detect numbers vs categories, and guess the time, id and target columns by name and content."""
    cols = list(frame.columns)
    timestamp = next((c for c in cols if any(h in c for h in TIME_HINTS) and _is_datetime(frame[c])), None)
    timestamp = timestamp or next((c for c in cols if _is_datetime(frame[c])), None)
    entity = next(
        (
            c
            for c in cols
            if c != timestamp and (c.endswith("_id") or c in ID_HINTS) and frame[c].nunique() == len(frame)
        ),
        None,
    )
    target = next((c for c in cols if c in TARGET_HINTS and c not in (timestamp, entity)), None)
    rest = [c for c in cols if c not in (timestamp, entity, target)]
    numerical = [c for c in rest if _is_numeric(frame[c]) and frame[c].nunique() > 2]
    categorical = [c for c in rest if c not in numerical]
    task = "regression"
    if target is not None:
        n = frame[target].nunique()
        task = "binary" if n == 2 else ("multiclass" if 2 < n <= 20 or not _is_numeric(frame[target]) else "regression")
    return Suggestion(timestamp, entity, target, numerical, categorical, task)


# ----------------------------------------------------------------------------- validation
def _first_bad(mask: pd.Series, values: pd.Series) -> tuple[int, int, str]:
    bad = np.flatnonzero(mask.to_numpy())
    first = int(bad[0])
    return len(bad), _row(first), str(values.iloc[first])


def require(frame: pd.DataFrame, columns: dict[str, str], *, source: str) -> None:
    """Every needed column (name -> what it is for) must be present."""
    missing = [(c, why) for c, why in columns.items() if c not in frame.columns]
    if missing:
        c, why = missing[0]
        more = (
            f" (and {len(missing) - 1} more: {', '.join(f'`{m}`' for m, _ in missing[1:4])})"
            if len(missing) > 1
            else ""
        )
        raise DataError(f"{source} has no column `{c}`, which is needed as {why}{more}.")


def parse_timestamps(frame: pd.DataFrame, column: str, *, source: str) -> pd.Series:
    """The column as datetimes; any value that is not a date is an error naming count and first row."""
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw)
    else:
        parsed = pd.to_datetime(raw.astype("string"), errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = parsed.isna()
    if bad.any():
        n, row, value = _first_bad(bad, raw.astype("string").fillna(""))
        shown = f" ('{value}')" if value else " (empty)"
        raise DataError(
            f"In {source}, column `{column}` has {n:,} values that are not dates, first at row {row}{shown}."
        )
    return parsed.astype("datetime64[us]")


def parse_numbers(frame: pd.DataFrame, column: str, *, source: str, allow_missing: bool = True) -> pd.Series:
    """The column as floats; text in a numeric column is an error naming count and first row."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        parsed = raw.astype("float64")
    else:
        text = raw.astype("string").str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        bad = parsed.isna() & text.notna() & (text != "")
        if bad.any():
            n, row, value = _first_bad(bad, text.fillna(""))
            raise DataError(
                f"In {source}, column `{column}` has {n:,} values that are not numbers, first at row {row} ('{value}')."
            )
        parsed = parsed.astype("float64")
    if not allow_missing and parsed.isna().any():
        n, row, _ = _first_bad(parsed.isna(), parsed)
        raise DataError(f"In {source}, column `{column}` has {n:,} empty values, first at row {row}.")
    return parsed


def check_unique(frame: pd.DataFrame, column: str, *, source: str, what: str) -> None:
    """Ids must not repeat inside one file."""
    ids = frame[column].astype("string")
    if ids.isna().any():
        n, row, _ = _first_bad(ids.isna(), ids.fillna(""))
        raise DataError(f"In {source}, column `{column}` has {n:,} empty ids, first at row {row}.")
    dup = ids.duplicated(keep="first")
    if dup.any():
        n, row, value = _first_bad(dup, ids)
        raise DataError(
            f"In {source}, column `{column}` has {n:,} repeated ids in this {what}, first at row {row} ('{value}')."
        )


def encode_labels(spec: ModelSpec, values: pd.Series, *, source: str, column: str) -> pd.Series:
    """Labels to the numbers the store keeps: class index (by the model's classes) or the value."""
    if spec.is_classification:
        index = spec.class_index()
        text = values.astype("string").str.strip()
        # 1 / 1.0 / "1" all name the same class
        text = text.where(~text.str.fullmatch(r"-?\d+\.0"), text.str[:-2])
        mapped = text.map(index)
        bad = mapped.isna()
        if bad.any():
            n, row, value = _first_bad(bad, text.fillna(""))
            raise DataError(
                f"In {source}, column `{column}` has {n:,} values that are not one of the classes "
                f"{', '.join(spec.classes)}, first at row {row} ('{value}')."
            )
        return mapped.astype("float64")
    return parse_numbers(pd.DataFrame({column: values}), column, source=source, allow_missing=False)


def check_probabilities(frame: pd.DataFrame, columns: list[str], *, source: str) -> np.ndarray:
    """Probability columns as an array; values outside [0, 1], or rows not adding up to 1, are errors."""
    arrays = []
    for c in columns:
        p = parse_numbers(frame, c, source=source, allow_missing=False)
        bad = (p < 0) | (p > 1)
        if bad.any():
            n, row, value = _first_bad(bad, p)
            raise DataError(
                f"In {source}, column `{c}` has {n:,} probabilities outside 0 to 1, first at row {row} ({value})."
            )
        arrays.append(p.to_numpy())
    out = np.column_stack(arrays)
    if len(columns) > 1:
        sums = out.sum(axis=1)
        bad = pd.Series(np.abs(sums - 1) > 0.01)
        if bad.any():
            n, row, value = _first_bad(bad, pd.Series(np.round(sums, 4)))
            names = ", ".join(f"`{c}`" for c in columns)
            raise DataError(
                f"In {source}, probabilities in {names} do not add up to 1 in {n:,} rows, "
                f"first at row {row} (they add up to {value})."
            )
    return out


def check_classes(spec_target: str, labels: pd.Series, *, source: str) -> list[str]:
    """Distinct classes of a target column; one class only is an error."""
    classes = sorted(labels.dropna().astype("string").str.strip().unique().tolist())
    if len(classes) < 2:
        only = classes[0] if classes else "nothing"
        raise DataError(
            f"In {source}, column `{spec_target}` holds only one class (`{only}`), so there is nothing to "
            "learn or to measure."
        )
    return classes


def validate_features(frame: pd.DataFrame, spec: ModelSpec, *, source: str) -> pd.DataFrame:
    """Typed feature columns: numbers parsed (text in them is an error), categories kept as text."""
    out = {}
    for c in spec.numerical:
        out[c] = parse_numbers(frame, c, source=source)
    for c in spec.categorical:
        out[c] = frame[c].astype("string").str.strip()
    return pd.DataFrame(out, index=frame.index)


# ----------------------------------------------------------------------------- exports
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
