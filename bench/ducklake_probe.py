"""What of the store works on DuckLake (catalog in PostgreSQL, data as Parquet): groundwork for the DuckLake backend.

Starts a throwaway PostgreSQL 15 (``tests/pg_server.py``), loads DuckDB's ``ducklake`` and ``postgres_scanner``
extensions offline from their PyPI packages (``duckdb-extension-ducklake``/``-postgres-scanner`` 1.5.5; autoload and
autoinstall off, so nothing is downloaded), attaches ``ducklake:postgres:<dsn>`` with a DATA_PATH in a temporary folder,
and then:

1. applies every statement of ``core.store.migrations.MIGRATIONS`` inside the lake, one at a time, recording each
   failure and its error; a failing CREATE TABLE is retried with its PRIMARY KEY/UNIQUE clauses removed (what a
   DuckLake schema would have to be), and each step is also run the way ``migrate`` runs it (one transaction);
2. probes each kind of statement the store issues (``core/store/*.py``) plus the usual suspects (ON CONFLICT,
   sequences, ``con.append``, CHECKPOINT, PRAGMA, COPY FROM DATABASE, cursors), each on a DuckLake table;
3. runs two processes writing the same table at once: plain inserts, the ``max(_row_id) + 1`` id pattern of
   ``RowsFamily.write_batch``, and the read-then-write lease of ``DeliveryFamily.acquire_lease``, counting rows,
   conflicts, retries and duplicates;
4. times appending 100k rows with ``con.append`` and with the store's ``INSERT ... SELECT`` from Arrow, on the lake
   and on a local DuckDB file.

    .venv/bin/python bench/ducklake_probe.py [--writes 300] [--lease-rounds 40] [--rows 100000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.store.migrations import MIGRATIONS  # noqa: E402
from core.store.rows import CACHE_DDL  # noqa: E402
from core.store.rows import SYSTEM_COLUMNS  # noqa: E402

EXTENSIONS = ("ducklake", "postgres_scanner")
INLINING_DEFAULT = 10
"""Set back as the catalog-wide inlining limit after creating `predictions` (the default is not listed in options())."""
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


# ------------------------------------------------------------------ connecting
def extension_file(name: str) -> Path:
    """The .duckdb_extension inside the installed PyPI package duckdb-extension-<name> (matching DuckDB's version)."""
    import importlib.util

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__} is not installed")
    base = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(base.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise SystemExit(f"no {name} extension for DuckDB v{duckdb.__version__} under {base}")
    return found[0]


def extension_directory(root: Path) -> Path:
    """A DuckDB extension_directory (<root>/v<version>/<platform>/<name>.duckdb_extension) linking to the packaged
    files, so `autoload_known_extensions` finds them without any download."""
    platform = duckdb.execute("PRAGMA platform").fetchone()[0]
    folder = root / f"v{duckdb.__version__}" / platform
    folder.mkdir(parents=True, exist_ok=True)
    for name in EXTENSIONS:
        link = folder / f"{name}.duckdb_extension"
        if not link.exists():
            link.symlink_to(extension_file(name))
    return root


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_lake(dsn: str, data_path: str, *, alias: str = "lake", use: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=dict(OFFLINE))
    for name in EXTENSIONS:
        con.execute(f"LOAD {sql_literal(str(extension_file(name)))}")
    con.execute(f"ATTACH {sql_literal('ducklake:postgres:' + dsn)} AS {alias} (DATA_PATH {sql_literal(data_path)})")
    if use:
        con.execute(f"USE {alias}")
    return con


def short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:220]}"


