"""Flat cost in stored rows: one new window monitored on 10M and on 100M stored predictions (issue 15 part 2).

Targets, each a ratio against a peer measured in the same run:

- monitoring one new window of a fixed size takes at most 1.3x as long with 100M stored predictions as
  with 10M, and the monitoring process peaks at no more than 1.2 GB RSS at 100M;
- the Overview, Model health and Business KPIs pages rerun (caches cleared) in at most 1.5x the time
  with 100M stored predictions as with 10k.

How the stores are made. A template store is built from real flights rows with `bench/pages.py`'s `build`
(`bench/monitoring.py`'s `build_big`: a small model scores rows resampled from the real May-Dec flights, 40
weekly windows, labels a day later) and monitored. A large store is a copy of it whose production rows,
predictions and labels are multiplied in DuckDB SQL (`INSERT ... SELECT` from the template's real rows cross
`range(k)`, one statement per week so rows stay in time order as they would arrive), each copy with its own
row id and entity id. The 40 past windows keep the template's results and have their fingerprints updated to
the inflated counts, so they count as computed; one new week of `--window-rows` rows (the template's real rows
moved into week 41, with their predictions and labels) is the only pending window. The past windows get their
calibration samples (schema 12) the way monitoring makes them, timed once. The pages' peer of 10k predictions
judges its 250-row windows (its `min_rows` is lowered from the spec's 500), so that it holds the same kinds of
checks as the large stores. Monitoring (`core.refresh.refresh`) then runs in a child process that only
monitors (`bench/monitoring.py --monitor-only`): its time in `refresh` and peak RSS (VmHWM) are the process's
own. Before each repeat the new window's results are forgotten and the store's cached window counts
(`window_fingerprint_cache`) are put back as they were just before the new week arrived, so every run does the
same work; the two sizes alternate, and with `--before COMMIT` each run is paired with one of that commit's
code (exported with `git archive`, not checked out).

    .venv/bin/python bench/scale.py [--sizes 10000000 100000000] [--window-rows 250000] [--repeats 2]
                                    [--reruns 5] [--before COMMIT] [--keep /tmp/mp-scale] [--pages-only]

Every store lives under --keep (default: a temporary folder under /tmp, deleted at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.stdout.reconfigure(line_buffering=True)

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from bench.common import busy_warning  # noqa: E402
from bench.monitoring import WEEK0  # noqa: E402

TEMPLATE_ROWS = 100_000
"""Production rows of the template: 40 weeks x 2,500 real rows; a large store is k copies of them."""
WINDOWS = 40
MODEL = "flights_big"
ROWS = f"rows__{MODEL}"
BUILD_MEMORY = "6GB"
"""DuckDB's pool while synthesising (the monitoring process keeps the store's own setting)."""


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    sql = "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"
    return [r[0] for r in con.execute(sql, [table]).fetchall()]


def copy_select(con: duckdb.DuckDBPyConnection, table: str, changed: dict[str, str]) -> str:
    """The select list of `table`'s columns in order, with the expressions in `changed` replacing some."""
    return ", ".join(changed.get(c, f'"{c}"') for c in columns(con, table))


