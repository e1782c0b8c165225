"""Validating a founder's data against what a model needs, one sentence per problem.

The same checks run for the upload page, `python -m core ingest`, the inbox and `core.log_predictions`
/ `core.log_labels`: every problem names the column, how many values are wrong and the first bad
row. Rows are numbered as in a spreadsheet: the header is row 1, so the first data row is row 2.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.config import Limits
from core.errors import DataError
from core.schema import ModelSpec
from core.wording import plural

DEFAULT_LIMITS = Limits()


def spreadsheet_row(index: int) -> int:
    """Spreadsheet row of the `index`-th data row (0-based): the header is row 1."""
    return int(index) + 2


def require_columns(frame: pd.DataFrame, columns: Mapping[str, str] | Sequence[str], *, source: str) -> None:
    """Every needed column must be present; with reasons (name -> what it is for) the message gives them."""
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    if isinstance(columns, Mapping):
        c, why = missing[0], columns[missing[0]]
        more = (
            f" (and {len(missing) - 1} more: {', '.join(f'`{m}`' for m in missing[1:4])})" if len(missing) > 1 else ""
        )
        raise DataError(f"{source} has no column `{c}`, which is needed as {why}{more}.")
    names = ", ".join(f"`{c}`" for c in missing)
    raise DataError(f"{source} is missing the {'columns' if len(missing) > 1 else 'column'} {names}.")


def first_bad(mask: pd.Series, values: pd.Series) -> tuple[int, int, str]:
    """How many rows `mask` marks, the spreadsheet row of the first and its value in `values`."""
    bad = np.flatnonzero(mask.to_numpy())
    first = int(bad[0])
    return len(bad), spreadsheet_row(first), str(values.iloc[first])


def printable(text: object, limit: int = 60) -> str:
    """`text` fit to stand inside one sentence: line breaks, other control characters and invisible
    direction marks written as escapes (`\\n`, `\\u202e`), cut short after `limit` characters."""
    text = str(text)
    cut = len(text) > limit
    text = "".join(repr(c)[1:-1] if _hidden(c) else c for c in text[:limit])
    return text + "..." if cut else text


def _hidden(char: str) -> bool:
    """Control and format characters, and the characters `str.splitlines` breaks lines at."""
    return unicodedata.category(char)[0] == "C" or char in "\u2028\u2029\x85"


CONTROL = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
"""Characters that break a line or are invisible controls (a regex class)."""


def quoted(value: str) -> str:
    """A bad value quoted in a message, one line, cut short when long."""
    if not value:
        return " (empty)"
    return f" ('{printable(value)}')"


def parse_numbers(
    frame: pd.DataFrame, column: str, *, source: str, allow_missing: bool = True, limits: Limits = DEFAULT_LIMITS
) -> pd.Series:
    """The column as floats; text, infinite values or absurd magnitudes are errors naming count and first row."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        parsed = raw.astype("float64")
        shown = parsed
    else:
        text = raw.astype("string").str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        bad = parsed.isna() & text.notna() & (text != "")
        if bad.any():
            n, row, value = first_bad(bad, text.fillna(""))
            raise DataError(
                f"In {source}, column `{column}` has {n:,} values that are not numbers, "
                f"first at row {row}{quoted(value)}."
            )
        parsed = parsed.astype("float64")
        shown = text.fillna("")
    infinite = np.isinf(parsed)
    if infinite.any():
        n, row, value = first_bad(infinite, shown)
        raise DataError(
            f"In {source}, column `{column}` has {plural(n, 'infinite value')}, first at row {row}{quoted(value)}; "
            "send the real number or leave the cell empty."
        )
    huge = parsed.abs() > limits.max_abs_number
    if huge.any():
        n, row, value = first_bad(huge, shown)
        bound = f"{limits.max_abs_number:.0e}".replace("e+", "e")
        raise DataError(
            f"In {source}, column `{column}` has {plural(n, 'number')} beyond ±{bound}, first at row {row} "
            f"{quoted(value).strip()}; numbers that large are almost always an export or unit error."
        )
    if not allow_missing and parsed.isna().any():
        n, row, _ = first_bad(parsed.isna(), parsed)
        raise DataError(f"In {source}, column `{column}` has {n:,} empty values, first at row {row}.")
    return parsed


