"""Schema migrations: one step per schema version, each applied in its own transaction.

A step (`core.store.steps`) is the list of statements, or functions of the open cursor, that takes the store
from the version before it to its own number. Steps are never edited once released; a change to the schema is
a new step. Opening a store applies what is missing (read-only stores refuse to open when they would need a
step).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from core.errors import StoreDamagedError
from core.errors import StoreError
from core.store import lake
from core.store.connection import Connection
from core.store.connection import damaged
from core.store.connection import quote_ident
from core.store.steps import MIGRATIONS  # the steps themselves, as data

SCHEMA_VERSION = max(MIGRATIONS)
KEYS = lake.keys_of(MIGRATIONS)
"""Each table's key as the migrations declare it. The file enforces them; DuckLake cannot, so the code keeps
them (delete-then-insert under the write lock) and `python -m core check` looks for duplicates."""


def schema_version(conn: Connection) -> int:
    """The schema version recorded in the store (0 for an empty database)."""
    if "schema_version" not in conn.tables():
        return 0
    return int(conn.fetch("SELECT max(version) FROM schema_version")[0][0] or 0)


def migrate(conn: Connection) -> int:
    """Apply missing steps, each in its own transaction; idempotent. Returns the version reached.

    Each step reads the version again inside its transaction: on a shared lake two processes opening a
    new store at once take turns (the write lock), and the second finds the steps done.
    """
    with conn.transaction() as cur:
        if conn.backend == "ducklake" and "schema_version" not in conn.tables():
            for sql in lake.setup_statements(catalog=cur.execute("SELECT current_database()").fetchone()[0]):
                cur.execute(sql)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
    for version in sorted(v for v in MIGRATIONS if v > schema_version(conn)):
        with conn.transaction() as cur:
            if int(cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]) >= version:
                continue
            for statement in MIGRATIONS[version]:
                if callable(statement):
                    statement(cur)
                    continue
                for sql in lake.lake_statements(statement) if conn.backend == "ducklake" else [statement]:
                    cur.execute(sql)
            cur.execute("INSERT INTO schema_version VALUES (?, ?)", [version, datetime.now()])
    return schema_version(conn)


def check_or_migrate(conn: Connection) -> None:
    """Refuse a database that is not a ModelPulse store or is newer than this code; bring an older one up."""
    try:
        tables = conn.tables()
        if tables and "schema_version" not in tables:
            raise StoreError(
                f"{conn.where} is a DuckDB database but not a ModelPulse store (it has no schema_version table); "
                "it was left untouched."
            )
        current = schema_version(conn)
    except duckdb.Error as exc:
        raise damaged(conn.path, exc) or StoreDamagedError(
            f"The store {conn.where} could not be read: it looks damaged ({lake.display(str(exc))})."
        ) from exc
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"The store {conn.where} was written by a newer ModelPulse (schema {current}, this code knows "
            f"{SCHEMA_VERSION}); upgrade ModelPulse to open it."
        )
    if current < SCHEMA_VERSION:
        if conn.read_only:
            raise StoreError(f"The store {conn.where} needs an upgrade; open it once with write access.")
        migrate(conn)


def duplicate_keys(conn: Connection) -> dict[str, int]:
    """Tables whose key (as the migrations declare it) is held by more than one row, with how many keys are;
    empty when none. A file refuses such rows itself; a shared store keeps keys in the code, and `check` looks
    here."""
    tables, out = conn.tables(), {}
    for table, key in KEYS.items():
        if table in tables:
            cols = ", ".join(quote_ident(c) for c in key)
            sql = f"SELECT count(*) FROM (SELECT {cols} FROM {quote_ident(table)} GROUP BY ALL HAVING count(*) > 1)"  # noqa: S608
            if n := int(conn.fetch(sql)[0][0]):
                out[table] = n
    return out
