"""Reading a file's dates: one instant per value, or a sentence saying why not.

Dates written with numbers only (`01/02/2018`, `1.2.2018`, `01-02-18`) are day first in most of the world and
month first in the United States, and nothing in one such value says which. Pandas reads each value on its own:
`01/02/2018` as 2 January, and `13/02/2018`, which only reads day first, as 13 February. A column written day
first would be stored half right and half wrong without a word. So a column's order is decided by its own
values: a first number over 12 means day first, a second number over 12 month first, and a column holding
both is refused. A model keeps the order of its first file (`ModelSpec.date_order`), so a later file holding
only days up to the 12th is read the same way, and a later file written the other way is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.config import Limits
from core.errors import DataError
from core.intake.checks import DEFAULT_LIMITS
from core.intake.checks import first_bad
from core.intake.checks import printable
from core.intake.checks import quoted
from core.intake.checks import spreadsheet_row
from core.wording import plural

DateOrder = Literal["day", "month"]
WRITTEN = {"day": "day first", "month": "month first"}
PATTERN = {"day": "day/month/year", "month": "month/day/year"}

NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
"""A date written with numbers only, day and month in either order, the year last (`01/02/2018 10:00`)."""
MAYBE = r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}"
"""What every match of NUMERIC_DATE starts with, in a form Arrow's regular expressions (no back-references) take."""

ZONE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")
"""A UTC offset written after a clock time (`10:00:00+02:00`, `10:00Z`); a date alone has none."""

UNIX_TIME = re.compile(r"\s*(?:\d{10}|\d{13})(?:\.\d+)?\s*")
"""A Unix time, as databases and APIs export them: seconds (`1704412800`) or milliseconds since 1970, UTC."""
SHEET_DAY = re.compile(r"\s*\d{5}(?:\.\d+)?\s*")
"""A spreadsheet's own date number (`45304`, `45304.5` at noon), what a date cell left in the General format
exports as: days since 30 December 1899. Five digits are 1927 to 2173; only 1955-2119 (20000-80000) is read."""
SHEET_ORIGIN = pd.Timestamp("1899-12-30")
NUMBER_TIMES = {
    "s": "Unix times (seconds since 1 January 1970, UTC)",
    "ms": "Unix times (milliseconds since 1 January 1970, UTC)",
    "D": "spreadsheet date numbers (days since 30 December 1899)",
}
"""What each kind of time written as a number is, for the sentence that says how it is read."""


def number_time_unit(text: pd.Series) -> str | None:
    """How a column of times written as numbers is read: `s` or `ms` when every value is a Unix time of the same
    length (all seconds, or all milliseconds), `D` when every value is a spreadsheet's date number; else None."""
    values = text.dropna().astype("string").str.strip()
    if values.empty:
        return None
    if UNIX_TIME.fullmatch(values.iloc[0]) and values.str.fullmatch(UNIX_TIME).all():
        lengths = values.str.split(".").str[0].str.len().unique()
        return {10: "s", 13: "ms"}[int(lengths[0])] if len(lengths) == 1 else None
    if SHEET_DAY.fullmatch(values.iloc[0]) and values.str.fullmatch(SHEET_DAY).all():
        days = pd.to_numeric(values)
        return "D" if bool(((days >= 20_000) & (days < 80_000)).all()) else None
    return None


def _number_times(text: pd.Series, unit: str) -> pd.Series:
    numbers = pd.to_numeric(text.str.strip())
    if unit == "D":
        return pd.to_datetime(numbers, unit="D", origin=SHEET_ORIGIN).dt.round("s")
    return pd.to_datetime(numbers, unit=unit)  # naive, in UTC as every stored time


@dataclass(frozen=True)
class WrittenOrder:
    """What a column's numbers-only dates show about their order."""

    order: DateOrder | None
    """The order only some value can be read in; None when no value decides."""
    evidence: tuple[int, str] | None
    """The spreadsheet row and value that decide `order`."""
    ambiguous: tuple[int, str] | None
    """The first row and value that read as two different dates, one per order; None when there is none."""


