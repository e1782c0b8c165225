"""Drift pushed down into DuckDB on one big window, against the bare histogram query and against Evidently.

Run from the repository root (about 4 minutes on 2 cores at the default size):

    .venv/bin/python bench/drift_pushdown.py                 # 1,000,000 rows x 20 inputs per side
    .venv/bin/python bench/drift_pushdown.py --rows 300000   # smaller
    .venv/bin/python bench/drift_pushdown.py --keep-store /tmp/p.duckdb   # keep the built store; --store reuses it

Last, the runner's whole check of the window (`monitor_version`: every check, stored) is timed twice,
with the window's drift counted in the store and with the switch raised so drift goes through Evidently.

The window and its reference are `bench/monitoring.py` part a's: real flights rows resampled with
replacement (reference Jan-Apr, window May-Dec squeezed into one week), 15 numeric and 5 categorical
inputs, answers from a small real model, every outcome known, all in a temporary DuckDB store.

- "Our drift check" is what the runner does for a window above `PUSHDOWN_ROWS`: `counted_window` (one
  statement: counts, sums and extents per group and counts per value, labels joined) and then
  `drift_checks` + `target_drift_check` from those counts (76 results' worth of scores and charts).
  The version's reference side (`VersionContext.binned`) is prepared once per version and timed apart.
- The peer is the bare DuckDB histogram computation on the same window through the same connection:
  one statement that joins the window once and counts rows per bin (the same 1,000 cells) of every
  number column and per value of every category, with nothing else.
  Target: our drift check <= 2x the peer, medians of 5 alternating runs.
- Evidently is the adapter's `drift_scores` on all rows of both sides (no sample; the same methods):
  verdicts must agree on all 20 inputs and every score be within 0.01.
- Peak RSS is sampled every 50 ms during our drift check; the window is never read into pandas
  before the check. For comparison the same check through Evidently on the window's rows (today's path,
  which samples 200,000 rows per side) is timed with its read, and so is Evidently's own report of the
  window ("Open this window in Evidently": `core.monitoring.evidently_window.window_report`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.stdout.reconfigure(line_buffering=True)

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from bench.common import busy_warning  # noqa: E402
from bench.monitoring import BENCH_SPEC  # noqa: E402
from bench.monitoring import WEEK0  # noqa: E402
from bench.monitoring import PeakRSS  # noqa: E402
from bench.monitoring import as_rows  # noqa: E402
from bench.monitoring import load_bench_flights  # noqa: E402
from bench.monitoring import register  # noqa: E402
from bench.monitoring import rss_mb  # noqa: E402
from bench.monitoring import train_small  # noqa: E402
from bench.monitoring import write_chunked  # noqa: E402
from core.store import quote_ident  # noqa: E402
from core.store import rows_table_name  # noqa: E402

RUNS = 5


def build(path: Path, n: int) -> None:
    """The store of bench/monitoring.py part a: n reference and n production rows with answers and labels."""
    from core.store import Store

    spec = BENCH_SPEC
    t0 = time.perf_counter()
    frame, split = load_bench_flights()
    model = train_small(spec, frame, split)
    lab = frame[frame[spec.target].notna()]
    s = split.loc[lab.index].to_numpy()
    rng = np.random.default_rng(0)
    ref_src, cur_src = lab[s != "production"], lab[s == "production"]
    ref = ref_src.iloc[rng.integers(0, len(ref_src), n)]
    cur = cur_src.iloc[rng.integers(0, len(cur_src), n)]
    dep = cur["departs_at"]
    frac = ((dep - dep.min()) / (dep.max() - dep.min())).to_numpy()
    cur_ts = WEEK0 + pd.to_timedelta(frac * (7 * 86400 - 1), unit="s")
    ids = np.arange(n).astype(str)
    ref_rows = as_rows(
        spec, ref, split=split.loc[ref.index].to_numpy(), ts=ref["departs_at"], ids=np.char.add("R", ids)
    )
    production = np.full(n, "production", dtype=object)
    cur_rows = as_rows(spec, cur, split=production, ts=cur_ts, ids=np.char.add("P", ids))
    with Store.open(path, create=True) as store:
        register(store, spec, model)
        write_chunked(store, spec, ref_rows, model, kind="reference")
        write_chunked(store, spec, cur_rows, model, kind="predictions")
    print(f"  built the store ({2 * n:,} rows, answers, labels) in {time.perf_counter() - t0:.1f}s")


def bare_sql(spec, ctx, window) -> tuple[str, list]:
    """The peer: the window joined once (labels too), rows per cell of each number column and per value of each
    category and outcome."""
    binned = ctx.binned
    cols = [b.column for b in binned.numbers if b.column != "_label"] + [c for c in binned.values if c != "_label"]
    table = quote_ident(rows_table_name(spec.name))
    select = ", ".join("p.probability AS _probability" if c == "_probability" else f"r.{quote_ident(c)}" for c in cols)
    parts, params = [], [spec.name, 1, spec.name, window.start, window.end, window.start, window.end]
    for b in binned.numbers:
        q = quote_ident(b.column)
        parts.append(f"SELECT {len(parts)} AS c, floor(({q} - ?) / ? * ?) AS k, NULL AS v, count(*) FROM w GROUP BY k")  # noqa: S608
        params += [b.lo, b.bin_width, b.per_bin]
    for c in binned.values:
        q = quote_ident(c)
        parts.append(f"SELECT {len(parts)}, NULL, {q}, count(*) FROM w GROUP BY {q}")  # noqa: S608
    parts.append(f"SELECT {len(parts)}, NULL, _label, count(*) FROM w WHERE _label IS NOT NULL GROUP BY _label")  # noqa: S608
    sql = f"""WITH w AS MATERIALIZED (SELECT {select}, l.label AS _label FROM {table} r
                JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
                LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                WHERE r._split = 'production' AND r._ts >= ? AND r._ts < ? AND p.ts >= ? AND p.ts < ?)
              {" UNION ALL ".join(parts)}"""  # noqa: S608 - quoted identifiers, parameters
    return sql, params


def native_sql(spec, ctx, window) -> tuple[str, list]:
    """For context: DuckDB's own `histogram(x, boundaries)` aggregate over the same cells, one pass."""
    sql, params = bare_sql(spec, ctx, window)
    cte = sql[: sql.index("SELECT 0 AS c")]  # the same window, joined once
    aggs, extra = [], []
    for b in ctx.binned.numbers:
        if b.column == "_label":
            continue
        step = b.bin_width / b.per_bin
        aggs.append(f"histogram({quote_ident(b.column)}, ?::DOUBLE[])")
        extra.append([b.lo + i * step for i in range(b.above + 1)])
    aggs += [f"histogram({quote_ident(c)})" for c in ctx.binned.values if c != "_label"] + ["histogram(_label)"]
    return f"{cte} SELECT {', '.join(aggs)} FROM w", params[:7] + extra  # noqa: S608 - quoted identifiers


