"""The shape of a founder's file before its cells are read: its size, its row count, a title line above the column
names, and which cells count as empty. The CSV, workbook and JSON readers all apply these."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from core.errors import DataError
from core.intake.checks import printable

EMPTY = ("", "NA", "NaN", "nan", "null", "#N/A")
"""Cells read as empty, in a CSV and in a workbook alike."""
WORDY = re.compile(r"\w")


def check_size(size: int, filename: str, max_mb: int | None) -> None:
    """Refuse a file over the upload limit, in the units that show it is over."""
    if max_mb is not None and size / 1_000_000 > max_mb:
        mb = size / 1_000_000
        # a decimal where whole megabytes would read "20 MB; the limit is 20 MB"
        shown = f"{mb:,.0f}" if round(mb) > max_mb else f"{mb:,.1f}" if round(mb, 1) > max_mb else f"{size:,} bytes"
        raise DataError(
            f"The file {filename} is {shown}{'' if 'bytes' in shown else ' MB'}; the limit is {max_mb:,} MB "
            "(setting MODELPULSE_MAX_UPLOAD_MB)."
        )


def check_rows(rows: int, filename: str, max_rows: int | None, *, about: bool = False) -> None:
    """Refuse a file of more than `max_rows` rows (`about`: counted from its line breaks)."""
    if max_rows is not None and rows > max_rows:
        raise DataError(
            f"The file {filename} has {'about ' if about else ''}{rows:,} rows; ModelPulse takes at most "
            f"{max_rows:,} rows per file, so send it as several smaller files."
        )


def refuse_title(lines: Iterable[list], *, filename: str, where: str, first_number: int = 1) -> None:
    """Refuse a file whose first line is a title or a note (one filled cell) above the real column names, found
    among the next lines: read as it is, it would be one column named after the title."""
    lines = iter(lines)
    first = next(lines, [])
    while first == [] and (line := next(lines, None)) is not None:  # blank lines before the names are skipped
        first, first_number = line, first_number + 1
    names = filled(first)
    if len(names) > 1:
        return
    for number, line in enumerate(itertools.islice(lines, 20), start=first_number + 1):
        if len(filled(line)) > 1:
            title = f" ('{printable(names[0])}')" if names else ""
            raise DataError(
                f"The file {filename} starts with a title or a note{title} above its column names, which begin on "
                f"{where} {number}: delete the {where}s above the column names and upload it again."
            )


def filled(line: list) -> list[str]:
    """A line's cells holding a letter or digit: a cell of only punctuation (`,,` read with semicolons) is as
    empty as a blank one."""
    return [str(c).strip() for c in line if c is not None and WORDY.search(str(c))]
