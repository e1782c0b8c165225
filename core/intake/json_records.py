"""A JSON export as the CSV text the one reader reads: a list of records, JSON lines, or an API page.

What a founder gets from an API, a database or an analytics tool: a list of records (`[{...}, {...}]`), one record
per line (`.jsonl`, `.ndjson`), a page that wraps its list (`{"data": [...], "has_more": false}`), or a list of
rows under a header row (`[["id", "plan"], [1, "pro"]]`, a sheet's values). Each scalar becomes the text a CSV
export of it would hold (`true` -> TRUE, integers exact, however long), so typing and every check downstream are
the CSV reader's. Nested records become columns (`{"customer": {"plan": "pro"}}` -> `customer.plan`, tidied to
`customer_plan`); a list in a cell is kept as its JSON text, and said.

The text is decoded one record at a time (`raw_decode`), and each row is written out as CSV as soon as it is
read: a million records never exist as Python objects at once. A record with a name not seen before adds a column
at the end; the rows written before it are shorter, which the CSV reader reads as empty cells.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re

from core.errors import DataError
from core.intake.checks import printable
from core.intake.encoding import as_utf8

MAX_NAMES = 10_000
"""Different names the records may use: an object keyed by ids (`{"u1": {...}, "u2": {...}}`) would otherwise
become a column per id."""
CUT_SHORT = "the text ends before the list of records is closed; was it cut short?"
PLAIN = {str, int, float, type(None)}
"""Values the CSV writer writes as `_text` would (a bool is not one: it is written TRUE/FALSE)."""
SPACE = re.compile(r"[ \t\n\r]*")


def json_as_csv(data: bytes, filename: str, max_rows: int | None) -> tuple[bytes, str | None]:
    """The records of a JSON file as CSV bytes (UTF-8, a header row first), and a sentence on how they were read."""
    raw, encoding = as_utf8(data, filename)
    text = raw.decode("utf-8-sig")
    names: dict[str, int] = {}
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\n")
    notes = [encoding] if encoding else []
    listed: dict[str, None] = {}
    in_order: dict[tuple, bool] = {}  # a record's names -> whether they are the first columns, in order
    n = 0
    try:
        records, where = _records(text, filename)
        header: list[str] | None = None
        for n, record in enumerate(records, start=1):
            if max_rows is not None and n > max_rows:
                raise DataError(
                    f"The file {filename} has more than {max_rows:,} records; ModelPulse takes at most {max_rows:,} "
                    "rows per file, so send it as several smaller files."
                )
            if n == 1 and _is_header(record):
                header = record  # a sheet's values: the first row names the columns
                for name in header:
                    if name in names:
                        raise DataError(f"In {filename}, the header row names `{printable(name)}` twice.")
                    names[name] = len(names)
                continue
            keys = tuple(record) if header is None and type(record) is dict else None
            if keys is not None and in_order.get(keys) and {type(v) for v in record.values()} <= PLAIN:
                # the common record: flat, plain values, its names the first columns in order; the writer
                # writes None empty and numbers as str() does, as `_text` would
                writer.writerow(record.values())
                continue
            writer.writerow(_row(_cells(record, header, n, filename), names, n, filename, listed))
            if keys is not None and len(in_order) < 1000:
                in_order[keys] = list(itertools.islice(names, len(keys))) == list(keys)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"The file {filename} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from exc
    except RecursionError as exc:
        raise DataError(f"The file {filename} nests its values too deeply to be a table.") from exc
    if not names:
        raise DataError(f"The file {filename} holds no records." if n == 0 else f"The records in {filename} are empty.")
    if where:
        notes.append(f"Read the records under `{printable(where)}`.")
    if listed:
        shown = ", ".join(f"`{printable(c)}`" for c in list(listed)[:5])
        notes.append(f"{shown} hold{'s' if len(listed) == 1 else ''} lists, kept as their JSON text.")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(list(names))
    return (out.getvalue() + body.getvalue()).encode("utf-8"), " ".join(notes) or None


def _row(
    cells: list[tuple[str, object]], names: dict[str, int], n: int, filename: str, listed: dict[str, None]
) -> list[str]:
    """Record `n`'s cells as a CSV row in the order of `names`, which gains the names it had not seen."""
    row: list[str] = [""] * len(names)
    filled: set[int] = set()
    for name, value in cells:
        at = names.setdefault(name, len(names))
        if len(names) > MAX_NAMES:
            raise DataError(
                f"The records in {filename} use more than {MAX_NAMES:,} different names (the last new one "
                f"`{printable(name[:60])}`, in record {n}): an object keyed by ids, not a list of records. "
                "Export a list with one record per row."
            )
        if at in filled:
            raise DataError(
                f"In {filename}, record {n} gives `{printable(name)}` twice (once inside a nested record); "
                "rename one of them."
            )
        filled.add(at)
        if at >= len(row):
            row.extend([""] * (at + 1 - len(row)))
        if isinstance(value, list):
            listed[name] = None
        row[at] = _text(value)
    return row


