"""Scale-out on existing engines (issue 16): the same store on a DuckDB file and on DuckLake, measured side by side.

Every figure is a ratio against a peer measured in the same run, on a PostgreSQL 15 catalog started here on
loopback (tests/pg_server.py) with the lake's Parquet files on the local disk:

- ingest: rows per second with 1, 2 and 4 writers. A DuckDB file has one writing process, so its writers are
  threads of one process sharing one store (what the app does); a lake's writers are separate processes.
  Each writer stores `--batches` batches of `--batch-rows` rows with their predictions through
  `Store.write_batch` (the store's own path; no model scoring), started at the same instant;
- files: a lake after `--commits` small commits (a busy service sending small batches): data files and
  bytes, one scan of `predictions` before and after `Store.compact`, and what compaction recovers;
- monitor: monitoring every window of a store with `--rows` stored predictions (real flights rows multiplied
  in SQL as bench/scale.py builds them) on the file (one process) and on DuckLake in one process and with 1
  and 2 Dask workers (`core.refresh.refresh(workers=N)`), all windows pending each time.

    .venv/bin/python bench/scaleout.py [--part ingest|files|monitor|all] [--rows 10000000] [--keep DIR]

Figures and their reading are in bench/RESULTS.md (session 8).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.stdout.reconfigure(line_buffering=True)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.common import busy_warning  # noqa: E402
from core.config import Settings  # noqa: E402
from core.demo.datasets import CHURN  # noqa: E402
from core.predictions import Predictions  # noqa: E402
from core.store import Store  # noqa: E402
from core.store import stored_rows  # noqa: E402

SPEC = CHURN.spec


def frame_of(n: int, writer: int, batch: int) -> pd.DataFrame:
    """`n` rows in the churn layout with random values, ids unique to (writer, batch)."""
    rng = np.random.default_rng(writer * 1000 + batch)
    features = pd.DataFrame({c: rng.normal(size=n) for c in SPEC.numerical})
    for c in SPEC.categorical:
        features[c] = rng.choice(["a", "b", "c", "d"], size=n)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 365, n), unit="s")
    ids = [f"w{writer}b{batch}r{i}" for i in range(n)]
    return stored_rows(features, ts=ts, entity_ids=ids, split="production", reference_set="r")


def prepared(store: Store) -> None:
    if store.get_spec(SPEC.name, missing_ok=True) is None:
        store.upsert_model(SPEC)
        store.add_version(
            model=SPEC.name,
            version=1,
            weights_path=None,
            weights_sha256=None,
            reference_set="r",
            metadata={},
            live=True,
        )


def write(store: Store, writer: int, batches: int, rows: int) -> None:
    for b in range(batches):
        frame = frame_of(rows, writer, b)
        score = np.random.default_rng(b).random(rows)
        store.write_batch(
            spec=SPEC,
            rows=frame,
            predictions={1: Predictions(prediction=(score > 0.5).astype(float), probability=score)},
            batch_id=f"w{writer}-b{b}",
        )


def writer_process(args: argparse.Namespace) -> int:
    """One lake writer (a child process): wait for the common start, write, print when it finished."""
    cfg = Settings.shared_under(args.store, args.data)
    frames_ready = time.time()
    with Store.at(cfg) as store:
        while time.time() < args.start:
            time.sleep(0.005)
        write(store, args.writer, args.batches, args.batch_rows)
    print(json.dumps({"end": time.time(), "ready": frames_ready}))
    return 0


def ingest(root: Path, server, batches: int, rows: int) -> list[dict]:
    from tests.lakes import create_database
    from tests.lakes import lake_url

    out = []
    for writers in (1, 2, 4):
        # the file: one process, `writers` threads sharing the store
        db = root / f"file{writers}" / "modelpulse.duckdb"
        with Store.at(Settings.under(db), create=True) as store:
            prepared(store)
            threads = [threading.Thread(target=write, args=(store, w, batches, rows)) for w in range(writers)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - t0
            n = store.counts()["predictions"]
        out.append({"backend": "file", "writers": writers, "rows": n, "seconds": seconds})
        print(f"  file     {writers} writer thread(s):  {n:>9,} rows in {seconds:6.2f}s = {n / seconds:>9,.0f} rows/s")
        # the lake: `writers` processes
        name = f"ingest{writers}"
        create_database(server, name)
        cfg = Settings.shared_under(lake_url(server, name), root / name)
        with Store.at(cfg, create=True) as store:
            prepared(store)
        start = time.time() + 12  # every writer has imported and connected by then
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--writer",
                    str(w),
                    "--store",
                    cfg.store,
                    "--data",
                    str(cfg.home),
                    "--start",
                    str(start),
                    "--batches",
                    str(batches),
                    "--batch-rows",
                    str(rows),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for w in range(writers)
        ]
        ends = []
        for p in procs:
            stdout, _ = p.communicate(timeout=3600)
            if p.returncode:
                raise SystemExit(f"a lake writer failed ({p.returncode})")
            info = json.loads(stdout.strip().splitlines()[-1])
            if info["ready"] > start:
                print("  WARNING: a writer was not ready at the common start; its late start counts in the time")
            ends.append(info["end"])
        seconds = max(ends) - start
        with Store.at(cfg, read_only=True) as store:
            n = store.counts()["predictions"]
            dupes = store.duplicate_keys()
        out.append({"backend": "ducklake", "writers": writers, "rows": n, "seconds": seconds, "dupes": dupes})
        print(
            f"  ducklake {writers} writer process(es): {n:>9,} rows in {seconds:6.2f}s = {n / seconds:>9,.0f} rows/s"
            + (f"  DUPLICATE KEYS {dupes}" if dupes else "")
        )
    return out


def small_files(root: Path, server, commits: int, rows: int) -> dict:
    from tests.lakes import create_database
    from tests.lakes import lake_url

    create_database(server, "files")
    cfg = Settings.shared_under(lake_url(server, "files"), root / "files")
    with Store.at(cfg, create=True) as store:
        prepared(store)
        t0 = time.perf_counter()
        write(store, 0, commits, rows)
        write_s = time.perf_counter() - t0

        def scan() -> float:
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                store.conn.fetch("SELECT count(*), avg(probability) FROM predictions")
                best = min(best, time.perf_counter() - t)
            return best

        before = scan()
        t0 = time.perf_counter()
        done = store.compact(keep_days=0)
        compact_s = time.perf_counter() - t0
        after = scan()
    on_disk = sum(1 for _ in cfg.db_path.rglob("*.parquet"))
    print(
        f"  {commits} commits of {rows} rows in {write_s:.1f}s: {done['files_before']:,} data files "
        f"({done['bytes_before'] / 1e6:.1f} MB); compaction {compact_s:.1f}s -> {done['files_after']:,} files "
        f"({done['bytes_after'] / 1e6:.1f} MB), {done['files_deleted']:,} deleted, {on_disk:,} left on disk"
    )
    print(f"  scan of predictions: {before * 1000:.0f} ms before, {after * 1000:.0f} ms after ({before / after:.1f}x)")
    return {
        "commits": commits,
        "write_s": write_s,
        "compact_s": compact_s,
        "scan_before": before,
        "scan_after": after,
        **done,
    }


def monitor(root: Path, server, n_rows: int) -> dict:
    from bench.pages import build
    from bench.scale import TEMPLATE_ROWS
    from bench.scale import make_store
    from core.progress import quiet
    from core.refresh import refresh
    from core.upkeep.migrate import migrate_store
    from tests.lakes import create_database
    from tests.lakes import lake_url

    template = root / "template" / "modelpulse.duckdb"
    if not (template.parent / "built").exists():
        shutil.rmtree(template.parent, ignore_errors=True)
        template.parent.mkdir(parents=True)
        (template.parent / "built").write_text(f"{build(template, TEMPLATE_ROWS):.0f}")
    db = root / f"n{n_rows}" / "modelpulse.duckdb"
    if not (db.parent / "built.json").exists():
        shutil.rmtree(db.parent, ignore_errors=True)
        made = make_store(template, db, n_rows, 250_000)
        if (template.parent / "models").is_dir():  # the bench's model is registered without weights files
            shutil.copytree(template.parent / "models", db.parent / "models")
        (db.parent / "built.json").write_text(json.dumps(made, default=str))
    file_cfg = Settings.under(db)
    create_database(server, "monitor")
    lake = Settings.shared_under(lake_url(server, "monitor"), root / "monitor-lake")
    t0 = time.perf_counter()
    migrate_store(file_cfg, to=lake.store, data=lake.home, progress=quiet)
    migrate_s = time.perf_counter() - t0
    with Store.at(file_cfg, read_only=True) as store:
        n_pred = store.counts()["predictions"]
    print(f"  {n_pred:,} stored predictions; copied into the lake in {migrate_s:.0f}s")
    runs = {}
    for label, cfg, workers in (
        ("file, 1 process", file_cfg, None),
        ("lake, 1 process", lake, None),
        ("lake, 1 worker", lake, 1),
        ("lake, 2 workers", lake, 2),
    ):
        with Store.at(cfg) as store:
            for spec in store.list_specs():
                store.clear_monitoring(model=spec.name)
            t0 = time.perf_counter()
            summary = refresh(store=store, settings=cfg, progress=quiet, workers=workers)
            seconds = time.perf_counter() - t0
        runs[label] = {"seconds": seconds, "windows": summary.total_computed}
        print(f"  {label:16}: {summary.total_computed} windows in {seconds:6.1f}s")
    return {"predictions": n_pred, "migrate_s": migrate_s, "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["ingest", "files", "monitor", "all"], default="all")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--commit-rows", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000_000, help="stored predictions for the monitoring part")
    parser.add_argument("--keep", type=Path, default=None, help="build the stores here and reuse them next time")
    parser.add_argument("--writer", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--store", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer is not None:
        return writer_process(args)
    from tests.pg_server import postgres_server

    busy_warning()
    tmp = tempfile.TemporaryDirectory(prefix="mp-scaleout-", dir="/tmp")
    root = args.keep or Path(tmp.name)
    root.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    with postgres_server(dbname="postgres", settings={"max_connections": "200"}) as server:
        if args.part in ("ingest", "all"):
            print(f"ingest: each writer stores {args.batches} batches of {args.batch_rows:,} rows")
            results["ingest"] = ingest(root / "ingest", server, args.batches, args.batch_rows)
        if args.part in ("files", "all"):
            print("small files and compaction:")
            results["files"] = small_files(root / "files", server, args.commits, args.commit_rows)
        if args.part in ("monitor", "all"):
            print(f"monitoring every window of {args.rows:,} stored predictions:")
            results["monitor"] = monitor(root / "monitor", server, args.rows)
    if "ingest" in results:
        base = next(r for r in results["ingest"] if r["backend"] == "file" and r["writers"] == 1)
        rate0 = base["rows"] / base["seconds"]
        print("\ningest rows/s, as a ratio to one writer on the file:")
        for r in results["ingest"]:
            print(f"  {r['backend']:8} x{r['writers']}: {r['rows'] / r['seconds'] / rate0:5.2f}x")
    if "monitor" in results:
        runs = results["monitor"]["runs"]
        base = runs["file, 1 process"]["seconds"]
        print("\nmonitoring wall time, as a ratio to the file in one process:")
        for label, r in runs.items():
            print(f"  {label:16}: {r['seconds'] / base:5.2f}x")
    out = root / "scaleout.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