def written_order(text: pd.Series, *, column: str, source: str) -> WrittenOrder:
    """The order a column's numbers-only dates are written in, from the values only one order can read.

    A column with values only day first can read (`13/02/2018`) and values only month first can read
    (`02/13/2018`) is refused with both rows named.
    """
    text = text.astype("string")
    parts = _parts(text)
    if parts is None:
        return WrittenOrder(order=None, evidence=None, ambiguous=None)
    matched = parts[0].notna().to_numpy()
    first = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype="float64")
    second = pd.to_numeric(parts[2], errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        day_only = matched & (first > 12) & (second <= 12)
        month_only = matched & (second > 12) & (first <= 12)
        ambiguous = matched & (first <= 12) & (second <= 12) & (first != second)

    def shown(mask: np.ndarray) -> tuple[int, str] | None:
        at = np.flatnonzero(mask)
        return (spreadsheet_row(at[0]), str(text.iloc[at[0]])) if at.size else None

    day, month = shown(day_only), shown(month_only)
    if day and month:
        raise DataError(
            f"In {source}, column `{column}` has dates written day first (row {day[0]}: '{printable(day[1])}') and "
            f"dates written month first (row {month[0]}: '{printable(month[1])}'). Write them all one way, best "
            "year first (2018-02-13), and send the file again."
        )
    order: DateOrder | None = "day" if day else "month" if month else None
    return WrittenOrder(order=order, evidence=day or month, ambiguous=shown(ambiguous))


def decide_order(text: pd.Series, *, column: str, source: str, known: DateOrder | None = None) -> DateOrder | None:
    """The order to read a column's numbers-only dates in: what the values show, else the model's `known` order.

    Refused with a sentence: values written the other way from `known`, and values that read as two different
    dates when neither the file nor the model says which order is meant. None: the column has no date whose
    reading depends on the order.
    """
    if not _written(text):
        return known  # times already typed (a frame from code): nothing is written in an order
    return _decide(written_order(text, column=column, source=source), known=known, column=column, source=source)


def _written(values: pd.Series) -> bool:
    """Whether `values` are text (typed times, numbers: nothing is written in an order)."""
    return pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)


def _decide(found: WrittenOrder, *, known: DateOrder | None, column: str, source: str) -> DateOrder | None:
    """:func:`decide_order` once the column's values have been read (:func:`written_order`)."""
    if found.order and known and found.order != known:
        row, value = found.evidence
        raise DataError(
            f"In {source}, column `{column}` writes dates {WRITTEN[found.order]} (row {row}: '{printable(value)}'), "
            f"but this model's files write them {WRITTEN[known]} ({PATTERN[known]}). Send the dates that way, or year "
            "first (2018-02-13)."
        )
    order = found.order or known
    if order is None and found.ambiguous:
        row, value = found.ambiguous
        raise DataError(
            f"In {source}, column `{column}` has dates such as '{printable(value)}' (row {row}) that read as two "
            "different days, day first or month first, and no date in the file is past the 12th to tell which. "
            "Write them year first (2018-02-01) and send the file again."
        )
    return order


@dataclass(frozen=True)
class OrderNote:
    """What the mapping step says about how a column's numbers-only dates will be read."""

    sentence: str
    problem: bool
    """True when the file will be refused as it is (both orders, or no way to tell)."""