class Results:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, area: str, item: str, ok: bool | None, detail: str = "") -> None:
        self.rows.append(
            {"area": area, "item": item, "result": {True: "works", False: "FAILS", None: "note"}[ok], "detail": detail}
        )

    def attempt(self, con, area: str, item: str, sql: str, params=None, *, expect_rows=None) -> bool:
        try:
            cur = con.execute(sql, params or [])
            got = cur.fetchall() if cur.description else None
        except duckdb.Error as exc:
            self.add(area, item, False, short(exc))
            return False
        detail = "" if got is None else f"returned {got[:3]!r}{'...' if len(got) > 3 else ''}"
        if expect_rows is not None and got is not None and len(got) != expect_rows:
            self.add(area, item, False, f"expected {expect_rows} rows, {detail}")
            return False
        self.add(area, item, True, detail)
        return True

    def print(self) -> None:
        widths = [max(len(r[k]) for r in self.rows) for k in ("area", "item", "result")]
        widths = [max(w, len(h)) for w, h in zip(widths, ("area", "item", "result"), strict=True)]
        widths[1] = min(widths[1], 58)
        line = f"{'area':<{widths[0]}} | {'item':<{widths[1]}} | {'result':<{widths[2]}} | detail"
        print(line)
        print("-" * min(len(line) + 60, 160))
        for r in self.rows:
            print(
                f"{r['area']:<{widths[0]}} | {r['item'][:58]:<{widths[1]}} | {r['result']:<{widths[2]}} | {r['detail']}"
            )


# ------------------------------------------------------------------ 1. schema
def first_words(statement: str) -> str:
    s = " ".join(statement.split())
    m = re.match(r"(CREATE TABLE \S+|ALTER TABLE \S+ ADD COLUMN \S+)", s)
    return m.group(1) if m else s[:50]


def without_keys(statement: str) -> str:
    """The CREATE TABLE with its PRIMARY KEY / UNIQUE clauses taken out (column-level and table-level)."""
    s = re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", statement)
    s = re.sub(r",\s*UNIQUE\s*\([^)]*\)", "", s)
    return re.sub(r"\s+(PRIMARY KEY|UNIQUE)\b", " NOT NULL", s)


def probe_schema(con, res: Results) -> dict[str, int]:
    counts = {"statements": 0, "failed": 0, "failed_without_keys": 0}
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
    for version in sorted(MIGRATIONS):
        for statement in MIGRATIONS[version]:
            counts["statements"] += 1
            name = f"v{version} {first_words(statement)}"
            try:
                con.execute(statement)
                continue  # the ones that work are summarised below, not listed one by one
            except duckdb.Error as exc:
                counts["failed"] += 1
                error = short(exc)
            stripped = without_keys(statement)
            try:
                con.execute(stripped)
                res.add("schema", name, False, f"{error[:100]}  -> works with PRIMARY KEY removed")
            except duckdb.Error as exc2:
                counts["failed_without_keys"] += 1
                if "reserved by DuckLake" not in str(exc2):
                    res.add("schema", name, False, f"{error}  -> still fails without keys: {short(exc2)}")
                    continue
                # `row_id` is reserved while data inlining is on: create it with inlining off, then keep it off
                # for that table only (what a migration would have to do unless the column is renamed)
                con.execute("CALL lake.set_option('data_inlining_row_limit', 0)")
                con.execute(stripped)
                table = re.search(r"CREATE TABLE (\w+)", stripped).group(1)
                con.execute(f"CALL lake.set_option('data_inlining_row_limit', 0, table_name => '{table}')")
                con.execute(f"CALL lake.set_option('data_inlining_row_limit', {INLINING_DEFAULT})")
                res.add("schema", name, False, f"{short(exc2)[:200]}  -> created with inlining off for this table")
        con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [version])
    res.add(
        "schema",
        f"{counts['statements']} migration statements applied one by one",
        counts["failed"] == 0,
        f"{counts['failed']} failed as written; {counts['failed_without_keys']} still fail with keys removed",
    )
    keyed = sum(1 for v in MIGRATIONS.values() for s in v if re.search(r"PRIMARY KEY|UNIQUE", s))
    res.add("schema", "statements with PRIMARY KEY/UNIQUE", None, f"{keyed} of {counts['statements']}")
    res.attempt(
        con,
        "schema",
        "DEFAULT FALSE column (model_versions.is_live)",
        "SELECT column_default FROM information_schema.columns WHERE table_catalog = 'lake' "
        "AND table_name = 'model_versions' AND column_name = 'is_live'",
    )
    res.attempt(con, "schema", "window_fingerprint_cache DDL (rows.py)", CACHE_DDL)
    res.attempt(
        con,
        "schema",
        "rows__<model> table (SYSTEM_COLUMNS)",
        f'CREATE TABLE IF NOT EXISTS "rows__probe" ({", ".join(SYSTEM_COLUMNS)})',
    )
    res.attempt(
        con,
        "schema",
        "CREATE TABLE IF NOT EXISTS on an existing table",
        f'CREATE TABLE IF NOT EXISTS "rows__probe" ({", ".join(SYSTEM_COLUMNS)})',
    )
    # migrate() runs each step as one transaction: several DDL statements and an INSERT, then COMMIT
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE step_a (model VARCHAR NOT NULL, n BIGINT NOT NULL)")
        con.execute("CREATE TABLE step_b (model VARCHAR NOT NULL)")
        con.execute("ALTER TABLE step_a ADD COLUMN actor VARCHAR")
        con.execute("ALTER TABLE step_a ADD COLUMN removed_at TIMESTAMP")
        con.execute("INSERT INTO schema_version VALUES (99, now()::TIMESTAMP)")
        con.execute("COMMIT")
        res.add("schema", "one migration step = several DDL + INSERT in one transaction", True)
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        res.add("schema", "one migration step = several DDL + INSERT in one transaction", False, short(exc))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE step_c (x INTEGER)")
        con.execute("ROLLBACK")
        gone = (
            con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'lake' AND table_name = 'step_c'"
            ).fetchone()[0]
            == 0
        )
        res.add("schema", "DDL rolled back with its transaction", gone, "" if gone else "step_c survived ROLLBACK")
    except duckdb.Error as exc:
        res.add("schema", "DDL rolled back with its transaction", False, short(exc))
    con.execute("DELETE FROM schema_version WHERE version = 99")
    return counts


