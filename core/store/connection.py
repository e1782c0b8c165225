"""Opening the backend and owning transactions: the one place a database connection is made.

The backend is one DuckDB file (:func:`connect`), or a DuckLake catalog shared by many processes
(:mod:`core.store.lake`), chosen by the store's address alone. :class:`Connection` hands every query its
own cursor, so one store object serves several threads, and :meth:`Connection.transaction` is the single
way to write: a write that joins an open transaction on the same thread becomes part of it, so a facade
method can compose several table families into one commit without any of them knowing. On DuckLake the
outermost write transaction also holds the catalog's write lock, unless it only appends.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from core.config import MEMORY_TEXT
from core.config import ObjectStorage
from core.errors import StoreConflictError
from core.errors import StoreDamagedError
from core.errors import StoreError
from core.errors import StoreLockedError
from core.errors import StoreMissingError
from core.errors import StoreReadOnlyError
from core.store import lake

DUCKDB_MAGIC = b"DUCK"
MEMORY_LIMIT = "1GB"
"""DuckDB's buffer pool defaults to 80% of the machine's memory; monitoring reads one window at a time,
so a small pool keeps the whole process under 2 GB with 10 million stored predictions (bench/RESULTS.md)."""

Cursor = duckdb.DuckDBPyConnection


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL after checking it carries no quote or control character."""
    if not isinstance(name, str) or not name or '"' in name or re.search(r"[\x00-\x1f]", name):
        raise StoreError(f"{name!r} cannot be used as a table or column name.")
    return f'"{name}"'


DAMAGE_SIGNS = ("corrupt database file", "checksum", "could not read enough bytes", "failed to read")
READ_ONLY_SIGNS = ("permission denied", "operation not permitted", "read-only file system")


def damaged(path: Path, exc: Exception) -> StoreDamagedError | None:
    """The sentence for a DuckDB error that says the file's bytes are damaged, or None for any other error."""
    text = str(exc).lower()
    if not isinstance(exc, duckdb.IOException) or not any(sign in text for sign in DAMAGE_SIGNS):
        return None
    return StoreDamagedError(
        f"The store file {path} is damaged: part of it no longer reads back as it was written "
        f"({str(exc).split(':', 1)[-1].strip()[:160]}). Nothing more was written to it. Run `python -m core check` "
        "to see what is affected, and restore the last backup (`python -m core restore BACKUP`)."
    )


def _read_only(path: Path, why: str) -> StoreReadOnlyError:
    return StoreReadOnlyError(
        f"The store {path} can be read but not written ({why}). Reading commands such as `python -m core status` "
        "and `check` work; to change it, make the file and its folder writable, or copy it somewhere writable."
    )


def quote_literal(text: str) -> str:
    """A SQL string literal for a statement that takes no parameters (ATTACH): quotes doubled, no control
    characters."""
    if re.search(r"[\x00-\x1f]", text):
        raise StoreError(f"{text!r} cannot be used as a file path for the store.")
    return "'" + text.replace("'", "''") + "'"


def _describe_lock(exc: Exception) -> str:
    match = re.search(r"PID (\d+)", str(exc))
    return f" (process {match.group(1)})" if match else ""


