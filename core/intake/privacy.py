"""Columns that look like personal data, and what a founder chose to do with them: drop, or keep a keyed hash.

Detection looks at the values first (e-mail addresses, phone numbers) and at the column's name for
people's names and free text (comments, notes, titles). Each flag carries one sentence saying why; no
sentence ever holds a raw value (an e-mail address is shown masked: `m***@startup.com`).

A hashed column keeps an HMAC-SHA256 of each value under the store's key, so the same value always
gives the same hash: ids still join outcomes to predictions, a hashed input is still a category, and
nobody holding the store alone can turn a hash back into the value. The key is `Settings.hash_key`, or
a random one kept in `hash.key` beside the store (created on first use, readable by its owner only):
keep that file with the store, or later files of a hashed model no longer match the earlier ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from core.config import Settings
from core.config import load_settings

Kind = Literal["email", "phone", "name", "free_text"]
Choice = Literal["keep", "drop", "hash"]

SAMPLE = 500
"""Values looked at per column: enough to tell addresses or phone numbers from anything else."""
SHARE = 0.5
"""A column is flagged when at least this share of its sampled values look personal."""
KEY_FILE = "hash.key"

EMAIL_RE = re.compile(r"^[\w.%+'-]+@[\w-]+(\.[\w-]+)*\.[^\W\d_]{2,}$")
"""Local part, @, a domain with a dot and a top-level name of letters (any script: `tomás@café.fr` counts)."""
PHONE_RE = re.compile(r"^\+?\(?\d[\d\s().-]*$")
DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
DECIMAL = re.compile(r"^\d+\.\d+$")
"""A plain decimal number (`0.006399`, `40.712776`): an upload reads every cell as text, and a measurement with
seven or more digits would otherwise pass for a phone number written with a dot."""
PHONE_HINTS = {"phone", "mobile", "tel", "telephone", "cell", "msisdn", "fax"}
NAME_COLUMNS = {
    "name",
    "first_name",
    "last_name",
    "full_name",
    "middle_name",
    "firstname",
    "lastname",
    "fullname",
    "surname",
    "given_name",
    "family_name",
    "contact",
    "username",
    "person",
}
PERSON_WORDS = {
    "customer",
    "client",
    "contact",
    "user",
    "owner",
    "holder",
    "patient",
    "employee",
    "guest",
    "passenger",
    "member",
    "person",
    "account",
    "buyer",
    "seller",
    "driver",
    "student",
}
TEXT_COLUMNS = {
    "title",
    "comment",
    "comments",
    "note",
    "notes",
    "description",
    "message",
    "messages",
    "remark",
    "remarks",
    "feedback",
    "review",
    "text",
    "body",
    "subject",
    "memo",
}


@dataclass(frozen=True)
class PersonalColumn:
    """A column that looks like personal data, why, and what ModelPulse suggests doing with it."""

    column: str
    kind: Kind
    reason: str
    """One sentence saying why, with no raw value in it."""
    suggested: Literal["hash", "drop"]


def mask_email(value: str) -> str:
    """`maya@startup.com` -> `m***@startup.com`: enough to recognise the kind of value, not the person."""
    local, _, domain = value.strip().partition("@")
    return f"{local[:1]}***@{domain}"


def _text_sample(series: pd.Series) -> pd.Series:
    values = series.dropna()
    if pd.api.types.is_float_dtype(values) and len(values) and (values % 1 == 0).all():
        values = values.astype("int64")
    text = values.astype("string").str.strip()
    text = text[text != ""]
    return text.sample(SAMPLE, random_state=0) if len(text) > SAMPLE else text


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _matches(text: pd.Series, pattern: re.Pattern[str]) -> pd.Series:
    """Python's own regex on each value (pandas may hand `str.match` to an engine whose \\w is ASCII only)."""
    return text.map(lambda v: bool(pattern.match(v))).astype(bool)


def _phone_share(text: pd.Series, *, hinted: bool) -> float:
    """Share of values that are phone numbers: 7 to 15 digits, with an optional + and spaces, dashes,
    dots or parentheses. Bare digits count only when the column is named like a phone (else ids would), and a
    plain decimal number never does."""
    digits = text.str.count(r"\d")
    shaped = _matches(text, PHONE_RE) & digits.between(7, 15) & ~_matches(text, DATE_LIKE) & ~_matches(text, DECIMAL)
    if not hinted:
        shaped &= text.str.contains(r"[+\s().-]", regex=True)
    return float(shaped.mean())