def measure(path: Path) -> dict:
    from core.monitoring.drift import drift_checks
    from core.monitoring.drift import drift_requests
    from core.monitoring.drift import target_drift_check
    from core.monitoring.evidently_adapter import drift_scores
    from core.monitoring.evidently_window import window_report
    from core.monitoring.runner import counted_window
    from core.monitoring.runner import version_context
    from core.monitoring.thresholds import Thresholds
    from core.monitoring.validity import usable
    from core.monitoring.windows import make_window
    from core.results import Status
    from core.store import Store

    spec, th, out = BENCH_SPEC, Thresholds(), {}
    with Store.open(path, read_only=True) as store:
        window = make_window(store.window_fingerprints(spec=spec)["window_start"].iloc[0], spec.window)
        t0 = time.perf_counter()
        ctx = version_context(store, spec, store.live_version(spec.name), th)
        out["context_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert ctx.binned.numbers
        out["binned_reference_s"] = time.perf_counter() - t0
        print(f"  version context {out['context_s']:.1f}s; count-based reference side {out['binned_reference_s']:.1f}s")

        def ours() -> list:
            counted = counted_window(store, ctx, window)
            kw = dict(spec=spec, reference=ctx.drift, thresholds=th, counted=counted)
            empty = pd.DataFrame()
            checks = drift_checks(features=ctx.features, current=empty, **kw)
            return [*checks, target_drift_check(labelled=empty, **kw)]

        sql, params = bare_sql(spec, ctx, window)
        native, native_params = native_sql(spec, ctx, window)
        ours_s, bare_s, native_s = [], [], []
        out["rss_before_mb"] = rss_mb()
        for i in range(RUNS):
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                checks = ours()
                ours_s.append(time.perf_counter() - t0)
            out["rss_peak_mb"] = max(out.get("rss_peak_mb", 0.0), mem.peak)
            t0 = time.perf_counter()
            bare_rows = len(store.query_df(sql, params))
            bare_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            store.query_df(native, native_params)
            native_s.append(time.perf_counter() - t0)
            print(
                f"  run {i + 1}: our drift check {ours_s[-1]:.2f}s, bare histogram query {bare_s[-1]:.2f}s, "
                f"DuckDB's histogram() {native_s[-1]:.2f}s"
            )
        out["ours_s"], out["bare_s"] = statistics.median(ours_s), statistics.median(bare_s)
        out["ours_runs"], out["bare_runs"], out["bare_groups"] = ours_s, bare_s, bare_rows
        out["ratio"] = out["ours_s"] / out["bare_s"]
        out["native_s"] = statistics.median(native_s)
        out["pair_ratio"] = statistics.median(o / b for o, b in zip(ours_s, bare_s, strict=True))
        scores = {c.column: c for c in checks if c.check in ("drift", "prediction_drift")}
        # today's path on the same window: read it, then Evidently on a 200k sample per side
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            frame = store.read_window(spec=spec, version=1, start=window.start, end=window.end)
            out["read_window_s"] = time.perf_counter() - t0
            frame, _ = usable(spec, frame, ctx.numeric)
            frame = frame.sort_values("_row_id", kind="stable", ignore_index=True)
            t0 = time.perf_counter()
            drift_checks(spec=spec, features=ctx.features, reference=ctx.drift, current=frame, thresholds=th)
            out["evidently_path_s"] = time.perf_counter() - t0
        out["evidently_path_rss_mb"] = (mem.start, mem.peak)
        print(
            f"  today's path: read {out['read_window_s']:.1f}s + sampled Evidently drift {out['evidently_path_s']:.1f}s"
        )
        # Evidently on every row of both sides, the same methods
        t0 = time.perf_counter()
        requests = drift_requests(spec, ctx.features, th)
        full = drift_scores(reference=ctx.reference, current=frame, requests=requests, sample_cap=10**9)
        out["evidently_full_s"] = time.perf_counter() - t0
        # "Open this window in Evidently" on this window: Evidently's own report, each side sampled to 200k rows
        del frame
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            html = window_report(store, model=spec.name, version=1, start=window.start)
            out["report_s"] = time.perf_counter() - t0
        out["report_mb"], out["report_rss_mb"] = len(html) / 1e6, (mem.start, mem.peak)
    table = []
    for s in full:
        c = scores[s.column]
        table.append(
            {
                "column": s.column,
                "method": s.method,
                "evidently": s.score,
                "ours": c.value,
                "ev_drift": s.drifted,
                "our_drift": c.status != Status.OK,
            }
        )
    out["table"] = table
    features = [r for r in table if r["column"] != "_probability"]
    out["agree"] = sum(r["ev_drift"] == r["our_drift"] for r in features)
    out["inputs"] = len(features)
    out["max_diff"] = max(abs(r["ours"] - r["evidently"]) for r in table)
    out["rows"] = int(checks[0].n_rows)
    return out


def whole_window(path: Path) -> dict:
    """The runner's whole check of the window (every check, stored), drift counted vs drift through Evidently."""
    from core.monitoring.evidently_adapter import EVIDENTLY_CLOCK
    from core.monitoring.runner import monitor_version
    from core.monitoring.thresholds import Thresholds
    from core.store import Store

    spec, out = BENCH_SPEC, {}
    with Store.open(path) as store:
        for name, switch in (("counted", None), ("evidently", 10**12)):
            store.clear_monitoring(model=spec.name)
            fingerprints = store.window_fingerprints(spec=spec)
            kw = {} if switch is None else {"pushdown_rows": switch}
            clock = EVIDENTLY_CLOCK.seconds
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                info = store.live_version(spec.name)
                monitor_version(store, spec, info, fingerprints, thresholds=Thresholds(), progress=lambda _: None, **kw)
                out[f"{name}_s"] = time.perf_counter() - t0
            out[f"{name}_in_evidently_s"] = EVIDENTLY_CLOCK.seconds - clock
            out[f"{name}_rss_mb"] = (mem.start, mem.peak)
            print(f"  the runner's whole check, drift {name}: {out[f'{name}_s']:.1f}s")
    return out


def report(out: dict) -> None:
    print(f"\n  {'column':15} {'method':14} {'Evidently':>10} {'ours':>10} {'|diff|':>9}  drift (Ev / ours)")
    for r in out["table"]:
        print(
            f"  {r['column']:15} {r['method']:14} {r['evidently']:>10.5f} {r['ours']:>10.5f} "
            f"{abs(r['ours'] - r['evidently']):>9.2e}  {r['ev_drift']!s:>5} / {r['our_drift']!s:<5}"
        )

    def line(label: str, value: str, target: str = "") -> None:
        print(f"  {label:58} {value:>12}  {target}")

    def verdict(ok: bool) -> str:
        return "holds" if ok else "MISSED"

    print()
    line("measure", "value", "target")
    line("window rows", f"{out['rows']:,}")
    line(f"our drift check, median of {RUNS} (s)", f"{out['ours_s']:.2f}")
    line(f"bare DuckDB histogram query, median of {RUNS} (s)", f"{out['bare_s']:.2f}")
    line("ratio ours / bare (of the medians)", f"{out['ratio']:.2f}", f"<= 2 {verdict(out['ratio'] <= 2.0)}")
    line("ratio ours / bare (median of the run pairs)", f"{out['pair_ratio']:.2f}")
    line(f"for context: DuckDB's own histogram() on the same cells, median of {RUNS} (s)", f"{out['native_s']:.2f}")
    agree = f"{out['agree']}/{out['inputs']}"
    line("drift verdicts equal to Evidently (all rows)", agree, f"all {verdict(out['agree'] == out['inputs'])}")
    diff = out["max_diff"]
    line("largest |score - Evidently| (20 inputs + answers)", f"{diff:.2e}", f"<= 0.01 {verdict(diff <= 0.01)}")
    line("RSS before -> peak during our drift check (MB)", f"{out['rss_before_mb']:.0f} -> {out['rss_peak_mb']:.0f}")
    line("once per version: count-based reference side (s)", f"{out['binned_reference_s']:.2f}")
    line("for comparison: read the window into pandas (s)", f"{out['read_window_s']:.2f}")
    before, peak = out["evidently_path_rss_mb"]
    line("for comparison: RSS before -> peak, read + sampled Evidently (MB)", f"{before:.0f} -> {peak:.0f}")
    line("for comparison: Evidently drift on a 200k sample (s)", f"{out['evidently_path_s']:.2f}")
    line("for comparison: Evidently drift on all rows (s)", f"{out['evidently_full_s']:.2f}")
    line("Evidently's own report of the window: build (s)", f"{out['report_s']:.1f}")
    line("Evidently's own report of the window: HTML (MB)", f"{out['report_mb']:.2f}")
    before, peak = out["report_rss_mb"]
    line("Evidently's own report of the window: RSS before -> peak (MB)", f"{before:.0f} -> {peak:.0f}")
    whole = out.get("whole")
    if whole:
        for name in ("counted", "evidently"):
            before, peak = whole[f"{name}_rss_mb"]
            line(
                f"runner's whole window check, drift {name} (s; RSS MB)",
                f"{whole[f'{name}_s']:.1f}; {before:.0f} -> {peak:.0f}",
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side")
    parser.add_argument("--store", type=Path, default=None, help="reuse a store built by --keep-store")
    parser.add_argument("--keep-store", type=Path, default=None, help="build the store here and keep it")
    parser.add_argument("--json", type=Path, default=None, help="write the measurements here as JSON")
    parser.add_argument("--whole", action="store_true", help="with --store: also time the runner (writes results)")
    args = parser.parse_args()
    busy_warning()
    torch.set_num_threads(2)
    print(f"ModelPulse bench/drift_pushdown.py  cores={os.cpu_count()}  rows per side={args.rows:,}")
    with tempfile.TemporaryDirectory(prefix="mp-bench-pushdown-") as tmp:
        path = args.store or args.keep_store or Path(tmp) / "pushdown.duckdb"
        if args.store is None:
            build(path, args.rows)
        out = measure(path)
        if args.store is None or args.whole:  # it writes results: only on a store this run may change
            out["whole"] = whole_window(path)
    report(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