def check_length(values: pd.Series, column: str, *, source: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Text cells longer than the limit are refused: they would be stored and repeated in every message."""
    lengths = values.astype("string").str.len()
    long = lengths > limits.max_cell_chars
    if long.any():
        n, row, _ = first_bad(long.fillna(False), lengths)
        first = int(lengths[long].iloc[0])
        raise DataError(
            f"In {source}, column `{column}` has {plural(n, 'value')} longer than {limits.max_cell_chars:,} "
            f"characters, first at row {row} ({first:,} characters). Shorten them, or leave the column out."
        )


def check_unique(frame: pd.DataFrame, column: str, *, source: str, what: str) -> None:
    """Ids must be present, not too long, and not repeat inside one file."""
    ids = frame[column].astype("string")
    check_length(ids, column, source=source)
    if ids.isna().any():
        n, row, _ = first_bad(ids.isna(), ids.fillna(""))
        raise DataError(f"In {source}, column `{column}` has {n:,} empty ids, first at row {row}.")
    # an id is quoted in later sentences ("stored before", "never scored") and shown on pages: one line
    hidden = ids.str.contains(CONTROL, regex=True).fillna(False)
    if hidden.any():
        n, row, value = first_bad(hidden, ids)
        raise DataError(
            f"In {source}, column `{column}` has {plural(n, 'id')} with a line break or another control "
            f"character, first at row {row}{quoted(value)}; an id must be one line of plain text."
        )
    dup = ids.duplicated(keep="first")
    if dup.any():
        n, row, value = first_bad(dup, ids)
        raise DataError(
            f"In {source}, column `{column}` has {n:,} repeated ids in this {what}, first at row {row}{quoted(value)}."
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
            n, row, value = first_bad(bad, text.fillna(""))
            raise DataError(
                f"In {source}, column `{column}` has {n:,} values that are not one of the classes "
                f"{', '.join(spec.classes)}, first at row {row}{quoted(value)}."
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
            n, row, value = first_bad(bad, p)
            raise DataError(
                f"In {source}, column `{c}` has {n:,} probabilities outside 0 to 1, first at row {row} ({value})."
            )
        arrays.append(p.to_numpy())
    out = np.column_stack(arrays)
    if len(columns) > 1:
        sums = out.sum(axis=1)
        bad = pd.Series(np.abs(sums - 1) > 0.01)
        if bad.any():
            n, row, value = first_bad(bad, pd.Series(np.round(sums, 4)))
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


def validate_features(
    frame: pd.DataFrame, spec: ModelSpec, *, source: str, limits: Limits = DEFAULT_LIMITS
) -> pd.DataFrame:
    """Typed feature columns: numbers parsed (text, infinities and absurd sizes are errors), categories
    kept as text of a sensible length."""
    out = {}
    for c in spec.numerical:
        out[c] = parse_numbers(frame, c, source=source, limits=limits)
    for c in spec.categorical:
        out[c] = frame[c].astype("string").str.strip()
        check_length(out[c], c, source=source, limits=limits)
    return pd.DataFrame(out, index=frame.index)


def encode_outcomes(spec: ModelSpec, values: pd.Series, *, source: str, column: str) -> pd.Series:
    """Outcomes as the numbers the store keeps, NaN where a row has none yet (an empty cell is no error)."""
    present = values.notna() & (values.astype("string").str.strip() != "")
    out = pd.Series(np.nan, index=values.index)
    if present.any():
        out[present] = encode_labels(spec, values[present], source=source, column=column)
    return out
