"""Numbers as spreadsheets write them: `$1,889.50`, `5%`, `(12.00)`, `29,85 €`, read as the plain numbers they are.

A CSV export writes what a cell shows, so a currency or percent format, thousands separators and, in most of
Europe, decimal commas reach the reader as text, while the workbook itself holds plain numbers. Rewriting that
text to the plain number makes a CSV read as the workbook it came from (5% is 0.05 in both), so a founder's
money column is a number to map, not a category with thousands of values. The rewrite stays text (every cell of
a file is text until `checks.py` types it) and is string work only, so `14.5%` is `0.145`, never
`0.14500000000000002`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd

from core.intake.checks import printable

SYMBOLS = "$€£¥₹₩₽₺₪₫₦"
"""Currency symbols a spreadsheet's currency format writes beside the number. Codes (`USD 12`) are not read: a
column of `SKU 123` would look the same."""
MIN_SHARE = 0.98
"""A column is read as numbers when this share of its cells are numbers so written; the rest stay as they are
for the number check to name (`n/a`, `TBC`), not for the whole column to be refused at its first `$`."""
EVIDENCE_ROWS = 10_000
"""Cells per column read to tell a decimal-comma file from a decimal-point one."""
_SYM = f"[{re.escape(SYMBOLS)}]"


@dataclass(frozen=True)
class Style:
    """How a file writes numbers: what separates thousands and what starts the decimals."""

    name: str
    group: str
    """A regex class of the thousands separators."""
    point: str
    marks: str
    """A regex any cell with something to rewrite contains; columns without one are left untouched."""
    pattern: str = field(init=False)

    def __post_init__(self) -> None:
        number = rf"(?:\d{{1,3}}(?:{self.group}\d{{3}})+|\d+)(?:{re.escape(self.point)}\d+)?|{re.escape(self.point)}\d+"
        body = rf"[+-]?\s*{_SYM}?\s*[+-]?\s*(?:{number})\s*{_SYM}?\s*%?"
        # accounting formats write a negative in brackets and a zero amount as a lone dash after the symbol
        pattern = rf"\s*(?:{body}|\(\s*{body}\s*\)|{_SYM}\s*-)\s*"
        object.__setattr__(self, "pattern", pattern)


BRACKET = rf"\(\s*{_SYM}?\s*\d"
"""A number in brackets (`(12.00)`, `($12.00)`), not words in them (`Bank transfer (automatic)`)."""
POINT = Style(name="point", group=",", point=".", marks=rf"{_SYM}|%|{BRACKET}|\d,\d{{3}}")
COMMA = Style(name="comma", group=r"[.\s]", point=",", marks=rf"{_SYM}|%|{BRACKET}|\d,\d")
"""In a decimal-comma file a thousands separator may be a dot or a (narrow, no-break) space: `1 234,50`. A column
of whole numbers written `1.234` has nothing that marks it: it is read as thousands only when another column of
the file shows its decimal commas."""


def _plain(text: pd.Series, style: Style) -> pd.Series:
    """Cells matching `style.pattern` as plain number text: `($1,889.50)` -> `-1889.50`, `14,5 %` -> `0.145`."""
    negative = text.str.contains(r"^\s*\(|-", regex=True)
    percent = text.str.contains("%", regex=False)
    digits = text.str.replace(r"[^0-9.,]", "", regex=True)
    if style is COMMA:
        digits = digits.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        digits = digits.str.replace(",", "", regex=False)
    digits = digits.mask(digits == "", "0")  # `$ -`: the accounting zero
    if percent.any():
        parts = digits[percent].str.partition(".")
        whole = parts[0].str.zfill(3)
        digits = digits.mask(percent, whole.str.slice(0, -2) + "." + whole.str.slice(-2) + parts[2])
    return digits.mask(negative & (digits.str.strip("0.") != ""), "-" + digits)


@dataclass(frozen=True)
class Rewritten:
    """A column read as numbers: its name and the first rewritten cell, before and after, to show the founder."""

    column: str
    before: str
    after: str
    decimal_comma: bool
    """Only decimal commas and thousands dots were rewritten (the European export's note names these together)."""
    commas: bool = False
    """The column shows the file writes decimals with commas."""


SAMPLE = 10_000
"""Cells per column looked at first (the file's first 2,000 and others spread over the rest): a currency or
percent format marks every cell, and a thousands separator every large number, so a column none of them
marks is left alone without reading it whole (the whole look cost 1.1 s per million rows of 22 columns). A
column whose separators are that rare keeps them, and the number check names the first."""


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= SAMPLE:
        return frame
    step = max(1, (len(frame) - 2000) // (SAMPLE - 2000))
    return frame.iloc[np.r_[0:2000, 2000 : len(frame) : step]]


THOUSANDS = r"\d[.\s]\d{3}"
"""What marks a decimal-comma file's whole number over a thousand (`1.234`, `1 234`)."""


def _rewrite(
    frame: pd.DataFrame, column: str, style: Style, *, sample: pd.DataFrame, marks: str | None = None
) -> Rewritten | None:
    """Rewrite one column in place when it is written in `style` and some cell holds `marks` (the style's own by
    default), first looked for in `sample` (rows of `frame`); what was rewritten, or None."""
    values = frame[column]
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return None
    if not sample[column].astype("str").str.contains(marks or style.marks, regex=True).fillna(False).any():
        return None
    text = values.astype("str")
    marked = text.str.contains(marks or style.marks, regex=True).fillna(False)
    if not marked.any():
        return None
    filled = text.notna()
    matches = text.str.fullmatch(style.pattern).fillna(False)
    if not filled.any() or matches.sum() < MIN_SHARE * filled.sum():
        return None
    if style is COMMA and not matches[filled].all():
        return None  # `12.5` beside `29,85`: which one is meant cannot be told, and the number check names it
    hits, hit_marked = text[matches], marked[matches]
    plain = _plain(hits, style)
    # the example shown is the first that shows the most: a thousands separator, else anything but a zero
    grouped = hits.str.contains(rf"\d{style.group}\d{{3}}", regex=True) & hit_marked
    telling = hit_marked & (plain.str.strip("0.-") != "")
    first = next((int(m.to_numpy().argmax()) for m in (grouped, telling, hit_marked) if m.any()), 0)
    before, after = str(hits.iloc[first]).strip(), str(plain.iloc[first])
    frame[column] = text.mask(matches, plain)
    symbols = hits.str.contains(rf"{_SYM}|%|\(", regex=True).any()
    commas = style is COMMA and hits.str.contains(r"\d,\d", regex=True).any()
    return Rewritten(
        column=str(column), before=before, after=after, decimal_comma=style is COMMA and not symbols, commas=commas
    )


def _evidence(frame: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Columns only a decimal comma reads, and columns only a decimal point reads (`29,85` vs `1,234.50`)."""
    commas, points = set(), set()
    for column in frame.columns:
        text = frame[column].dropna().head(EVIDENCE_ROWS)
        if text.empty or not (pd.api.types.is_string_dtype(text) or text.dtype == object):
            continue
        text = text.astype("str")
        if not text.str.contains(r"\d[.,]\d", regex=True).any():
            continue
        as_comma = text.str.fullmatch(COMMA.pattern).all()
        as_point = text.str.fullmatch(POINT.pattern).all()
        if as_comma and not as_point and text.str.contains(",", regex=False).any():
            commas.add(column)
        elif as_point and not as_comma and text.str.contains(r"[.,]", regex=True).any():
            points.add(column)
    return commas, points


@dataclass(frozen=True)
class NumbersRead:
    """What `read_numbers` rewrote, worded for the upload page."""

    commas: str | None = None
    """`with decimal commas (...) in `a`, `b``: a clause for the sentence naming the file's separator."""
    plain: str | None = None
    """A sentence naming the columns whose amounts, percentages or separators were read, with an example each."""


def read_numbers(frame: pd.DataFrame, *, sep: str, tidy: Callable[[str], str]) -> NumbersRead:
    """Rewrite the columns written as spreadsheet numbers to plain number text, in place, and say which.

    A comma-separated file writes decimals with a point (`"1,234.50"`). A file with another separator was
    usually saved by a European spreadsheet and writes decimal commas, unless no column reads that way and
    one reads only the other way (a US tab-separated export). Once a file writes decimals with commas, its
    dots are between thousands, so whole numbers written `1.234` are read as 1234 too. The sentence names
    columns by `tidy`, the name the mapping step will show.
    """
    style = POINT
    if sep != ",":
        commas, points = _evidence(frame)
        style = POINT if points and not commas else COMMA
    sample = _sample(frame)
    done = [r for c in frame.columns if (r := _rewrite(frame, c, style, sample=sample)) is not None]
    if style is COMMA and any(r.commas for r in done):
        # `1.234` in a column of whole numbers: a thousand and more, by the file's other columns
        seen = {r.column for r in done}
        done += [
            r
            for c in frame.columns
            if str(c) not in seen and (r := _rewrite(frame, c, COMMA, sample=sample, marks=THOUSANDS))
        ]
    if not done:
        return NumbersRead()
    order = {str(c): i for i, c in enumerate(frame.columns)}
    done.sort(key=lambda r: order[r.column])
    commas = [r for r in done if r.decimal_comma]
    marked = [r for r in done if not r.decimal_comma]
    clause = f"with decimal commas (29,85 is 29.85; 1.234 is 1234) in {_names(commas, tidy)}" if commas else None
    sentence = None
    if marked:
        shown = ", ".join(f"`{printable(tidy(r.column))}` ('{printable(r.before)}' is {r.after})" for r in marked[:4])
        more = f" and {len(marked) - 4} more" if len(marked) > 4 else ""
        sentence = f"Numbers written with a currency, a percent sign or separators are read as numbers: {shown}{more}."
    return NumbersRead(commas=clause, plain=sentence)


def _names(rows: list[Rewritten], tidy: Callable[[str], str]) -> str:
    shown = ", ".join(f"`{printable(tidy(r.column))}`" for r in rows[:4])
    return shown + (f" and {len(rows) - 4} more" if len(rows) > 4 else "")