def _tokens(column: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", column.lower()) if t]


def _by_name(column: str) -> Kind | None:
    low = column.lower()
    tokens = _tokens(low)
    if low in NAME_COLUMNS or (len(tokens) == 2 and tokens[1] == "name" and tokens[0] in PERSON_WORDS):
        return "name"
    if tokens and tokens[-1] in TEXT_COLUMNS:
        return "free_text"
    return None


def _looks_like_free_text(text: pd.Series) -> tuple[float, float] | None:
    """(average length, share of distinct values) when most values are sentences rather than categories."""
    if len(text) < 20:
        return None
    length = float(text.str.len().mean())
    spaced = float(text.str.contains(" ").mean())
    distinct = text.nunique() / len(text)
    if length >= 25 and spaced >= 0.6 and distinct >= 0.5:
        return length, distinct
    return None


def personal_columns(frame: pd.DataFrame, *, exclude: Iterable[str] = ()) -> list[PersonalColumn]:
    """Columns of `frame` that look like personal data, in the frame's order, each with the reason."""
    skip = set(exclude)
    out: list[PersonalColumn] = []
    for col in frame.columns:
        if col in skip:
            continue
        series = frame[col]
        found = _classify(str(col), series)
        if found is not None:
            out.append(found)
    return out


def _classify(col: str, series: pd.Series) -> PersonalColumn | None:
    text = _text_sample(series)
    if text.empty:
        return None
    if _is_text(series):
        emails = _matches(text, EMAIL_RE)
        share = float(emails.mean())
        if share >= SHARE:
            example = mask_email(str(text[emails].iloc[0]))
            return PersonalColumn(
                col, "email", f"{share:.0%} of values look like e-mail addresses (for example {example}).", "hash"
            )
    hinted = bool(PHONE_HINTS.intersection(_tokens(col)))
    if _is_text(series) or hinted:
        share = _phone_share(text, hinted=hinted)
        if share >= SHARE:
            return PersonalColumn(col, "phone", f"{share:.0%} of values look like phone numbers.", "hash")
    if not _is_text(series):
        return None
    kind = _by_name(col)
    if kind == "name":
        return PersonalColumn(col, "name", f"The name `{col}` suggests it holds people's names.", "drop")
    if kind == "free_text":
        return PersonalColumn(
            col,
            "free_text",
            f"The name `{col}` suggests free text, which often holds names, addresses or other personal details.",
            "drop",
        )
    long_text = _looks_like_free_text(text)
    if long_text is not None:
        length, distinct = long_text
        return PersonalColumn(
            col,
            "free_text",
            f"Its values are free text ({length:.0f} characters on average, {distinct:.0%} of them different), "
            "which often holds names, addresses or other personal details.",
            "drop",
        )
    return None


# ---------------------------------------------------------------------------------------------- the key


def key_file(settings: Settings) -> Path:
    """Where the random key lives when no `hash_key` is set: beside the store."""
    return settings.db_path.parent / KEY_FILE


def hash_key(settings: Settings) -> bytes:
    """The key personal-data columns are hashed with: `settings.hash_key`, or the random key beside the store
    (32 random bytes, written as hex with mode 0600 on first use; a second process racing to create it reads
    the one that won)."""
    if settings.hash_key:
        return settings.hash_key.encode("utf-8")
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic: the file appears whole, and never replaces a key already there
        finally:
            tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def key_for(hashed: Iterable[str], settings: Settings | None, store_path: Path) -> bytes | None:
    """The key for a model's hashed columns, None when it hashes none (so no key file appears for nothing).
    With no settings given, the configured ones, with the key file beside the store in use."""
    if not tuple(hashed):
        return None
    return hash_key(settings if settings is not None else load_settings().with_db(store_path))


def keyed_hash(series: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 (hex) of each value, as text; empty cells stay empty. Values are compared as trimmed text,
    and whole numbers read as decimals (`5551234567.0`) as the integer, so the same value in any file gives
    the same hash."""
    values = series
    known = values.notna()
    if pd.api.types.is_float_dtype(values) and known.any() and (values[known] % 1 == 0).all():
        values = values.astype("Int64")
    text = values.astype("string").str.strip()
    digests = {v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest() for v in text[known].unique()}
    out = text.map(digests).astype("string")
    out[~known] = pd.NA
    return out.rename(series.name)


def apply_choices(
    frame: pd.DataFrame, *, hashed: Iterable[str], dropped: Iterable[str], key: bytes | None
) -> pd.DataFrame:
    """`frame` without the dropped columns and with the hashed ones replaced by their keyed hash; columns a
    file does not have are skipped (a later file may leave them out)."""
    hashed = [c for c in hashed if c in frame.columns]
    dropped = [c for c in dropped if c in frame.columns]
    if not hashed and not dropped:
        return frame
    if hashed and key is None:
        raise ValueError("hashing personal-data columns needs the store's key")
    out = frame.drop(columns=dropped)
    for col in hashed:
        out[col] = keyed_hash(out[col], key)  # type: ignore[arg-type]
    return out


def choices_note(*, hashed: Iterable[str], dropped: Iterable[str], columns: Iterable[str]) -> str:
    """One sentence on what happened to a file's personal-data columns, or '' when it had none."""
    present = set(columns)
    hashed = [c for c in hashed if c in present]
    dropped = [c for c in dropped if c in present]
    parts = []
    if hashed:
        parts.append(f"{_names(hashed)} replaced by a keyed hash")
    if dropped:
        parts.append(f"{_names(dropped)} dropped")
    return f" Personal data: {', '.join(parts)}." if parts else ""


def _names(cols: list[str]) -> str:
    return ", ".join(f"`{c}`" for c in cols)
