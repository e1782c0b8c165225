"""Packed files: a gzip or zip file unpacked to the one table inside it, refused before it unpacks to far more than
a table packs to (a gzip or zip bomb)."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from pathlib import Path

from core.errors import DataError
from core.intake.checks import printable

PACKED_EXPANSION = 100
"""How many times its own size a gzip or zip file may unpack to (CSV text packs 5-20x; a zip bomb thousands)."""


def _gunzip(data: bytes, filename: str) -> tuple[bytes, str]:
    """The file inside a gzip-compressed one (`orders.csv.gz`, as database and warehouse exports write them), and
    its name: the name without `.gz`."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
        try:
            inner = packed.read(_unpack_limit(len(data)) + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(
                f"The file {filename} is not a readable gzip file; compress it again, or send it unpacked."
            ) from exc
    _check_unpacked(len(inner), len(data), filename)
    return inner, Path(filename).stem


def _unzip(data: bytes, filename: str) -> tuple[bytes, str]:
    """The one table a zip archive holds (what "download as zip" gives), and its name; the folders and the hidden
    files a Mac adds are not counted."""
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
    return inner, Path(member.filename).name


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


UNPACKERS = {".gz": _gunzip, ".zip": _unzip}
"""How each packed file is opened, by its name's ending."""


def unpack(data: bytes, filename: str) -> tuple[bytes, str]:
    """The table inside the packed file `filename`, and its name (which says how to read it)."""
    return UNPACKERS[Path(filename).suffix.lower()](data, filename)
