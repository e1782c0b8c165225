"""Business analysis page rerun with 10M stored predictions against the same with 10k (target: at most 1.5x).

Two stores are built from real flights rows (bench/monitoring.py's `build_big` via bench/pages.py's
`build`), each monitored over the same 40 weekly windows, so each holds the same per-group statistics;
the only difference is how many predictions (and rows) they hold. The Business analysis page then runs
under Streamlit's AppTest with every cache cleared before each rerun, so the number measures the page's
real reads (stored group statistics), not a cache hit; a counter proves the store was read. Both
stores are timed in the same run, interleaved, and the medians compared. Also printed: how much the
group statistics added to monitoring (a window's groups, timed on the large store's last window).

    .venv/bin/python bench/segments.py [--small 10000] [--large 10000000] [--reruns 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")


def time_analysis(db: Path, models_dir: Path) -> float:
    """Seconds for one cold rerun of the Business analysis page (caches cleared first)."""
    import streamlit.logger
    from streamlit.testing.v1 import AppTest

    os.environ["MODELPULSE_DB"] = str(db)
    os.environ["MODELPULSE_MODELS_DIR"] = str(models_dir)
    os.environ["MODELPULSE_INBOX_POLL"] = "0"
    os.environ["MODELPULSE_SCHEDULER"] = "off"
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("screens/analysis.py").run()
    assert not at.exception, at.exception
    streamlit.logger.set_log_level("error")
    import ui.data
    from bench.pages import timed_rerun

    elapsed = timed_rerun(at, ui.data, "segment_table")
    assert at.dataframe, "the analysis page did not render its groups"
    return elapsed


def group_cost(db: Path) -> tuple[float, float, int]:
    """(seconds for the last window's group statistics, seconds for its whole check, rows in it)."""
    from core.monitoring.runner import calibration_rows
    from core.monitoring.runner import version_context
    from core.monitoring.segments import segment_stats
    from core.monitoring.thresholds import Thresholds
    from core.monitoring.window import compute_window
    from core.monitoring.window import needs_calibration
    from core.monitoring.windows import make_window
    from core.store import Store

    with Store.open(db, read_only=True) as store:
        spec = store.list_specs()[0]
        info = store.live_version(spec.name)
        ctx = version_context(store, spec, info, Thresholds())
        fps = store.window_fingerprints(spec=spec)
        window = make_window(fps["window_start"].max(), spec.window)
        frame = store.read_window(spec=spec, version=info.version, start=window.start, end=window.end)
        t0 = time.perf_counter()
        segment_stats(spec, ctx.segments, frame, threshold=ctx.threshold)
        groups = time.perf_counter() - t0
        t0 = time.perf_counter()
        calibration = (
            calibration_rows(store, ctx, window) if needs_calibration(ctx, scope="full", n_rows=len(frame)) else None
        )
        compute_window(ctx, window, frame, scope="full", fp="bench", history=[], calibration=calibration)
        whole = time.perf_counter() - t0
    return groups, whole, len(frame)


def main() -> int:
    from bench.pages import build

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--reruns", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="build the stores here and reuse them next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mp-bench-segments-") as tmp:
        root = args.keep or Path(tmp)
        stores = {}
        for label, rows in (("small", args.small), ("large", args.large)):
            db = root / f"{label}-{rows}" / "modelpulse.duckdb"
            if not (db.parent / "built").exists():
                shutil.rmtree(db.parent, ignore_errors=True)
                db.parent.mkdir(parents=True)
                secs = build(db, rows)
                (db.parent / "built").write_text(f"{secs:.0f}")
            stores[label] = db
            print(
                f"{label}: {rows:,} predictions + monitoring built in {(db.parent / 'built').read_text()}s", flush=True
            )
        groups, whole, n = group_cost(stores["large"])
        print(f"group statistics of one {n:,}-row window: {groups:.2f}s of its {whole:.2f}s check", flush=True)
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(args.reruns):
            for label, db in stores.items():
                times[label].append(time_analysis(db, db.parent / "models"))
        small, large = statistics.median(times["small"]), statistics.median(times["large"])
        ratio = large / small
        print()
        print(f"{'store':<8} {'predictions':>12} {'median rerun (s)':>17} {'all reruns (s)':>40}")
        for label, rows in (("small", args.small), ("large", args.large)):
            runs = ", ".join(f"{t:.2f}" for t in times[label])
            print(f"{label:<8} {rows:>12,} {statistics.median(times[label]):>17.3f} {runs:>40}")
        verdict = "holds" if ratio <= 1.5 else "MISSED"
        print(
            f"\nBusiness analysis rerun, {args.large:,} vs {args.small:,} predictions: {ratio:.2f}x "
            f"(target <= 1.5x): {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