def inflate(con: duckdb.DuckDBPyConnection, copies: int, step: int) -> None:
    """Add `copies - 1` copies of every production row, its predictions and its label, one week at a time
    (so the tables stay in time order, as rows arriving week by week would be).

    Copy j gets row id `_row_id + j * step` and entity id `<id>~j`; times, features and answers are the
    template's real ones. The template's rows are read from temporary copies (reading the table being
    appended to is several times slower)."""
    sql = f"CREATE TEMP TABLE t_rows AS SELECT * FROM {ROWS} WHERE _split = 'production' AND _row_id <= ?"  # noqa: S608
    con.execute(sql, [step])
    con.execute("CREATE TEMP TABLE t_preds AS SELECT * FROM predictions WHERE model = ? AND row_id <= ?", [MODEL, step])
    con.execute(
        """CREATE TEMP TABLE t_labels AS SELECT l.* FROM labels l
           JOIN t_rows r ON r._entity_id = l.entity_id WHERE l.model = ?""",
        [MODEL],
    )
    rows = copy_select(
        con,
        ROWS,
        {"_row_id": "r._row_id + t.j * ?", "_entity_id": "r._entity_id || '~' || t.j", "_batch_id": "'scale'"},
    )
    preds = copy_select(
        con,
        "predictions",
        {"row_id": "p.row_id + t.j * ?", "entity_id": "p.entity_id || '~' || t.j", "batch_id": "'scale'"},
    )
    labels = copy_select(con, "labels", {"entity_id": "l.entity_id || '~' || t.j", "batch_id": "'scale'"})
    con.execute(
        "INSERT INTO batches (id, model, kind, n_rows, source, created_at) VALUES ('scale', ?, 'predictions', 0, "
        "'bench/scale.py', now())",
        [MODEL],
    )
    for w in range(WINDOWS):
        lo, hi = WEEK0 + pd.Timedelta(weeks=w), WEEK0 + pd.Timedelta(weeks=w + 1)
        sql = f"INSERT INTO {ROWS} SELECT {rows} FROM t_rows r, range(1, ?) t(j) WHERE r._ts >= ? AND r._ts < ?"  # noqa: S608
        con.execute(sql, [step, copies, lo, hi])
        sql = f"INSERT INTO predictions SELECT {preds} FROM t_preds p, range(1, ?) t(j) WHERE p.ts >= ? AND p.ts < ?"  # noqa: S608
        con.execute(sql, [step, copies, lo, hi])
        sql = (
            f"INSERT INTO labels SELECT {labels} FROM t_labels l, range(1, ?) t(j) WHERE l.row_ts >= ? AND l.row_ts < ?"  # noqa: S608
        )
        con.execute(sql, [copies, lo, hi])
        if (w + 1) % 10 == 0:
            print(f"    week {w + 1}/{WINDOWS} copied", flush=True)
    for t in ("t_rows", "t_preds", "t_labels"):
        con.execute(f"DROP TABLE {t}")