# ------------------------------------------------------------------ 2. operations
def probe_operations(con, res: Results, dsn: str, data_path: str, tmp: Path) -> None:
    a = "ops"
    now = pd.Timestamp("2024-05-01 12:00:00")
    con.execute("INSERT INTO models VALUES ('churn', '{}', 'rows__churn', ?, ?)", [now, now])
    res.attempt(
        con,
        a,
        "INSERT ... VALUES with parameters",
        "INSERT INTO model_versions (model, version, created_at, reference_set, metadata) "
        "VALUES ('churn', 1, ?, 'ref', '{}'), ('churn', 2, ?, 'ref', '{}')",
        [now, now],
    )
    res.attempt(
        con,
        a,
        "DEFAULT applied on insert (is_live)",
        "SELECT version, is_live FROM model_versions ORDER BY version",
        expect_rows=2,
    )
    # uniqueness: the constraint is gone, so a second row with the same key is simply stored
    con.execute("INSERT INTO models VALUES ('churn', '{}', 'rows__churn', ?, ?)", [now, now])
    dup = con.execute("SELECT count(*) FROM models WHERE name = 'churn'").fetchone()[0]
    res.add(
        a,
        "duplicate key insert (models.name) is rejected",
        dup == 1,
        f"{dup} rows named 'churn' stored: uniqueness is not enforced" if dup != 1 else "",
    )
    con.execute("DELETE FROM models WHERE name = 'churn'")
    con.execute("INSERT INTO models VALUES ('churn', '{}', 'rows__churn', ?, ?)", [now, now])
    res.attempt(
        con,
        a,
        "INSERT ... ON CONFLICT DO NOTHING",
        "INSERT INTO models VALUES ('churn', '{}', 'rows__churn', ?, ?) ON CONFLICT DO NOTHING",
        [now, now],
    )
    res.attempt(
        con,
        a,
        "INSERT ... ON CONFLICT (name) DO UPDATE",
        "INSERT INTO models VALUES ('churn', '{}', 'rows__churn', ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
        [now, now],
    )
    res.attempt(
        con, a, "INSERT OR REPLACE", "INSERT OR REPLACE INTO models VALUES ('churn', '{}', 'x', ?, ?)", [now, now]
    )
    res.attempt(
        con,
        a,
        "MERGE INTO (upsert without a key)",
        "MERGE INTO models USING (SELECT 'churn' AS name, now()::TIMESTAMP AS at) s ON models.name = s.name "
        "WHEN MATCHED THEN UPDATE SET updated_at = s.at "
        "WHEN NOT MATCHED THEN INSERT VALUES (s.name, '{}', 'rows__churn', s.at, s.at)",
    )
    res.attempt(
        con,
        a,
        "UPDATE ... SET col = ? WHERE key = ?",
        "UPDATE models SET spec = ?, updated_at = ? WHERE name = ?",
        ['{"a": 1}', now, "churn"],
    )
    res.attempt(
        con,
        a,
        "UPDATE ... SET is_live = (version = ?) (models.py)",
        "UPDATE model_versions SET is_live = (version = ?) WHERE model = ?",
        [2, "churn"],
    )
    res.attempt(
        con,
        a,
        "UPDATE ... SET n = n + 1 (share_links.uses)",
        "UPDATE model_versions SET version = version + 0 WHERE model = ?",
        ["churn"],
    )
    # outbox claim: UPDATE ... WHERE id IN (SELECT ... ORDER BY ... LIMIT ?) RETURNING
    outbox = pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(5)],
            "channel_id": "c",
            "channel_name": "c",
            "recipient": "r",
            "kind": "alert",
            "model": "churn",
            "subject": "s",
            "body_text": "b",
            "body_html": None,
            "payload": "{}",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "claimed_by": None,
            "claimed_at": None,
            "sent_at": None,
            "last_error": None,
        }
    )
    con.register("outbox_frame", pa.Table.from_pandas(outbox, preserve_index=False))
    res.attempt(
        con,
        a,
        "INSERT ... SELECT from a registered Arrow table (Connection.insert)",
        "INSERT INTO outbox SELECT * FROM outbox_frame",
    )
    con.unregister("outbox_frame")
    res.attempt(
        con,
        a,
        "UPDATE ... WHERE id IN (SELECT ... LIMIT ?) RETURNING (outbox claim)",
        "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1 "
        "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
        "ORDER BY created_at, id LIMIT ?) RETURNING id, attempts",
        ["me", now, now, 2],
        expect_rows=2,
    )
    res.attempt(con, a, "DELETE ... WHERE key = ?", "DELETE FROM outbox WHERE id = ?", ["m4"])
    res.attempt(
        con,
        a,
        "DELETE ... RETURNING (retention purge)",
        "DELETE FROM outbox WHERE id = ? RETURNING id",
        ["m3"],
        expect_rows=1,
    )
    res.attempt(
        con,
        a,
        "DELETE ... WHERE x IN (SELECT ...) (labels correction)",
        "DELETE FROM outbox_alerts WHERE outbox_id IN (SELECT id FROM outbox WHERE model = ?)",
        ["churn"],
    )
    res.attempt(
        con, a, "ALTER TABLE ADD COLUMN on a table with rows", "ALTER TABLE outbox ADD COLUMN probe_col VARCHAR"
    )
    res.attempt(
        con, a, "SELECT new column after ALTER (old rows NULL)", "SELECT count(*) FROM outbox WHERE probe_col IS NULL"
    )
    res.attempt(
        con,
        a,
        "information_schema.columns WHERE table_name = ? (ensure_table)",
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
        ["outbox"],
    )
    got = con.execute(
        "SELECT DISTINCT table_catalog FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    res.add(
        a,
        "information_schema.tables WHERE table_schema='main' (Connection.tables)",
        None,
        f"catalogs seen: {sorted(r[0] for r in got)}; filter on table_catalog = current_database() too",
    )
    res.attempt(
        con, a, "hash(t) digest (Connection._digest)", "SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM outbox t"
    )
    res.attempt(con, a, "JSON column ->> and DOUBLE[] column", "SELECT spec->>'a' FROM models WHERE name = 'churn'")
    # transactions
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'a', NULL, 'x', NULL, NULL, 'ok', NULL)")
        con.execute("INSERT INTO batches (id, model, kind, n_rows, created_at) VALUES ('b1', 'churn', 'p', 1, now())")
        con.execute("ROLLBACK")
        left = con.execute("SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM batches)").fetchone()[0]
        res.add(a, "BEGIN; writes to 2 tables; ROLLBACK leaves nothing", left == 0, f"{left} rows left" if left else "")
    except duckdb.Error as exc:
        res.add(a, "BEGIN; writes to 2 tables; ROLLBACK leaves nothing", False, short(exc))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO batches (id, model, kind, n_rows, created_at) VALUES ('b1', 'churn', 'p', 1, now())")
        con.execute("UPDATE batches SET removed_at = now() WHERE id = 'b1'")
        con.execute("DELETE FROM batches WHERE id = 'b1'")
        con.execute("COMMIT")
        res.add(a, "insert + update + delete of the same row in one transaction", True)
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        res.add(a, "insert + update + delete of the same row in one transaction", False, short(exc))
    # cursors: the store runs every query on con.cursor()
    cur = con.cursor()
    db = cur.execute("SELECT current_database()").fetchone()[0]
    res.add(
        a,
        "con.cursor() after USE lake: default catalog",
        db == "lake",
        f"cursor's current_database() = {db!r}" + ("" if db == "lake" else ": USE does not carry to cursors"),
    )
    cur.close()
    # sequences and ids
    res.attempt(con, a, "CREATE SEQUENCE", "CREATE SEQUENCE lake.main.probe_seq")
    res.attempt(con, a, "nextval()", "SELECT nextval('lake.main.probe_seq')")
    res.attempt(
        con, a, "column DEFAULT nextval(...)", "CREATE TABLE seq_t (id BIGINT DEFAULT nextval('probe_seq'), x VARCHAR)"
    )
    res.attempt(
        con,
        a,
        "GENERATED ALWAYS AS IDENTITY / SERIAL-like",
        "CREATE TABLE ident_t (id BIGINT GENERATED ALWAYS AS IDENTITY, x INT)",
    )
    res.attempt(con, a, "CREATE INDEX", "CREATE INDEX outbox_status ON outbox (status)")
    res.attempt(con, a, "CHECK constraint", "CREATE TABLE check_t (x INTEGER CHECK (x > 0))")
    res.attempt(con, a, "CREATE VIEW", "CREATE VIEW live_versions AS SELECT * FROM model_versions WHERE is_live")
    # con.append (Python relation API)
    frame = pd.DataFrame({"key": ["k1", "k2"], "failed_at": [now, now]})
    try:
        con.append("login_failures", frame)
        res.add(a, "con.append('table', df) after USE lake", True)
    except duckdb.Error as exc:
        res.add(a, "con.append('table', df) after USE lake", False, short(exc))
    try:
        con.table("lake.main.login_failures").insert(["k3", now.to_pydatetime()])
        res.add(a, "con.table('lake.main.t').insert(row)", True)
    except (duckdb.Error, TypeError) as exc:
        res.add(a, "con.table('lake.main.t').insert(row)", False, short(exc))
    res.attempt(con, a, "CHECKPOINT (DuckLake: maintenance)", "CHECKPOINT")
    res.attempt(con, a, "PRAGMA table_info", "PRAGMA table_info('outbox')")
    res.attempt(con, a, "SET memory_limit = '1GB'", "SET memory_limit = '1GB'")
    res.attempt(con, a, "ducklake_snapshots()", "SELECT count(*) FROM ducklake_snapshots('lake')")
    snap = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')").fetchone()[0]
    res.attempt(
        con,
        a,
        "time travel: SELECT ... AT (VERSION => n)",
        f"SELECT count(*) FROM models AT (VERSION => {snap})",  # noqa: S608 - fixed names made here
    )
    res.attempt(con, a, "ducklake_merge_adjacent_files", "CALL ducklake_merge_adjacent_files('lake')")
    res.attempt(
        con,
        a,
        "ducklake_expire_snapshots (older_than now)",
        "SELECT count(*) FROM ducklake_expire_snapshots('lake', older_than => now())",
    )
    res.attempt(con, a, "ducklake_cleanup_old_files", "CALL ducklake_cleanup_old_files('lake', cleanup_all => true)")
    # backup: Connection.copy_to runs COPY FROM DATABASE <current> TO <new file>
    target = tmp / "backup.duckdb"
    res.attempt(
        con,
        a,
        "ATTACH local file + COPY FROM DATABASE lake TO it (Connection.copy_to)",
        f"ATTACH {sql_literal(str(target))} AS backup_db (READ_WRITE)",
    )
    res.attempt(con, a, "COPY FROM DATABASE lake TO backup_db", "COPY FROM DATABASE lake TO backup_db")
    with __import__("contextlib").suppress(duckdb.Error):
        con.execute("DETACH backup_db")
    # other ways to open the lake
    try:
        ro = duckdb.connect(config=dict(OFFLINE))
        for name in EXTENSIONS:
            ro.execute(f"LOAD {sql_literal(str(extension_file(name)))}")
        ro.execute(f"ATTACH {sql_literal('ducklake:postgres:' + dsn)} AS lake (READ_ONLY)")
        n = ro.execute("SELECT count(*) FROM lake.models").fetchone()[0]
        try:
            ro.execute("INSERT INTO lake.mutes VALUES ('m', now(), 'x', NULL, now())")
            res.add(a, "ATTACH ... (READ_ONLY) without DATA_PATH: reads, refuses writes", False, "write was accepted")
        except duckdb.Error as exc:
            res.add(
                a,
                "ATTACH ... (READ_ONLY) without DATA_PATH: reads, refuses writes",
                True,
                f"read {n} models; write refused: {short(exc)[:90]}",
            )
        ro.close()
    except duckdb.Error as exc:
        res.add(a, "ATTACH ... (READ_ONLY) without DATA_PATH", False, short(exc))
    try:  # autoload from a local extension_directory laid out the way DuckDB expects: nothing is downloaded
        ext_dir = extension_directory(tmp / "extensions")
        config = {
            "extension_directory": str(ext_dir),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        }
        direct = duckdb.connect(f"ducklake:postgres:{dsn}", config=config)
        cur = direct.cursor()
        db = cur.execute("SELECT current_database()").fetchone()[0]
        n = cur.execute("SELECT count(*) FROM models").fetchone()[0]
        cur.close()
        res.add(
            a,
            "duckdb.connect('ducklake:postgres:<dsn>', extension_directory=...) ",
            True,
            f"extensions autoloaded from a local folder; a cursor's default db is {db[:30]!r}...; {n} models "
            "readable unqualified",
        )
        direct.close()
    except duckdb.Error as exc:
        res.add(a, "duckdb.connect('ducklake:postgres:<dsn>', extension_directory=...)", False, short(exc))
    files = sum(1 for _ in Path(data_path).rglob("*.parquet"))
    res.add(a, "Parquet files under DATA_PATH after the probes", None, f"{files} files")


