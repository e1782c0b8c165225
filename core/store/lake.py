"""The DuckLake backend: the same store with its catalog in PostgreSQL and its data as Parquet files on a
path every machine reaches.

One setting moves a store here (``MODELPULSE_STORE=ducklake:postgres:dbname=modelpulse host=db user=mp``,
plus ``MODELPULSE_STORE_DATA`` for the shared folder when the lake is first created); nothing outside
``core/store/`` knows which backend it talks to. What differs from the single DuckDB file, and how this
module makes up for it (the design record is ``docs/shared-store.md``):

- the extensions load offline from the PyPI packages ``duckdb-extension-ducklake`` and
  ``duckdb-extension-postgres-scanner`` (an extension folder of links to their files, so DuckDB's autoload
  finds them and never downloads);
- DuckLake has no PRIMARY KEY, UNIQUE, CHECK, index or sequence: the schema is the file's migrations with
  the keys taken out (:func:`lake_statements`); the keys stay in the code as data
  (:data:`core.store.migrations.KEYS`); nothing is inlined into the catalog (:func:`setup_statements`);
- DuckLake detects write-write conflicts per table at COMMIT but never read-then-insert races, so every
  write transaction that is not a pure append holds one PostgreSQL advisory lock (:class:`WriteLock`) from
  before BEGIN until after COMMIT: such writes run one at a time across every process, each seeing all
  that committed before it; appends (predictions, rows) run in parallel without it. A process that dies
  loses its PostgreSQL session, and with it the lock: nothing is left to expire;
- messages never show the catalog's password.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import tempfile
import threading
from pathlib import Path

import duckdb

from core.config import ObjectStorage
from core.errors import StoreBusyError
from core.errors import StoreError
from core.errors import StoreMissingError

LAKE_PREFIX = "ducklake:"
POSTGRES_PREFIX = "ducklake:postgres:"
EXTENSIONS = ("ducklake", "postgres_scanner")
OPTIONAL_EXTENSIONS = ("httpfs",)
"""Linked too when their package is installed: httpfs reaches data files on S3-compatible object storage."""
LOCK_KEY = (0x4D50, 0x5354)
"""The advisory lock every non-append write transaction of one catalog database holds ('MP', 'ST')."""
LOCK_WAIT_SECONDS = 300
"""How long a write waits for another process's write before it gives up with a sentence."""


def is_lake(target: object) -> bool:
    """Whether a store address names a DuckLake catalog rather than a DuckDB file."""
    return isinstance(target, str) and target.strip().startswith(LAKE_PREFIX)


def dsn_of(url: str) -> str:
    """The libpq connection string of a ``ducklake:postgres:<dsn>`` address."""
    url = url.strip()
    if not url.startswith(POSTGRES_PREFIX):
        raise StoreError(
            f"{display(url)} is not a store address ModelPulse can open: a shared store is "
            "`ducklake:postgres:dbname=... host=... user=...` (a DuckLake catalog in PostgreSQL)."
        )
    dsn = url[len(POSTGRES_PREFIX) :].strip()
    if not dsn or re.search(r"[\x00-\x1f]", dsn):
        raise StoreError(f"The store address {display(url)} has no usable PostgreSQL connection string after it.")
    return dsn


_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)([^@\s]+)(@)", re.IGNORECASE)


def display(text: str) -> str:
    """`text` (an address, or an error that quotes one) with every password replaced by ***."""
    return _URI_PASSWORD.sub(r"\1***\3", _PASSWORD.sub(r"\1***", str(text)))