def _skip(text: str, at: int) -> int:
    return SPACE.match(text, at).end()


def _records(text: str, filename: str):
    """The records, one at a time, and the key of the list they were found under (None at the top)."""
    decoder = json.JSONDecoder(object_pairs_hook=lambda pairs: _unique(pairs, filename))
    at = _skip(text, 0)
    if at == len(text):
        raise DataError(f"The file {filename} is empty.")
    if text[at] == "[":
        return _listed(text, at, decoder, filename), None
    first, end = decoder.raw_decode(text, at)
    if _skip(text, end) == len(text) and isinstance(first, dict):
        lists = [k for k, v in first.items() if _is_table(v)]
        if len(lists) > 1:
            shown = ", ".join(f"`{printable(k)}`" for k in lists[:5])
            raise DataError(f"The file {filename} holds several lists of records ({shown}); send one list per file.")
        if lists:
            return iter(first[lists[0]]), lists[0]
    return _lines(text, first, end, decoder), None


def _unique(pairs: list[tuple[str, object]], filename: str) -> dict:
    """A JSON object as a dict, refused when it names a key twice: `json` would keep the last value and drop the
    other without a word."""
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise DataError(f"In {filename}, a record names `{printable(twice)}` twice; rename one of them.")
    return out


def _is_table(value) -> bool:
    """A list of records, or of rows under a header row of names."""
    if not isinstance(value, list) or not value:
        return False
    return all(isinstance(r, dict) for r in value) or _is_header(value[0])


def _is_header(row) -> bool:
    """A sheet's first row: a list of names."""
    return isinstance(row, list) and bool(row) and all(isinstance(v, str) for v in row)


def _listed(text: str, at: int, decoder: json.JSONDecoder, filename: str):
    at = _skip(text, at + 1)
    if text[at : at + 1] == "]":
        return
    while True:
        record, at = decoder.raw_decode(text, at)
        yield record
        at = _skip(text, at)
        mark = text[at : at + 1]
        if mark == ",":
            at = _skip(text, at + 1)
        elif mark == "]":
            break
        elif not mark:
            raise json.JSONDecodeError(CUT_SHORT, text, at)
        else:
            raise json.JSONDecodeError("Expecting ',' or ']' after a record", text, at)
    if _skip(text, at + 1) != len(text):
        raise json.JSONDecodeError("Text after the list of records", text, _skip(text, at + 1))


def _lines(text: str, first, at: int, decoder: json.JSONDecoder):
    """JSON lines (or records written one after another): the first record is already decoded."""
    yield first
    at = _skip(text, at)
    while at < len(text):
        record, at = decoder.raw_decode(text, at)
        yield record
        at = _skip(text, at)


def _cells(record, header: list[str] | None, n: int, filename: str) -> list[tuple[str, object]]:
    """A record's (name, value) pairs, nested records flattened to `outer.inner`."""
    if header is not None:
        if not isinstance(record, list):
            raise DataError(f"Record {n} of {filename} is {_kind(record)}, not a row of values like the rows above it.")
        if len(record) > len(header):
            raise DataError(
                f"Row {n} of {filename} has {len(record)} values for {len(header)} column names; fix that row."
            )
        return list(zip(header, record, strict=False))
    if not isinstance(record, dict):
        raise DataError(f"Record {n} of {filename} is {_kind(record)}, not a record of named values (`{{...}}`).")
    out: list[tuple[str, object]] = []
    _flatten(record, "", out)
    return out


def _flatten(record: dict, prefix: str, out: list[tuple[str, object]]) -> None:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, f"{name}.", out)
        else:
            out.append((name, value))


def _kind(value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return "a yes/no value" if isinstance(value, bool) else "a number"


def _text(value) -> str:
    """A JSON value as a CSV export would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # as the JSON wrote it: `97.0` stays `97.0`, as a CSV export of it would
    if isinstance(value, dict):
        return ""  # an empty nested record: nothing to say
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return value