def order_note(values: pd.Series, *, column: str) -> OrderNote | None:
    """A sentence on the order a column's numbers-only dates will be read in, or None when it has none whose
    reading depends on the order (or, for times written as numbers, a sentence saying how they are read)."""
    unit = number_time_unit(values)
    if unit is not None:
        first = values.dropna().astype("string").str.strip().iloc[0]
        when = _number_times(pd.Series([first], dtype="string"), unit).iloc[0]
        shown = f"{when:%-d %B %Y}" if unit == "D" and when == when.normalize() else f"{when:%-d %B %Y %H:%M}"
        return OrderNote(
            sentence=f"`{column}` holds {NUMBER_TIMES[unit]}: '{printable(first)}' is {shown}"
            f"{' UTC' if unit != 'D' else ''}.",
            problem=False,
        )
    if not _written(values):
        return None
    try:
        found = written_order(values, column=column, source="this file")
        if found.order is None and found.ambiguous is None:
            return None
        order = _decide(found, known=None, column=column, source="this file")
    except DataError as exc:
        return OrderNote(sentence=exc.user_message, problem=True)
    row, value = found.evidence
    sentence = f"Dates in `{column}` are read {WRITTEN[order]} ({PATTERN[order]}), as row {row}'s "
    sentence += f"'{printable(value)}' shows"
    if found.ambiguous is not None:
        example = found.ambiguous[1]
        day = pd.to_datetime(readable(pd.Series([example]), order), errors="coerce", format="mixed").iloc[0]
        sentence += f": '{printable(example)}' is {day:%-d %B %Y}" if pd.notna(day) else ""
    return OrderNote(sentence=sentence + ". Every later file of this model is read the same way.", problem=False)


def _maybe(text: pd.Series) -> np.ndarray:
    """Rows that may hold a numbers-only date: a cheap test on Arrow strings (a million ISO times in
    hundredths of a second), so the full match runs only where it can hit."""
    try:
        hit = text.astype("string[pyarrow]").str.contains(MAYBE, regex=True)
    except (ImportError, TypeError, ValueError):  # no pyarrow: test every row the slow way
        hit = text.str.contains(MAYBE, regex=True)
    return hit.fillna(False).to_numpy(dtype=bool)


def _parts(text: pd.Series) -> pd.DataFrame | None:
    """Day-or-month, separator, month-or-day and year of each numbers-only date (NaN elsewhere); None when the
    column holds none."""
    maybe = _maybe(text)
    if not maybe.any():
        return None
    parts = pd.DataFrame(index=text.index, columns=range(4), dtype="string")
    parts.loc[maybe] = text[maybe].str.extract(NUMERIC_DATE).to_numpy()
    return parts if parts[0].notna().any() else None


def readable(text: pd.Series, order: DateOrder | None) -> pd.Series:
    """`text` with every numbers-only date rewritten in the given order's meaning: year first (`2018-02-13`)
    where the year has four digits, which pandas also reads 20 times faster than `02/13/2018`; month first
    (the order pandas reads) where it has two. Without an order, the values read the same either way."""
    text = text.astype("string")
    maybe = _maybe(text)
    if not maybe.any():
        return text
    day_first = order == "day"

    def rewrite(match: re.Match) -> str:
        one, sep, two, year = match.group(1), match.group(2), match.group(3), match.group(4)
        day, month = (one, two) if day_first else (two, one)
        if len(year) == 4:
            return f"{year}-{int(month):02d}-{int(day):02d}"
        return f"{month}{sep}{day}{sep}{year}"

    out = text.copy()
    out[maybe] = text[maybe].str.replace(NUMERIC_DATE, rewrite, regex=True)
    return out


def guess_times(values: pd.Series) -> pd.Series:
    """A column read as times for a guess, never raising: numbers-only dates in the order the column shows (month
    first when it shows none, or both), zones converted to UTC (a column mixing them is refused later, with a
    sentence, by the checks), anything unreadable NaT."""
    text = values.astype("string")
    unit = number_time_unit(text)
    if unit is not None:
        return _number_times(text, unit)
    try:
        order = written_order(text, column="", source="").order
    except DataError:
        order = None
    text = readable(text, order)
    try:
        parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    except (ValueError, OverflowError, TypeError):  # pandas gives up on some mixtures as a whole
        parsed = pd.to_datetime(
            pd.Series([_one_time(v) for v in text], index=text.index, dtype=object), errors="coerce", utc=True
        )
    return parsed.dt.tz_localize(None)


def _one_time(value: object) -> pd.Timestamp | None:
    try:
        return pd.to_datetime(value, errors="coerce", utc=True)
    except (ValueError, OverflowError, TypeError):
        return None


