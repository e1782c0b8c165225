"""Copying a whole store to another backend (a DuckDB file into a shared DuckLake catalog, or back), checked.

The rows travel as Arrow record batches of at most `ROWS_PER_CHUNK` rows, read from the source on one
cursor and appended to the target inside ONE write transaction, so memory stays flat whatever the size
and the target ends up with all of it or none of it. Afterwards every table's row count and
order-independent checksum (the digest a backup's manifest records) is compared on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from core.errors import StoreError
from core.store.connection import Connection
from core.store.connection import quote_ident

ROWS_PER_CHUNK = 250_000
NOT_COPIED = frozenset({"schema_version"})
"""The target records its own migrations; everything else is copied."""


@dataclass(frozen=True)
class Copied:
    """What one copy moved: rows per table, and the tables whose count or checksum differ (empty: none)."""

    rows: dict[str, int]
    mismatched: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _holds_data(conn: Connection) -> list[str]:
    """Tables of `conn` that hold any row (a target must be empty)."""
    full = []
    for table in sorted(conn.tables() - NOT_COPIED):
        if conn.fetch(f"SELECT count(*) FROM (SELECT 1 FROM {quote_ident(table)} LIMIT 1)")[0][0]:  # noqa: S608
            full.append(table)
    return full


def copy_tables(
    source: Connection,
    target: Connection,
    *,
    make_table: Callable[[str], None],
    progress: Callable[[str], None] = lambda _: None,
) -> Copied:
    """Copy every table of `source` into the empty, migrated `target` in one transaction, then compare.

    `make_table(name)` creates a table the target's migrations do not make (a model's rows table) inside
    that transaction, before its rows arrive.
    """
    full = _holds_data(target)
    if full:
        names = ", ".join(f"`{t}`" for t in full[:3]) + (f" and {len(full) - 3} more" if len(full) > 3 else "")
        raise StoreError(
            f"The target store {target.where} already holds data (in {names}); a store is copied into an empty one "
            "only, so nothing was changed."
        )
    tables = sorted(source.tables() - NOT_COPIED)
    rows: dict[str, int] = {}
    with target.transaction() as tcur, source.reading() as scur:
        have = target.tables()
        for table in tables:
            if table not in have:
                make_table(table)
            columns = [c for c in _columns(scur, table) if c in target.columns(tcur, table)]
            missing = set(_columns(scur, table)) - set(columns)
            if missing:
                lacking = ", ".join(sorted(missing))
                raise StoreError(f"Table `{table}` of {target.where} lacks column(s) {lacking}; nothing was copied.")
            cols = ", ".join(quote_ident(c) for c in columns)
            reader = scur.execute(f"SELECT {cols} FROM {quote_ident(table)}").fetch_record_batch(ROWS_PER_CHUNK)  # noqa: S608
            n = 0
            for batch in reader:
                target.insert(tcur, table, pa.Table.from_batches([batch]))
                n += batch.num_rows
            rows[table] = n
            if n:
                progress(f"  {table}: {n:,} rows")
    want, got = source.checksums(), target.checksums()
    mismatched = tuple(t for t in tables if want.get(t) != got.get(t))
    return Copied(rows=rows, mismatched=mismatched)


def _columns(cur, table: str) -> list[str]:
    sql = (
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
        "AND table_catalog = current_database() ORDER BY ordinal_position"
    )
    return [r[0] for r in cur.execute(sql, [table]).fetchall()]