# ------------------------------------------------------------------ 3. concurrency
def worker(args: argparse.Namespace) -> None:
    """One writer process: `--writes` transactions of the chosen kind, retrying each on error."""
    con = open_lake(args.dsn, args.data_path)
    until = float(args.start_at)
    while time.time() < until:
        time.sleep(0.005)
    out = {"ok": 0, "gave_up": 0, "retries": 0, "errors": {}, "wins": 0, "seconds": 0.0}
    t0 = time.perf_counter()
    for i in range(args.writes):
        for attempt in range(50):
            try:
                con.execute("BEGIN TRANSACTION")
                if args.kind == "plain":
                    con.execute(
                        "INSERT INTO audit_log VALUES (now()::TIMESTAMP, ?, NULL, 'probe', NULL, ?, 'ok', NULL)",
                        [args.who, str(i)],
                    )
                elif args.kind == "max_id":
                    start = con.execute('SELECT coalesce(max(_row_id), 0) FROM "rows__race"').fetchone()[0]
                    con.execute(
                        "INSERT INTO \"rows__race\" VALUES (?, 'production', 's', now()::TIMESTAMP, ?, NULL, ?)",
                        [start + 1, f"{args.who}-{i}", args.who],
                    )
                elif args.kind == "update_same":  # share_links.uses = uses + 1 on one row from both processes
                    con.execute("UPDATE share_links SET uses = uses + 1 WHERE id = 'race'")
                elif args.kind == "lease":  # DeliveryFamily.acquire_lease, each round a fresh lease name
                    name = f"lease-{i}"
                    rows = con.execute("SELECT holder, expires_at FROM leases WHERE name = ?", [name]).fetchall()
                    if rows and rows[0][0] != args.who:
                        con.execute("COMMIT")
                        break
                    con.execute("DELETE FROM leases WHERE name = ?", [name])
                    con.execute(
                        "INSERT INTO leases VALUES (?, ?, now()::TIMESTAMP, now()::TIMESTAMP + INTERVAL 1 HOUR)",
                        [name, args.who],
                    )
                con.execute("COMMIT")
                out["ok"] += 1
                if args.kind == "lease":
                    out["wins"] += 1
                break
            except duckdb.Error as exc:
                with __import__("contextlib").suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                key = re.sub(r"\d+", "N", " ".join(str(exc).split()))[:300]
                out["errors"][key] = out["errors"].get(key, 0) + 1
                out["retries"] += 1
                time.sleep(0.002 * (attempt + 1))
        else:
            out["gave_up"] += 1
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