def parse_timestamps(
    frame: pd.DataFrame,
    column: str,
    *,
    source: str,
    limits: Limits = DEFAULT_LIMITS,
    date_order: DateOrder | None = None,
) -> pd.Series:
    """The column as datetimes (time zones converted to UTC); anything that is not a date inside the
    plausible range, or a column mixing time zones, is an error naming count and first row.

    Numbers-only dates are read in the order the column shows, else in `date_order` (the model's; see
    :func:`decide_order`)."""
    return read_timestamps(frame, column, source=source, limits=limits, date_order=date_order)[0]


def read_timestamps(
    frame: pd.DataFrame,
    column: str,
    *,
    source: str,
    limits: Limits = DEFAULT_LIMITS,
    date_order: DateOrder | None = None,
) -> tuple[pd.Series, DateOrder | None]:
    """:func:`parse_timestamps`, with the order its numbers-only dates were read in (for a model's first file to
    keep), from the one reading of the column."""
    raw = frame[column]
    order = date_order
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw)
    else:
        text = raw.astype("string")
        unit = number_time_unit(text)
        if unit is not None:
            parsed = _number_times(text, unit)
        else:
            zoned = _refuse_mixed_zones(text, column, source=source)
            order = decide_order(text, column=column, source=source, known=date_order)
            text = readable(text, order)
            try:
                # with offsets, utc=True: pandas refuses a column of several offsets otherwise
                parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=zoned)
            except (ValueError, OverflowError):
                parsed = pd.Series(
                    [pd.to_datetime(v, errors="coerce", utc=True) for v in text], index=text.index, dtype=object
                )
                parsed = pd.to_datetime(parsed, errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = parsed.isna()
    if bad.any():
        n, row, value = first_bad(bad, raw.astype("string").fillna(""))
        raise DataError(
            f"In {source}, column `{column}` has {n:,} values that are not dates, first at row {row}{quoted(value)}."
        )
    lo, hi = pd.Timestamp(limits.earliest_date), pd.Timestamp(limits.latest_date) + pd.Timedelta(days=1)
    outside = (parsed < lo) | (parsed >= hi)
    if outside.any():
        n, row, value = first_bad(outside, raw.astype("string").fillna(""))
        raise DataError(
            f"In {source}, column `{column}` has {plural(n, 'date')} outside {limits.earliest_date:%Y-%m-%d} to "
            f"{limits.latest_date:%Y-%m-%d}, first at row {row}{quoted(value)}. Fix them, or widen the range with "
            "MODELPULSE_EARLIEST_DATE / MODELPULSE_LATEST_DATE."
        )
    return parsed.astype("datetime64[us]"), order


def _refuse_mixed_zones(text: pd.Series, column: str, *, source: str) -> bool:
    """Whether the times carry UTC offsets; some with one and some without is refused (the others' zone is
    unknown). Different offsets are fine: a shop's export across a daylight-saving change writes -05:00 in
    winter and -04:00 in summer, each an exact instant, and every one is stored in UTC."""
    sample = text.dropna().str.strip()
    zoned = sample.str.contains(ZONE.pattern.replace("(Z|", "(?:Z|"), regex=True).fillna(False)  # no group
    if zoned.all() or not zoned.any():
        return bool(zoned.any())
    first = bool(zoned.iloc[0])
    other = int(np.flatnonzero((zoned != first).to_numpy())[0])

    def name(row: int) -> str:
        if not zoned.iloc[row]:
            return "no time zone"
        zone = ZONE.search(sample.iloc[row]).group(1).replace("Z", "+00:00").replace(":", "")
        zone = zone + "00" if len(zone) == 3 else zone
        return f"UTC{zone[:3]}:{zone[3:]}"

    raise DataError(
        f"In {source}, column `{column}` mixes time zones: {name(0)} at row {spreadsheet_row(sample.index[0])} "
        f"but {name(other)} at row {spreadsheet_row(sample.index[other])}. Write every time in one zone (UTC is "
        "safest) and send the file again."
    )
