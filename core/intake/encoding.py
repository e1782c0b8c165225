"""A text file's encoding: UTF-8, or the two a spreadsheet writes when asked for plain "CSV" or "Unicode text".

Excel on Windows saves "CSV (Comma delimited)" in the system's code page, Windows-1252 in the Americas and
western Europe, so `José` or `£` arrive as single bytes that are not UTF-8; its "Unicode Text" is UTF-16 with a
byte-order mark. Both are read, and said. Any other text that is not UTF-8 is refused, naming its first bad
byte: Windows-1252 gives every byte a character, so a file in another code page (Cyrillic, Greek) would read
as plausible-looking nonsense (`Ïðèâåò`), and is told apart by the characters it would read as.
"""

from __future__ import annotations

import codecs
import io
import re

from core.errors import DataError

STEP = 1 << 20
"""Bytes decoded at a time: a decoded copy of a whole 200 MB upload would cost more memory than the file."""
WESTERN = re.compile(
    r"[\x00-\x7f\u00a0\u00a1\u00a3\u00a5\u00a7\u00a9\u00aa\u00ab\u00ae\u00b0-\u00b3\u00b5\u00b7"
    r"\u00b9-\u00bf\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u20ac\u2013\u2014\u2018\u2019\u201c"
    r"\u201d\u2022\u2026\u2122]*"
)
"""What Windows-1252 text in a western language holds: ASCII, accented Latin letters, and the currency,
quote, dash and degree signs people type. Its other characters (`¤ ¦ ¨ ˆ ‰ Š ‹ Œ`) are what a file in
another encoding reads as."""
FOREIGN_RUN = re.compile(r"[\u00c0-\u00ff]{4,}")
"""Four accented letters in a row: no western word has them, a Cyrillic or Greek word read as Windows-1252 does."""


def as_utf8(data: bytes, filename: str) -> tuple[bytes, str | None]:
    """The file's text as UTF-8 bytes, and a sentence when it had to be converted; a sentence naming the first
    bad byte when it is none of the encodings read."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _transcode(data, "utf-16"), "Read as UTF-16 text (Excel's 'Unicode Text')."
        except UnicodeDecodeError as exc:
            raise DataError(
                f"The file {filename} starts as UTF-16 text but is not: save it as 'CSV UTF-8' and upload it again."
            ) from exc
    problem = _first_bad_utf8(data)
    if problem is None:
        return data, None
    if _western_1252(data):
        return _transcode(data, "cp1252"), "Read as Windows-1252 text (Excel's plain 'CSV' on Windows), not UTF-8."
    at, line = problem
    raise DataError(
        f"The file {filename} is not UTF-8 text: the first bad byte is at byte {at + 1:,} (line {line}). Save it "
        "as 'CSV UTF-8' and upload it again."
    )


def _first_bad_utf8(data: bytes) -> tuple[int, int] | None:
    """The offset and line of the first byte that is not UTF-8, decoded piece by piece; None when all is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), STEP):
        try:
            decoder.decode(data[start : start + STEP], final=start + STEP >= len(data))
        except UnicodeDecodeError as exc:
            at = start + exc.start
            return at, data[:at].count(b"\n") + 1
    return None


def _western_1252(data: bytes) -> bool:
    """Every byte is Windows-1252 and reads as western text (see WESTERN and FOREIGN_RUN)."""
    decoder = codecs.getincrementaldecoder("cp1252")()
    for start in range(0, len(data), STEP):
        try:
            text = decoder.decode(data[start : start + STEP], final=start + STEP >= len(data))
        except UnicodeDecodeError:
            return False  # 0x81, 0x8d, 0x8f, 0x90, 0x9d mean nothing in Windows-1252
        if not WESTERN.fullmatch(text) or FOREIGN_RUN.search(text):
            return False
    return True


def _transcode(data: bytes, encoding: str) -> bytes:
    decoder = codecs.getincrementaldecoder(encoding)()
    out = io.BytesIO()
    for start in range(0, len(data), STEP):
        out.write(decoder.decode(data[start : start + STEP], final=start + STEP >= len(data)).encode("utf-8"))
    return out.getvalue()
