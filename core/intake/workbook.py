"""Excel workbooks: the first sheet with data streamed out as the CSV text its export would be, for the one CSV
reader to read (the same text, empty cells and limits as a CSV, and a fraction of the memory of a million rows of
Python values)."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import xml.etree.ElementTree as ET
import zipfile

from core.errors import DataError
from core.intake.checks import printable
from core.intake.layout import EMPTY
from core.intake.layout import check_rows
from core.intake.layout import refuse_title

XLSX_EXPANSION = 40
"""How many times its own size a workbook may unpack to (text XML packs 5-10x; a zip bomb packs thousands)."""


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


def workbook_as_csv(data: bytes, filename: str, max_rows: int | None) -> tuple[bytes, str | None]:
    """The first sheet with data of an Excel workbook as CSV text, every cell as its CSV export would hold it,
    formulas as the values Excel last computed, and a sentence when the workbook has other sheets with data. The
    workbook is opened read-only and streamed, after its unpacked size is checked."""
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
                refuse_title(itertools.chain([head], it), filename=filename, where="row", first_number=blank + 1)
            used, width = sheet.title, _width(head)
            # an unnamed column between named ones is named by its place, as a spreadsheet shows it
            writer.writerow([(_cell_text(v) or f"column_{i + 1}").strip() for i, v in enumerate(head[:width])])
            for row in it:
                cells = [_cell_text(v) for v in row[:width]]
                if not any(c is not None for c in cells):
                    continue  # a row left blank, often at the end
                n_rows += 1
                if max_rows is not None and n_rows > max_rows:
                    check_rows(n_rows, filename, max_rows)
                writer.writerow([("" if c is None else c) for c in cells] + [""] * (width - len(cells)))
    except (KeyError, ValueError, TypeError, OSError, ET.ParseError) as exc:
        raise DataError(damaged) from exc
    finally:
        book.close()
    if used is None:
        raise DataError(f"The file {filename} is empty.")
    note = f"Read the sheet `{printable(used)}`, the first of {sheets} sheets with data." if sheets > 1 else None
    return out.getvalue().encode("utf-8"), note


def _width(header: tuple) -> int:
    """Columns up to the header's last named cell: a sheet's used range often runs on past it, and cells there
    with no name above them are left out, as they would be of any mapping."""
    named = [i for i, v in enumerate(header) if v is not None]
    return named[-1] + 1 if named else 0