def add_window(con: duckdb.DuckDBPyConnection, n: int, step: int, first_copy: int) -> pd.Timestamp:
    """Week 41: `n` of the template's real production rows (recycled as needed), each moved to the same
    moment of week 41, with their predictions and labels (a day later, as the template's). Returns its start."""
    start = WEEK0 + pd.Timedelta(weeks=WINDOWS)
    # rows numbered in time order; copy c of template row i goes to slot c * m + i
    sql = f"SELECT count(*) FROM {ROWS} WHERE _split = 'production' AND _row_id <= ?"  # noqa: S608
    m = int(con.execute(sql, [step]).fetchone()[0])
    con.execute(
        f"""CREATE TEMP TABLE pick AS
            SELECT r._row_id AS old_id, r._entity_id AS old_entity, c.c,
                   r._row_id + (? + c.c) * ? AS new_id, r._entity_id || '~n' || c.c AS new_entity,
                   ? + (r._ts - date_trunc('week', r._ts)) AS new_ts
            FROM {ROWS} r, range(0, ?) c(c)
            WHERE r._split = 'production' AND r._row_id <= ?
            QUALIFY row_number() OVER (ORDER BY c.c, r._row_id) <= ?""",  # noqa: S608
        [first_copy, step, start, -(-n // m), step, n],
    )
    rows = copy_select(
        con, ROWS, {"_row_id": "k.new_id", "_entity_id": "k.new_entity", "_ts": "k.new_ts", "_batch_id": "'scale-new'"}
    )
    preds = copy_select(
        con,
        "predictions",
        {"row_id": "k.new_id", "entity_id": "k.new_entity", "ts": "k.new_ts", "batch_id": "'scale-new'"},
    )
    labels = copy_select(
        con,
        "labels",
        {
            "entity_id": "k.new_entity",
            "label_ts": "k.new_ts + (l.label_ts - r._ts)",
            "batch_id": "'scale-new'",
            "row_ts": "k.new_ts",
        },
    )
    con.execute(
        "INSERT INTO batches (id, model, kind, n_rows, source, created_at) VALUES ('scale-new', ?, 'predictions', ?, "
        "'bench/scale.py', now())",
        [MODEL, n],
    )
    con.execute(f"INSERT INTO {ROWS} SELECT {rows} FROM pick k JOIN {ROWS} r ON r._row_id = k.old_id ORDER BY k.new_ts")  # noqa: S608
    con.execute(
        f"""INSERT INTO predictions SELECT {preds} FROM pick k
            JOIN predictions p ON p.model = ? AND p.row_id = k.old_id ORDER BY k.new_ts""",  # noqa: S608
        [MODEL],
    )
    con.execute(
        f"""INSERT INTO labels SELECT {labels} FROM pick k JOIN {ROWS} r ON r._row_id = k.old_id
            JOIN labels l ON l.model = ? AND l.entity_id = k.old_entity ORDER BY k.new_ts""",  # noqa: S608
        [MODEL],
    )
    con.execute("DROP TABLE pick")
    return start


def mark_past_computed(path: Path, new_start: pd.Timestamp) -> int:
    """Give the past windows' stored results the fingerprints of their inflated rows, so that only the new
    window is pending. Their results stay the template's (the pages read aggregates of 40 windows either
    way). Returns how many windows were marked."""
    from core.monitoring.window import fingerprint
    from core.store import Store
    from core.store.connection import Connection
    from core.store.fingerprints import FingerprintsFamily

    with Store.open(path) as store:
        spec = store.get_spec(MODEL)
    con = duckdb.connect(str(path), config={"memory_limit": BUILD_MEMORY})
    try:
        fps = FingerprintsFamily(Connection(con, path, read_only=False)).window_fingerprints(spec=spec)
        past = fps[pd.to_datetime(fps["window_start"]) < new_start]
        for _, row in past.iterrows():
            con.execute(
                """UPDATE monitor_windows SET fingerprint = ?, n_rows = ?, n_labels = ?
                   WHERE model = ? AND scope = 'full' AND window_start = ?""",
                [fingerprint(row, "full"), int(row["n_rows"]), int(row["n_labels"]), MODEL, row["window_start"]],
            )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return len(past)


def sample_past(path: Path, new_start: pd.Timestamp) -> tuple[int, float]:
    """Make the calibration samples of the past windows, as monitoring made them when it computed each (a store
    of code before schema 12 gets them the same way on its first run). Returns (windows sampled, seconds)."""
    from core.monitoring.runner import sample_calibration
    from core.monitoring.runner import version_context
    from core.monitoring.thresholds import Thresholds
    from core.store import Store

    t0 = time.perf_counter()
    with Store.open(path) as store:
        spec = store.get_spec(MODEL)
        fps = store.window_fingerprints(spec=spec)
        past = fps[pd.to_datetime(fps["window_start"]) < new_start]
        ctx = version_context(store, spec, store.live_version(MODEL), Thresholds())
        n = sample_calibration(store, ctx, past, progress=lambda _: None)
    return n, time.perf_counter() - t0


def make_store(template: Path, path: Path, rows: int, window_rows: int) -> dict:
    """A copy of `template` holding about `rows` production predictions and one pending window."""
    t0 = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template, path)
    con = duckdb.connect(str(path), config={"memory_limit": BUILD_MEMORY, "threads": 2})
    try:
        step = int(con.execute(f"SELECT max(_row_id) FROM {ROWS}").fetchone()[0])  # noqa: S608
        m = int(con.execute(f"SELECT count(*) FROM {ROWS} WHERE _split = 'production'").fetchone()[0])  # noqa: S608
        copies = max(1, round((rows - window_rows) / m))
        if copies > 1:
            inflate(con, copies, step)
        start = add_window(con, window_rows, step, copies)
        con.execute("CHECKPOINT")
        n = int(con.execute("SELECT count(*) FROM predictions").fetchone()[0])
    finally:
        con.close()
    marked = mark_past_computed(path, start)
    return {
        "predictions": n,
        "copies": copies,
        "new_window": start,
        "marked": marked,
        "build_s": time.perf_counter() - t0,
        "size_mb": path.stat().st_size / 2**20,
    }


def monitor_child(path: Path, code: Path = REPO) -> dict:
    """Monitor the store in a child process that does nothing else (`bench/monitoring.py --monitor-only`),
    running the code under `code` (this checkout, or an export of an earlier commit to compare with)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(code / "bench" / "monitoring.py"), "--monitor-only", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def prepare_cache(path: Path, start: pd.Timestamp) -> None:
    """Save the store's window counts as they were just before the new week arrived, for `restore_cache`.

    The history's batches are dated a day back (it arrived long before); the counts of every past window
    are taken, and dated just before the new week's batch, with the row ids and row count before it."""
    from core.store import Store
    from core.store.fingerprints import FINGERPRINT_CACHE

    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE batches SET created_at = created_at - INTERVAL 1 DAY WHERE id = 'scale'")
    finally:
        con.close()
    with Store.open(path) as store:
        store.window_fingerprints(spec=store.get_spec(MODEL))  # counts every window the first time
    con = duckdb.connect(str(path))
    try:
        first, n = con.execute(f"SELECT min(_row_id), count(*) FROM {ROWS} WHERE _ts >= ?", [start]).fetchone()  # noqa: S608
        arrived = con.execute("SELECT created_at FROM batches WHERE id = 'scale-new'").fetchone()[0]
        con.execute(f"DELETE FROM {FINGERPRINT_CACHE} WHERE model = ? AND window_start >= ?", [MODEL, start])  # noqa: S608
        con.execute(
            f"UPDATE {FINGERPRINT_CACHE} SET max_row_id = ?, n_stored = n_stored - ?, "  # noqa: S608
            "as_of = ?::TIMESTAMP - INTERVAL 1 SECOND WHERE model = ?",
            [int(first) - 1, int(n), arrived, MODEL],
        )
        con.execute(f"COPY (SELECT * FROM {FINGERPRINT_CACHE}) TO '{path.parent / 'cache.parquet'}'")  # noqa: S608
    finally:
        con.close()


def restore_cache(path: Path) -> None:
    """Put back the window counts `prepare_cache` saved (monitoring updates them for the new week)."""
    from core.store.fingerprints import FINGERPRINT_CACHE

    con = duckdb.connect(str(path))
    try:
        con.execute(f"DELETE FROM {FINGERPRINT_CACHE}")  # noqa: S608
        con.execute(f"INSERT INTO {FINGERPRINT_CACHE} SELECT * FROM read_parquet('{path.parent / 'cache.parquet'}')")  # noqa: S608
    finally:
        con.close()


def match_calculation(path: Path, code: Path) -> None:
    """Stamp the past windows with what `code` computes (`CALCULATION`), so it takes them as computed and only
    the new week is pending: their results stay the template's either way."""
    text = (code / "core" / "monitoring" / "window.py").read_text()
    calc = text.split('CALCULATION = "', 1)[1].split('"', 1)[0]
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE monitor_windows SET fingerprint = regexp_replace(fingerprint, '^[^|]*', ?)", [calc])
    finally:
        con.close()


def forget_new(path: Path, start: pd.Timestamp) -> None:
    """Make the new window pending again (its results go; the next run computes it from its rows)."""
    from core.store import Store

    with Store.open(path) as store:
        store.forget_windows(model=MODEL, version=1, starts=[start.to_pydatetime()])


def pieces(path: Path, start: pd.Timestamp) -> dict:
    """Seconds of each store read one window's monitoring makes, and of making its calibration sample (child
    mode, so caches are cold alike)."""
    from core.monitoring.runner import calibration_rows
    from core.monitoring.runner import counted_window
    from core.monitoring.runner import version_context
    from core.monitoring.thresholds import Thresholds
    from core.monitoring.windows import make_window
    from core.store import Store

    out: dict = {}
    with Store.open(path) as store:
        spec = store.get_spec(MODEL)
        info = store.live_version(MODEL)
        t = time.perf_counter()
        store.window_fingerprints(spec=spec)
        out["window_fingerprints"] = time.perf_counter() - t
        t = time.perf_counter()
        ctx = version_context(store, spec, info, Thresholds())
        out["read_reference + context"] = time.perf_counter() - t
        window = make_window(start, spec.window)
        t = time.perf_counter()
        counted_window(store, ctx, window)
        out["window_histograms"] = time.perf_counter() - t
        t = time.perf_counter()
        frame = store.read_window(spec=spec, version=info.version, start=window.start, end=window.end)
        out["read_window"] = time.perf_counter() - t
        t = time.perf_counter()
        cal = calibration_rows(store, ctx, window)
        out["read_calibration"] = time.perf_counter() - t
        t = time.perf_counter()  # the new window's own sample, which later windows read (made again: the same)
        marks = store.calibration_marks(model=MODEL, version=info.version)
        store.sample_window(
            spec=spec,
            version=info.version,
            start=window.start,
            end=window.end,
            mark=marks[start],
            rows=ctx.thresholds.sample_rows_per_window,
        )
        out["sample_window"] = time.perf_counter() - t
        out["rows"], out["calibration_rows"] = len(frame), len(cal)
    return out


def pieces_child(path: Path, start: pd.Timestamp) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--pieces", str(path), str(start)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_commit(commit: str, root: Path) -> Path:
    """The repository's files at `commit`, exported (not checked out) under `root`."""
    dest = root / f"code-{commit}"
    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def time_page(db: Path, page: str, counted: str) -> float:
    """Seconds for one cold rerun of `page` (caches cleared; a counter on `ui.data.<counted>` proves it read)."""
    import streamlit.logger
    from streamlit.testing.v1 import AppTest

    from bench.pages import timed_rerun

    os.environ.update(
        MODELPULSE_DB=str(db),
        MODELPULSE_MODELS_DIR=str(db.parent / "models"),
        MODELPULSE_INBOX_POLL="0",
        MODELPULSE_SCHEDULER="off",
    )
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    streamlit.logger.set_log_level("error")
    import ui.data

    return timed_rerun(at, ui.data, counted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000_000, 100_000_000])
    parser.add_argument("--small", type=int, default=10_000, help="the pages' peer store")
    parser.add_argument("--window-rows", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="build the stores here and reuse them next time")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--pages-only", action="store_true", help="time the pages on stores built before")
    parser.add_argument("--before", default=None, help="also monitor with the code of this commit (git archive)")
    parser.add_argument("--pieces", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pieces:
        print(json.dumps(pieces(Path(args.pieces[0]), pd.Timestamp(args.pieces[1]))))
        return 0
    from bench.pages import build
    from bench.pages import time_overview

    busy_warning()
    tmp = tempfile.TemporaryDirectory(prefix="mp-scale-", dir="/tmp")
    root = args.keep or Path(tmp.name)
    stores: dict[str, Path] = {}
    info: dict[str, dict] = {}
    # the pages' peer: its 250-row windows are judged (the flights spec's 500-row minimum would leave them
    # unjudged, and its pages with nothing to draw), so it holds the same checks as the large stores
    small_min_rows = min(500, args.small // (WINDOWS + 1))
    for label, rows, min_rows in (("template", TEMPLATE_ROWS, None), ("small", args.small, small_min_rows)):
        stores[label] = db = root / label / "modelpulse.duckdb"
        marker = db.parent / "built"  # a finished build (reused with --keep)
        if not marker.exists() or (label == "small" and not (db.parent / f"min_rows_{min_rows}").exists()):
            shutil.rmtree(db.parent, ignore_errors=True)
            db.parent.mkdir(parents=True)
            marker.write_text(f"{build(db, rows, min_rows=min_rows):.0f}")
            (db.parent / f"min_rows_{min_rows}").touch()
        print(f"{label}: {rows:,} predictions + monitoring built in {marker.read_text()}s")
    sizes = sorted(args.sizes)
    for rows in sizes:
        db = root / f"n{rows}" / "modelpulse.duckdb"
        meta = db.parent / "built.json"
        if not meta.exists():
            shutil.rmtree(db.parent, ignore_errors=True)
            made = make_store(stores["template"], db, rows, args.window_rows)
            meta.write_text(json.dumps(made, default=str))
        info[str(rows)] = m = json.loads(meta.read_text())
        stores[str(rows)] = db
        if "sampled" not in m:  # calibration samples (schema 12), also for a store built by earlier code
            m["sampled"], m["sample_s"] = sample_past(db, pd.Timestamp(m["new_window"]))
            meta.write_text(json.dumps(m, default=str))
        print(f"{rows:,}: calibration samples of {m['sampled']} past windows made in {m['sample_s']:.1f}s")
        print(
            f"{rows:,}: {m['predictions']:,} predictions ({m['copies']} copies), {m['size_mb']:,.0f} MB, "
            f"{m['marked']} past windows marked computed, built in {m['build_s']:.0f}s"
        )
    # the small store gets a new window too (its share of rows), monitored here: 41 windows like the others
    small_meta = stores["small"].parent / "new.json"
    if not small_meta.exists():
        con = duckdb.connect(str(stores["small"]))
        step = int(con.execute(f"SELECT max(_row_id) FROM {ROWS}").fetchone()[0])  # noqa: S608
        start = add_window(con, args.small // WINDOWS, step, 1)
        con.close()
        monitor_child(stores["small"])
        small_meta.write_text(json.dumps({"new_window": str(start)}))

    # monitoring: sizes and code alternate; each run starts from the moment the new week arrived
    codes = {"now": REPO}
    if args.before:
        codes["before"] = export_commit(args.before, root)
    runs: dict[tuple[str, int], list[dict]] = {(c, r): [] for c in codes for r in sizes}
    for rows in sizes:
        db = stores[str(rows)]
        if not (db.parent / "cache.parquet").exists():
            forget_new(db, pd.Timestamp(info[str(rows)]["new_window"]))
            prepare_cache(db, pd.Timestamp(info[str(rows)]["new_window"]))
    for _ in range(0 if args.pages_only else args.repeats):
        for rows in sizes:
            for label, code in codes.items():
                db, start = stores[str(rows)], pd.Timestamp(info[str(rows)]["new_window"])
                forget_new(db, start)
                restore_cache(db)
                match_calculation(db, code)
                res = monitor_child(db, code)
                assert res["computed"] == 1, f"expected one pending window, computed {res['computed']}"
                runs[(label, rows)].append(res)
                print(
                    f"  monitor {rows:>11,} ({label:6}): {res['seconds']:6.2f}s in refresh "
                    f"({res['process_s']:.1f}s process), peak RSS {res['peak_rss_mb']:,.0f} MB"
                )
    for rows in [] if args.pages_only else sizes:
        info[str(rows)]["pieces"] = p = pieces_child(stores[str(rows)], pd.Timestamp(info[str(rows)]["new_window"]))
        print(f"  store reads at {rows:,}: " + ", ".join(f"{k} {v:.2f}s" for k, v in p.items() if isinstance(v, float)))
    lo, hi = sizes
    if not args.pages_only:
        print()
        print(f"one new {args.window_rows:,}-row window, median of {args.repeats} runs:")
    for label in [] if args.pages_only else codes:
        t_lo = statistics.median(r["seconds"] for r in runs[(label, lo)])
        t_hi = statistics.median(r["seconds"] for r in runs[(label, hi)])
        rss_lo = max(r["peak_rss_mb"] for r in runs[(label, lo)])
        rss_hi = max(r["peak_rss_mb"] for r in runs[(label, hi)])
        ratio = t_hi / t_lo
        print(
            f"  code {label}: {lo:,} stored {t_lo:.2f}s (peak {rss_lo:,.0f} MB), "
            f"{hi:,} stored {t_hi:.2f}s (peak {rss_hi:,.0f} MB)"
        )
        print(f"    ratio {hi:,} / {lo:,}: {ratio:.2f}x (target <= 1.3x): {'holds' if ratio <= 1.3 else 'MISSED'}")
        verdict = "holds" if rss_hi <= 1.2 * 1024 else "MISSED"
        print(f"    peak RSS at {hi:,}: {rss_hi:,.0f} MB (target <= 1,229 MB = 1.2 GB): {verdict}")

    if not args.skip_pages:
        os.environ["MODELPULSE_SCHEDULER"] = "off"  # no background monitoring while the pages are timed
        for db in (stores["small"], stores[str(lo)], stores[str(hi)]):
            match_calculation(db, REPO)
        pages = {
            "Overview": lambda db: time_overview(db, db.parent / "models"),
            "Model health": lambda db: time_page(db, "screens/health.py", "results"),
            "Business KPIs": lambda db: time_page(db, "screens/kpis.py", "kpis"),
        }
        print()
        for name, timer in pages.items():
            # the small store's windows are too small for most checks, so it holds far fewer results than the
            # large ones; the lower large size, whose results equal the higher's, is the peer for stored rows alone
            times: dict[str, list[float]] = {"small": [], str(lo): [], str(hi): []}
            for _ in range(args.reruns):
                for label in times:
                    times[label].append(timer(stores[label]))
            small, mid, large = (statistics.median(times[k]) for k in ("small", str(lo), str(hi)))
            verdict = "holds" if large / small <= 1.5 else "MISSED"
            print(
                f"  {name:14} {args.small:,}: {small:.3f}s ({', '.join(f'{t:.2f}' for t in times['small'])})  "
                f"{hi:,}: {large:.3f}s ({', '.join(f'{t:.2f}' for t in times[str(hi)])})  "
                f"{large / small:.2f}x (target <= 1.5x): {verdict}; against {lo:,} ({mid:.3f}s, the same "
                f"results): {large / mid:.2f}x"
            )
    if args.keep is None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