def probe_concurrency(con, res: Results, dsn: str, data_path: str, writes: int, lease_rounds: int) -> None:
    con.execute(f'CREATE TABLE IF NOT EXISTS "rows__race" ({", ".join(SYSTEM_COLUMNS)})')
    con.execute("DELETE FROM audit_log")
    con.execute("DELETE FROM leases")
    con.execute("DELETE FROM share_links")
    con.execute("INSERT INTO share_links VALUES ('race', 'churn', 'v', 'x', now(), now(), NULL, NULL, 0, NULL)")
    plan = (
        ("plain", writes),
        ("max_id", max(writes // 3, 20)),
        ("update_same", max(writes // 3, 20)),
        ("lease", lease_rounds),
    )
    for kind, n in plan:
        start_at = time.time() + 4.0  # both processes attach first, then start together
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    kind,
                    "--who",
                    who,
                    "--dsn",
                    dsn,
                    "--data-path",
                    data_path,
                    "--writes",
                    str(n),
                    "--start-at",
                    str(start_at),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for who in ("w1", "w2")
        ]
        outs = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=600)
            if p.returncode != 0:
                res.add("concurrency", f"{kind}: worker", False, stderr.strip()[-300:])
                outs.append(None)
                continue
            outs.append(json.loads(stdout.strip().splitlines()[-1]))
        if None in outs:
            continue
        errors: dict[str, int] = {}
        for o in outs:
            for k, v in o["errors"].items():
                errors[k] = errors.get(k, 0) + v
        top = "; ".join(f"{v}x {k}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])[:2])
        secs = max(o["seconds"] for o in outs)
        retries = sum(o["retries"] for o in outs)
        gave_up = sum(o["gave_up"] for o in outs)
        if kind == "plain":
            rows = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
            ok = rows == 2 * n and gave_up == 0
            res.add(
                "concurrency",
                f"2 procs x {n} single-row INSERT txns, same table",
                ok,
                f"{rows}/{2 * n} rows; {retries} retries; {gave_up} gave up; {secs:.1f}s "
                f"({2 * n / secs:.0f} commits/s); {top}",
            )
        elif kind == "max_id":
            rows, distinct = con.execute('SELECT count(*), count(DISTINCT _row_id) FROM "rows__race"').fetchone()
            res.add(
                "concurrency",
                f"2 procs x {n} max(_row_id)+1 inserts (write_batch ids)",
                rows == distinct == 2 * n,
                f"{rows} rows, {distinct} distinct ids; {retries} retries; {gave_up} gave up; {secs:.1f}s; {top}",
            )
        elif kind == "update_same":
            uses = con.execute("SELECT uses FROM share_links WHERE id = 'race'").fetchone()[0]
            res.add(
                "concurrency",
                f"2 procs x {n} UPDATE uses = uses + 1 on one row",
                uses == 2 * n,
                f"uses = {uses} of {2 * n}; {retries} retries; {gave_up} gave up; {secs:.1f}s; {top}",
            )
        else:
            per_name = con.execute("SELECT name, count(*) FROM leases GROUP BY name HAVING count(*) > 1").fetchall()
            wins = sum(o["wins"] for o in outs)
            res.add(
                "concurrency",
                f"2 procs race for {n} leases (acquire_lease)",
                not per_name and wins == n,
                f"{wins} wins for {n} leases; {len(per_name)} leases with 2 rows; {retries} retries; {top}",
            )
    files = sum(1 for _ in Path(data_path).rglob("*.parquet"))
    snaps = con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
    res.add(
        "concurrency", "catalog after the writers", None, f"{snaps} snapshots, {files} Parquet files under DATA_PATH"
    )


# ------------------------------------------------------------------ 4. bulk append timing
def probe_append(con, res: Results, tmp: Path, n: int) -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "model": "churn",
            "version": np.ones(n, dtype="int32"),
            "row_id": np.arange(1, n + 1, dtype="int64"),
            "ts": pd.date_range("2024-01-01", periods=n, freq="min").astype("datetime64[us]"),
            "entity_id": [f"e{i}" for i in range(n)],
            "prediction": rng.random(n),
            "probability": rng.random(n),
            "scores": [None] * n,
            "batch_id": "b",
        }
    )
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    local = duckdb.connect(str(tmp / "local.duckdb"))
    local.execute(
        "CREATE TABLE predictions (model VARCHAR NOT NULL, version INTEGER NOT NULL, row_id BIGINT NOT NULL, "
        "ts TIMESTAMP NOT NULL, entity_id VARCHAR NOT NULL, prediction DOUBLE, probability DOUBLE, "
        "scores DOUBLE[], batch_id VARCHAR NOT NULL)"
    )
    for label, target, table in (("local file", local, "predictions"), ("DuckLake", con, "predictions")):
        timings = {}
        target.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names made here
        t0 = time.perf_counter()
        target.append(table, frame)
        timings["con.append"] = time.perf_counter() - t0
        target.register("arrow_frame", arrow)
        t0 = time.perf_counter()
        target.execute(f"BEGIN; INSERT INTO {table} SELECT * FROM arrow_frame; COMMIT")  # noqa: S608 - fixed names made here
        timings["INSERT SELECT arrow"] = time.perf_counter() - t0
        target.unregister("arrow_frame")
        t0 = time.perf_counter()
        count = target.execute(f"SELECT count(*), sum(prediction) FROM {table}").fetchone()  # noqa: S608 - fixed names made here
        timings["scan count+sum"] = time.perf_counter() - t0
        res.add(
            "append 100k",
            f"{label}: {n:,} rows",
            None,
            "; ".join(f"{k} {v:.3f}s" for k, v in timings.items()) + f"; {count[0]:,} rows after both",
        )
    local.close()


# ------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writes", type=int, default=300, help="single-row transactions per writer process")
    ap.add_argument("--lease-rounds", type=int, default=40)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--worker", choices=["plain", "max_id", "update_same", "lease"], help=argparse.SUPPRESS)
    ap.add_argument("--who", help=argparse.SUPPRESS)
    ap.add_argument("--dsn", help=argparse.SUPPRESS)
    ap.add_argument("--data-path", help=argparse.SUPPRESS)
    ap.add_argument("--start-at", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        args.kind = args.worker
        worker(args)
        return 0

    from tests.pg_server import postgres_server

    res = Results()
    tmp = Path(tempfile.mkdtemp(prefix="mp-lake-"))
    try:
        with postgres_server() as pg:
            data_path = str(tmp / "lake") + "/"
            con = open_lake(pg.dsn, data_path)
            versions = dict(
                con.execute(
                    "SELECT extension_name, extension_version FROM duckdb_extensions() "
                    "WHERE loaded AND extension_name IN ('ducklake', 'postgres_scanner')"
                ).fetchall()
            )
            res.add(
                "setup",
                "extensions loaded offline from PyPI packages",
                True,
                f"duckdb {duckdb.__version__}; " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
            )
            res.add("setup", "ATTACH 'ducklake:postgres:<dsn>' (DATA_PATH ...)", True, pg.dsn)
            t0 = time.perf_counter()
            probe_schema(con, res)
            res.add(
                "schema",
                "time to apply all steps (one statement per round trip)",
                None,
                f"{time.perf_counter() - t0:.2f}s",
            )
            sections = (
                ("ops", lambda: probe_operations(con, res, pg.dsn, data_path, tmp)),
                ("concurrency", lambda: probe_concurrency(con, res, pg.dsn, data_path, args.writes, args.lease_rounds)),
                ("append 100k", lambda: probe_append(con, res, tmp, args.rows)),
            )
            for area, run in sections:
                try:
                    run()
                except Exception as exc:  # noqa: BLE001 - a probe reports, it does not stop
                    res.add(area, "section aborted", False, short(exc))
                db = con.execute("SELECT current_database()").fetchone()[0]
                if db != "lake":
                    res.add(area, "default database after this section", None, f"{db!r}; USE lake again")
                    con.execute("USE lake")
            con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res.print()
    if args.json:
        args.json.write_text(json.dumps(res.rows, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    raise SystemExit(main())