def _extension_file(name: str) -> Path:
    """The .duckdb_extension file inside the installed PyPI package duckdb-extension-<name>."""
    found_spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if found_spec is None or not found_spec.submodule_search_locations:
        raise StoreError(
            f"The DuckLake store needs the package duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}, "
            "which is not installed: run `make install` (it is in requirements.txt)."
        )
    base = Path(next(iter(found_spec.submodule_search_locations)))
    files = sorted(base.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not files:
        raise StoreError(f"The package duckdb-extension-{name} holds no extension for DuckDB {duckdb.__version__}.")
    return files[0]


@functools.cache
def extension_directory() -> Path:
    """A DuckDB extension folder (``v<version>/<platform>/<name>.duckdb_extension``) of links to the packaged
    files, so autoload finds them and nothing is downloaded. Made once per process, shared by processes."""
    platform = duckdb.execute("PRAGMA platform").fetchone()[0]
    root = Path(tempfile.gettempdir()) / f"modelpulse-duckdb-extensions-{os.getuid()}"
    folder = root / f"v{duckdb.__version__}" / platform
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [*EXTENSIONS, *(n for n in OPTIONAL_EXTENSIONS if importlib.util.find_spec(f"duckdb_extension_{n}"))]
    for name in wanted:
        link, target = folder / f"{name}.duckdb_extension", _extension_file(name)
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(target)
        os.replace(tmp, link)  # atomic: a process starting beside this one sees the old link or the new
    return root


def _config(*, read_only: bool, memory_limit: str) -> dict:
    config = {
        "memory_limit": memory_limit,
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }
    if read_only:
        config["access_mode"] = "READ_ONLY"
    return config


def _quote_literal(text: str) -> str:
    if re.search(r"[\x00-\x1f]", text):
        raise StoreError("A DuckLake data path cannot hold control characters.")
    return "'" + text.replace("'", "''") + "'"


def data_path_text(data_path: Path | str) -> str:
    """The data path as DuckLake records it: a folder, ending in a slash (a local folder is made here)."""
    text = str(data_path).strip()
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        text = str(path)
    return text if text.endswith("/") else text + "/"


def _missing(url: str) -> StoreMissingError:
    return StoreMissingError(
        f"No ModelPulse store in the DuckLake catalog at {display(url)} yet. Create it by seeding the demo "
        "(`python -m core demo`) or adding a user or a model, with MODELPULSE_STORE_DATA set to the shared "
        "folder for its data files."
    )


def _unreachable(url: str, exc: Exception) -> StoreError:
    reason = display(str(exc)).split("Unable to connect to Postgres", 1)[-1]
    reason = re.sub(r"\s+", " ", reason.split(":", 1)[-1] if "connection to server" in reason else reason).strip()
    return StoreError(
        f"The DuckLake catalog at {display(url)} cannot be reached ({reason[:200]}). Check that PostgreSQL is "
        "running there and that the database exists (`createdb`), then try again."
    )


def object_storage(con: duckdb.DuckDBPyConnection, s3: ObjectStorage | None) -> None:
    """Let `con` read and write data files on S3-compatible object storage (httpfs and one DuckDB secret)."""
    if s3 is None:
        return
    if importlib.util.find_spec("duckdb_extension_httpfs") is None:
        raise StoreError(
            f"Data files on object storage need the package duckdb-extension-httpfs=={duckdb.__version__}: run "
            "`make install` (it is in requirements.txt)."
        )
    parts = ["TYPE s3"]
    if s3.key_id:
        parts += [f"KEY_ID {_quote_literal(s3.key_id)}", f"SECRET {_quote_literal(s3.secret or '')}"]
    else:
        parts.append("PROVIDER credential_chain")
    if s3.region:
        parts.append(f"REGION {_quote_literal(s3.region)}")
    if s3.endpoint:
        parts.append(f"ENDPOINT {_quote_literal(s3.endpoint)}")
    parts += [f"URL_STYLE {_quote_literal(s3.url_style)}", f"USE_SSL {'true' if s3.use_ssl else 'false'}"]
    try:
        con.execute("LOAD httpfs")
        con.execute(f"CREATE OR REPLACE SECRET modelpulse_s3 ({', '.join(parts)})")  # values are quoted literals
    except duckdb.Error as exc:
        detail = str(exc).replace(s3.secret, "***") if s3.secret else str(exc)
        raise StoreError(f"Object storage for the shared store could not be set up: {detail[:200]}") from None


def connect_lake(
    url: str,
    *,
    read_only: bool,
    create: bool,
    data_path: Path | str | None,
    memory_limit: str,
    s3: ObjectStorage | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckLake catalog at `url` as the connection's default database, for every cursor.

    With `create`, a catalog database that holds no lake yet gets one whose Parquet files go to `data_path`;
    later opens read the data path from the catalog. `s3` reaches data files on object storage.
    """
    dsn_of(url)  # refuses anything but ducklake:postgres:
    config = _config(read_only=read_only, memory_limit=memory_limit)
    try:
        con = duckdb.connect(url.strip(), config=config)
        object_storage(con, s3)
        return con
    except duckdb.Error as exc:
        text = str(exc)
        if "data_path is not set" not in text:
            if "Unable to connect to Postgres" in text or "could not connect" in text.lower():
                raise _unreachable(url, exc) from None
            raise StoreError(
                f"The DuckLake store at {display(url)} could not be opened: {display(text)[:300]}"
            ) from None
        if not create or read_only:
            raise _missing(url) from None
    if data_path is None:
        raise StoreError(
            f"The DuckLake catalog at {display(url)} holds no store yet, and no folder for its data files was given: "
            "set MODELPULSE_STORE_DATA to a folder every machine running ModelPulse reaches."
        )
    boot = duckdb.connect(config=_config(read_only=False, memory_limit=memory_limit))
    try:
        object_storage(boot, s3)
        attach = f"ATTACH {_quote_literal(url.strip())} AS lake (DATA_PATH {_quote_literal(data_path_text(data_path))})"
        boot.execute(attach)
    except duckdb.Error as exc:
        raise StoreError(
            f"The DuckLake store at {display(url)} could not be created: {display(str(exc))[:300]}"
        ) from None
    finally:
        boot.close()
    con = duckdb.connect(url.strip(), config=config)
    object_storage(con, s3)
    return con


def recorded_data_path(con: duckdb.DuckDBPyConnection) -> str:
    """The data path the lake recorded when it was created."""
    cur = con.cursor()
    try:
        catalog = cur.execute("SELECT current_database()").fetchone()[0]
        sql = f"SELECT value FROM {quote_catalog(catalog)}.options() WHERE option_name = 'data_path'"  # noqa: S608
        row = cur.execute(sql).fetchone()
    finally:
        cur.close()
    return str(row[0]) if row else ""


def quote_catalog(name: str) -> str:
    """The lake's catalog name (DuckDB derives it from the address) as a quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------- schema
_TABLE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*PRIMARY KEY\s*\(([^)]*)\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"^\s*(\w+)\s+[^,\n]*?\s+PRIMARY KEY", re.IGNORECASE | re.MULTILINE)


def statement_key(statement: str) -> tuple[str, tuple[str, ...]] | None:
    """(table, key columns) a CREATE TABLE statement declares, or None."""
    table = _TABLE.search(statement)
    if table is None:
        return None
    if key := _TABLE_KEY.search(statement):
        return table.group(1), tuple(c.strip() for c in key.group(1).split(","))
    if key := _COLUMN_KEY.search(statement):
        return table.group(1), (key.group(1),)
    return None


def without_keys(statement: str) -> str:
    """A CREATE TABLE statement as DuckLake accepts it: no PRIMARY KEY, table-level or on a column."""
    return re.sub(r"\s+PRIMARY KEY\b", "", _TABLE_KEY.sub("", statement))


def lake_statements(statement: str) -> list[str]:
    """The statements one migration statement becomes on DuckLake (see the module docstring)."""
    return [without_keys(statement)]


def setup_statements(*, catalog: str) -> list[str]:
    """Run once as a lake is created, before any table: every insert becomes a Parquet file, none is inlined
    into the catalog. DuckLake 1.5.5 loses rows inlined into a table made in the same transaction (the
    catalog names their table twice differently), and `predictions` has a column called row_id, which
    inlining reserves; the small files this leaves are merged by `python -m core compact` (and the scheduler)."""
    return [f"CALL {quote_catalog(catalog)}.set_option('data_inlining_row_limit', 0)"]


def keys_of(migrations: dict[int, list]) -> dict[str, tuple[str, ...]]:
    """Every table's key as the file's migrations declare it: what DuckLake cannot enforce, and `check` tests."""
    keys: dict[str, tuple[str, ...]] = {}
    for version in sorted(migrations):
        for statement in migrations[version]:
            found = statement_key(statement) if isinstance(statement, str) else None
            if found is not None:
                keys[found[0]] = found[1]
    return keys


# ---------------------------------------------------------------------------- the write lock
class WriteLock:
    """The catalog database's advisory lock, held by one PostgreSQL session of this connection.

    PostgreSQL queues waiters in order; a session that ends (a killed process) drops what it held.
    """

    def __init__(self, url: str, *, wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        self.url = url
        self.wait_seconds = wait_seconds
        self._pg = None
        self.held = False

    def _session(self):
        import psycopg  # the lake's only use of it: the file backend never imports it

        if self._pg is None or self._pg.closed:
            try:
                self._pg = psycopg.connect(dsn_of(self.url), autocommit=True, application_name="modelpulse-lock")
            except psycopg.Error as exc:
                raise _unreachable(self.url, exc) from None
        return self._pg

    def acquire(self) -> None:
        """Wait (at most `wait_seconds`) until no other process writes, then hold the lock."""
        import psycopg

        for attempt in range(2):  # a session the server closed (restart, idle timeout) is opened once more
            pg = self._session()
            try:
                pg.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int(self.wait_seconds * 1000)}"])
                pg.execute("SELECT pg_advisory_lock(%s, %s)", list(LOCK_KEY))
                pg.execute("SELECT set_config('statement_timeout', '0', false)")
                self.held = True
                return
            except psycopg.errors.QueryCanceled:
                pg.execute("SELECT set_config('statement_timeout', '0', false)")
                raise StoreBusyError(
                    f"Another process has been writing to the shared store {display(self.url)} for over "
                    f"{self.wait_seconds:.0f} s, so this change was not made. Try again when it has finished."
                ) from None
            except psycopg.OperationalError as exc:
                with contextlib.suppress(psycopg.Error):
                    pg.close()
                if attempt:
                    raise _unreachable(self.url, exc) from None

    def release(self) -> None:
        """Let the next writer in (a lost session has released it already)."""
        if not self.held:
            return
        self.held = False
        import psycopg

        try:
            self._session().execute("SELECT pg_advisory_unlock(%s, %s)", list(LOCK_KEY))
        except psycopg.Error:
            self.close()  # closing the session releases whatever it held

    def close(self) -> None:
        """End the lock's session (and with it anything it still held)."""
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.close()
        self._pg = None
        self.held = False


CONFLICT_SIGNS = ("transaction conflict", "conflict on update")


def is_conflict(exc: BaseException) -> bool:
    """Whether a DuckDB error is DuckLake refusing a commit that clashed with another process's."""
    return isinstance(exc, duckdb.Error) and any(sign in str(exc).lower() for sign in CONFLICT_SIGNS)


# ---------------------------------------------------------------------------- small files
def data_files(cur, catalog: str) -> tuple[int, int]:
    """(live Parquet files, their bytes) of the lake: every commit writes files of its own (nothing is inlined)."""
    meta = quote_catalog(f"__ducklake_metadata_{catalog}")
    sql = (
        f"SELECT count(*), coalesce(sum(file_size_bytes), 0) FROM {meta}.ducklake_data_file WHERE end_snapshot IS NULL"  # noqa: S608
    )
    files, size = cur.execute(sql).fetchone()
    return int(files), int(size)


def merge_files(cur, catalog: str) -> None:
    """Merge small adjacent data files into bigger ones (the old ones stay until :func:`forget_old`)."""
    cur.execute(f"SELECT count(*) FROM ducklake_merge_adjacent_files({_quote_literal(catalog)})")  # noqa: S608


def forget_old(cur, catalog: str, *, older_than) -> tuple[int, int]:
    """Forget snapshots older than `older_than` (no time travel before it), then delete the files nothing refers
    to any more; returns (snapshots expired, files deleted). Run after the merge committed, so its files count."""
    name = _quote_literal(catalog)
    expired = cur.execute(
        f"SELECT count(*) FROM ducklake_expire_snapshots({name}, older_than => ?)",  # noqa: S608
        [older_than],
    ).fetchone()[0]
    deleted = cur.execute(f"SELECT count(*) FROM ducklake_cleanup_old_files({name}, cleanup_all => true)").fetchone()[0]  # noqa: S608
    return int(expired), int(deleted)