def connect(path: Path, *, read_only: bool = False, create: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store's database file; the single place a connection is made.

    Raises a :class:`StoreError` subclass with one sentence for a missing, damaged or locked file;
    nothing is written to a file that is not a DuckDB database.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise StoreMissingError(
                f"No ModelPulse store at {path}. Create the demo with `make run` (or `python -m core demo`), "
                "or point MODELPULSE_DB at an existing store."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.is_dir():
        raise StoreError(f"The store path {path} is a folder, not a DuckDB file.")
    else:
        with path.open("rb") as fh:
            header = fh.read(12)
        if len(header) < 12 or header[8:12] != DUCKDB_MAGIC:
            raise StoreError(
                f"The store file {path} is not a DuckDB database (it is empty, damaged or another kind of file); "
                "it was left untouched. Move it away or set MODELPULSE_DB to another path."
            )
        if not read_only and not os.access(path, os.W_OK):
            raise _read_only(path, "the file is read-only or immutable")
    if not read_only and not os.access(path.parent, os.W_OK):
        raise _read_only(path, f"its folder {path.parent} is read-only, and DuckDB writes its journal there")
    try:
        return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": MEMORY_LIMIT})
    except duckdb.IOException as exc:
        sign = damaged(path, exc)  # first: "block at location" in a checksum error is not about a lock
        if sign is not None:
            raise sign from exc
        if re.search(r"could not set lock|conflicting lock|\block\b", str(exc), re.IGNORECASE):
            raise StoreLockedError(
                f"The store {path} is open in another process{_describe_lock(exc)}, probably the running app. "
                f"Send data through the app instead: drop the file into {path.parent / 'inbox'}/<model>/ "
                "(labels into <model>/labels/), or use the upload page; or stop that process first."
            ) from exc
        if any(sign in str(exc).lower() for sign in READ_ONLY_SIGNS):
            raise _read_only(path, "the system refused to open it for writing") from exc
        raise StoreDamagedError(
            f"The store file {path} could not be opened: it looks damaged ({exc}). It was left untouched; "
            "restore the last backup (`python -m core restore BACKUP`)."
        ) from exc
    except duckdb.Error as exc:
        raise StoreError(f"The store file {path} could not be opened: {exc}.") from exc


class Connection:
    """One open database: a cursor per query, and :meth:`transaction` for every write."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        *,
        read_only: bool,
        url: str | None = None,
    ) -> None:
        self._con = con
        self.path = path
        """The file, or for a lake its local data folder: what model files and the inbox sit beside."""
        self.read_only = read_only
        self.url = url
        self.backend = "ducklake" if url else "file"
        self.where = lake.display(url) if url else str(path)
        """The store as messages name it (a lake's address without its password)."""
        self.closed = False
        self._lock = threading.RLock()
        self._local = threading.local()
        self._write_lock = lake.WriteLock(url) if url and not read_only else None

    @classmethod
    def open(
        cls,
        target: Path | str,
        *,
        read_only: bool = False,
        create: bool = False,
        data_path: Path | str | None = None,
        home: Path | str | None = None,
        s3: ObjectStorage | None = None,
    ) -> Connection:
        """Open the backend `target` names: a DuckDB file path, or a ``ducklake:postgres:...`` address (with
        `data_path`, where its Parquet files go, needed only to create it: a shared folder, or ``s3://...``
        reached through `s3`; and `home`, the local folder model files sit beside, by default its data folder)."""
        if lake.is_lake(target):
            url = str(target).strip()
            con = lake.connect_lake(
                url, read_only=read_only, create=create, data_path=data_path, memory_limit=MEMORY_LIMIT, s3=s3
            )
            recorded = lake.recorded_data_path(con)
            if home is None and "://" in recorded:
                con.close()
                raise StoreError(
                    f"The shared store {lake.display(url)} keeps its data files at {recorded}; say where its model "
                    "files live with MODELPULSE_STORE_DATA (a folder every machine reaches)."
                )
            anchor = Path(home) if home is not None else Path(recorded.rstrip("/"))
            return cls(con, anchor, read_only=read_only, url=url)
        path = Path(target)
        return cls(connect(path, read_only=read_only, create=create), path, read_only=read_only)

    def limit_memory(self, limit: str) -> None:
        """Hold DuckDB's memory for this process to `limit` (e.g. "256MB"; what it holds beyond spills to disk).
        A process that only monitors needs little: its reads are bounded by time (bench/RESULTS.md, session 9)."""
        if not MEMORY_TEXT.fullmatch(limit.strip()):
            raise StoreError(f"A memory limit looks like 256MB or 1GB; got {limit!r}.")
        self._con.execute("SET memory_limit = ?", [limit.strip()])

    @staticmethod
    def exists(target: Path | str) -> bool:
        """Whether a store is there already (a file, or a catalog that holds a lake)."""
        if not lake.is_lake(target):
            return Path(target).exists()
        try:
            Connection.open(target, read_only=True).close()
        except StoreError:
            return False
        return True

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        self.closed = True
        if self._write_lock is not None:
            self._write_lock.close()
        self._con.close()

    def _active(self) -> Cursor | None:
        return getattr(self._local, "cursor", None)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor for reads: this thread's open transaction (so reads see its writes), else a fresh one."""
        active = self._active()
        if active is not None:
            yield active
            return
        cur = self._con.cursor()
        try:
            yield cur
        except duckdb.IOException as exc:
            if (err := self._unreadable(exc)) is exc:
                raise
            raise err from exc
        finally:
            cur.close()

    def _unreadable(self, exc: duckdb.IOException) -> BaseException:
        """The sentence for a read that failed at the storage: damaged file bytes, or a shared store's data files
        out of reach (a folder not mounted, object storage refusing or unreachable); else the error itself."""
        sign = damaged(self.path, exc)
        if sign is not None:
            return sign
        if self.backend != "ducklake":
            return exc
        where = re.search(r"(?:'|\")((?:s3|gs|https?)://[^'\"]+|/[^'\"]+\.parquet)", str(exc))
        return StoreError(
            f"The shared store {self.where} could not read its data file {where.group(1) if where else ''} "
            f"({lake.display(str(exc)).split(':', 1)[-1].strip()[:160]}). Check that its data folder or object "
            "storage is reachable from this machine and that its credentials are set (MODELPULSE_S3_*)."
        )

    def query_df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a read query with parameters and return a DataFrame."""
        with self.reading() as cur:
            return cur.execute(sql, params or []).df()

    def fetch(self, sql: str, params: list | tuple | None = None) -> list[tuple]:
        """Run a read query with parameters and return its rows."""
        with self.reading() as cur:
            return cur.execute(sql, params or []).fetchall()

    @contextlib.contextmanager
    def transaction(self, *, append: bool = False) -> Iterator[Cursor]:
        """One write transaction: commit on success, roll back on any error.

        Called while this thread already has one open, it joins that transaction instead of starting
        another, so every write inside a composed write commits or rolls back together. On DuckLake the
        outermost transaction holds the catalog's write lock from before it begins until it has committed,
        so writes that read before they write never interleave across processes; `append=True` (new rows
        only, which never clash) skips the lock, and a clash DuckLake still finds at COMMIT is raised as
        :class:`StoreConflictError`, for the caller to make the same change again.
        """
        active = self._active()
        if active is not None:
            yield active
            return
        if self.read_only:
            raise StoreError(f"The store {self.where} was opened read-only; this change needs write access.")
        with self._lock, self._locked(append):
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            self._local.cursor = cur
            try:
                yield cur
            except BaseException as exc:
                self._local.cursor = None
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                cur.close()
                if isinstance(exc, duckdb.IOException) and (err := self._unreadable(exc)) is not exc:
                    raise err from exc
                raise
            self._local.cursor = None
            try:
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                if lake.is_conflict(exc):
                    raise StoreConflictError(
                        f"Another process changed the same part of the shared store {self.where} at the same "
                        "moment, so nothing was written; the same change can be made again."
                    ) from exc
                raise damaged(self.path, exc) or StoreError(
                    f"Saving to the store failed and nothing was written: {lake.display(str(exc))}"
                ) from exc
            finally:
                cur.close()

    @contextlib.contextmanager
    def _locked(self, append: bool) -> Iterator[None]:
        if self._write_lock is None or append:
            yield
            return
        self._write_lock.acquire()
        try:
            yield
        finally:
            self._write_lock.release()

    def retried(self, write, *, attempts: int = 8):
        """Run `write()` (a whole write that can be made again: it computes before it opens its transaction)
        until DuckLake accepts its commit, at most `attempts` times; inside an open transaction it runs once,
        since the outermost caller owns the retry."""
        if self._active() is not None:
            return write()
        for attempt in range(1, attempts + 1):
            try:
                return write()
            except StoreConflictError:
                if attempt == attempts:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0) * (0.5 + random.random()))  # noqa: S311 - jitter only
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def registered(self, cur: Cursor, frame: pd.DataFrame | pa.Table, prefix: str = "frame") -> Iterator[str]:
        """Make `frame` readable in SQL under a fresh quoted name for the duration of the block."""
        name = f"{prefix}_{uuid.uuid4().hex}"
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        cur.register(name, table)
        try:
            yield quote_ident(name)
        finally:
            cur.unregister(name)

    def insert(self, cur: Cursor, table: str, frame: pd.DataFrame | pa.Table) -> None:
        """Bulk-insert `frame` into `table` through a registered Arrow table (never row by row)."""
        arrow = isinstance(frame, pa.Table)
        if (frame.num_rows == 0) if arrow else frame.empty:
            return
        with self.registered(cur, frame, "batch") as source:
            cols = ", ".join(quote_ident(c) for c in (frame.column_names if arrow else frame.columns))
            sql = f"INSERT INTO {quote_ident(table)} ({cols}) SELECT {cols} FROM {source}"  # noqa: S608
            cur.execute(sql)

    def delete(self, cur: Cursor, tables: Iterable[str], *, where: str, params: list) -> None:
        """Delete from each of `tables` the rows matching `where`: a fixed condition of the caller's code, with
        every value a `?` parameter in `params`."""
        for table in tables:
            cur.execute(f"DELETE FROM {quote_ident(table)} WHERE {where}", params)  # noqa: S608 - quoted name

    def verify(self) -> list[tuple[str, int | None, str | None]]:
        """Read every value of every table once (DuckDB checks each block's checksum as it reads).

        Returns (table, rows, problem) per table: rows None and a sentence when the table cannot be read.
        The full demo's 1.3 million rows read in about 0.07 s on 2 cores (bench/RESULTS.md, session 5).
        """
        out = []
        for table in sorted(self.tables()):
            try:
                rows, _ = self._digest(table)
                out.append((table, rows, None))
            except StoreDamagedError as exc:
                out.append((table, None, exc.user_message))
        return out

    def checksums(self) -> dict[str, tuple[int, int]]:
        """(rows, order-independent checksum of every value) per table: what a backup's manifest records and
        a restore compares."""
        return {table: self._digest(table) for table in sorted(self.tables())}

    def _digest(self, table: str) -> tuple[int, int]:
        # hashing each whole row forces every block of every column to be read; count(*) alone reads none
        sql = f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {quote_ident(table)} t"  # noqa: S608
        rows, digest = self.fetch(sql)[0]
        return int(rows), int(digest)

    def copy_to(self, target: Path) -> None:
        """Write a consistent copy of the whole database to the new file `target`, while writers go on.

        `COPY FROM DATABASE` reads one snapshot in one statement, so the copy is of one moment even while
        the app writes; nothing here takes the write lock.
        """
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target} already exists; a backup is written to a new file only.")
        alias = quote_ident(f"copy_{uuid.uuid4().hex}")
        with self.reading() as cur:
            source = quote_ident(cur.execute("SELECT current_database()").fetchone()[0])
            # ATTACH takes no parameters: the path goes in as a quoted literal, checked like an identifier
            cur.execute(f"ATTACH {quote_literal(str(target))} AS {alias} (READ_WRITE)")  # noqa: S608 - quoted
            try:
                cur.execute(f"COPY FROM DATABASE {source} TO {alias}")  # noqa: S608 - quoted identifiers
            finally:
                cur.execute(f"DETACH {alias}")  # noqa: S608 - a quoted identifier made here

    def compact(self, *, keep: timedelta) -> dict[str, int]:
        """Tidy a shared store's data files (see :func:`core.store.lake.compact`), keeping `keep` of time travel;
        returns the files and bytes before and after, snapshots expired and files deleted. A file needs none."""
        if self.backend != "ducklake":
            return {}
        with self.transaction() as cur:  # under the write lock: compaction clashes with a concurrent delete
            catalog = cur.execute("SELECT current_database()").fetchone()[0]
            files, size = lake.data_files(cur, catalog)
            lake.merge_files(cur, catalog)
        with self.transaction() as cur:
            expired, deleted = lake.forget_old(cur, catalog, older_than=datetime.now() - keep)
        with self.reading() as cur:
            after, after_size = lake.data_files(cur, catalog)
        return {
            "files_before": files,
            "bytes_before": size,
            "files_after": after,
            "bytes_after": after_size,
            "snapshots_expired": expired,
            "files_deleted": deleted,
        }

    def tables(self) -> set[str]:
        """Names of the tables in the store's main schema (never those of a database attached beside it)."""
        sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_catalog = current_database()"
        )
        return {r[0] for r in self.fetch(sql)}

    def columns(self, cur: Cursor, table: str) -> set[str]:
        """Names of one table's columns."""
        sql = (
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' AND table_catalog = current_database()"
        )
        return {r[0] for r in cur.execute(sql, [table]).fetchall()}
