"""Overview rerun time with 1M stored predictions against the same with 10k (target: at most 1.5x).

Two stores are built from real flights rows (bench/monitoring.py's `build_big`), each monitored over
the same 40 weekly windows; the only difference is how many predictions they hold. The Overview page
then runs under Streamlit's AppTest, with every cache cleared before each rerun so the number measures
the page's real reads (aggregates), not a cache hit. Both stores are timed in the same run,
interleaved, and the median of several reruns is compared.

    .venv/bin/python bench/pages.py [--small 10000] [--large 1000000] [--reruns 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")


def build(path: Path, rows: int, min_rows: int | None = None) -> float:
    """Build and monitor a `flights_big` store of `rows` predictions over 40 weeks (see `build_big`); seconds."""
    from bench.monitoring import build_big
    from core.refresh import refresh
    from core.store import Store

    t0 = time.perf_counter()
    build_big(path, rows, n_windows=40, min_rows=min_rows)
    with Store.open(path) as store:
        refresh(store=store, progress=lambda _: None)
    return time.perf_counter() - t0


def time_overview(db: Path, models_dir: Path) -> float:
    """Seconds for one cold rerun of the Overview (caches cleared first)."""
    import streamlit.logger
    from streamlit.testing.v1 import AppTest

    os.environ["MODELPULSE_DB"] = str(db)
    os.environ["MODELPULSE_MODELS_DIR"] = str(models_dir)
    os.environ["MODELPULSE_INBOX_POLL"] = "0"
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.run()  # first run: imports and opens the store
    assert not at.exception, at.exception
    streamlit.logger.set_log_level("error")  # clearing caches from outside a script warns on every rerun
    import ui.data  # the module the page just imported (AppTest runs the script in this process)

    elapsed = timed_rerun(at, ui.data, "health")
    assert at.metric, "the overview did not render its numbers"
    return elapsed


def timed_rerun(at, module, name: str) -> float:  # noqa: ANN001 - an AppTest and the module it reads through
    """Seconds for one rerun of `at` with every cache cleared, proving with a counter on `module.name`
    that the rerun read the store instead of hitting the cache; the app's stores are closed after."""
    import streamlit as st

    calls = {"n": 0}
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    setattr(module, name, counted)
    try:
        st.cache_data.clear()
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
    finally:
        setattr(module, name, original)
    assert not at.exception, at.exception
    assert calls["n"] > 0, "the timed rerun was served from the cache"
    from ui.state import close_stores

    close_stores()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--reruns", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mp-bench-pages-") as tmp:
        root = Path(tmp)
        stores = {}
        for label, rows in (("small", args.small), ("large", args.large)):
            db = root / label / "modelpulse.duckdb"
            db.parent.mkdir()
            secs = build(db, rows)
            stores[label] = db
            print(f"built {label}: {rows:,} predictions + monitoring in {secs:.0f}s", flush=True)
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(args.reruns):
            for label, db in stores.items():
                times[label].append(time_overview(db, db.parent / "models"))
        small, large = statistics.median(times["small"]), statistics.median(times["large"])
        ratio = large / small
        print()
        print(f"{'store':<8} {'predictions':>12} {'median rerun (s)':>17} {'all reruns (s)':>40}")
        for label, rows in (("small", args.small), ("large", args.large)):
            runs = ", ".join(f"{t:.2f}" for t in times[label])
            print(f"{label:<8} {rows:>12,} {statistics.median(times[label]):>17.3f} {runs:>40}")
        verdict = "holds" if ratio <= 1.5 else "MISSED"
        sizes = f"{args.large:,} vs {args.small:,} predictions"
        print(f"\nOverview rerun, {sizes}: {ratio:.2f}x (target <= 1.5x): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
