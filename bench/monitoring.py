"""Monitoring speed and memory against Evidently, on real flights rows.

Run from the repository root (each part stays under ~10 minutes on 2 cores):

    .venv/bin/python bench/monitoring.py            # all three parts
    .venv/bin/python bench/monitoring.py --part a   # 1M x 20 window: our full check vs Evidently's presets
    .venv/bin/python bench/monitoring.py --part b   # whole demo: our run vs bare Evidently drift compute
    .venv/bin/python bench/monitoring.py --part c --rows 10000000   # 10M stored predictions: s/window, peak RSS

(a) One window of 1,000,000 production rows x 20 features, resampled with replacement from real
    flights (May-Dec), against 1,000,000 reference rows resampled from Jan-Apr, scored by a small
    real model. "Our full check" = `monitor_version` + `evaluate_alerts` reading everything from a
    temporary DuckDB store (drift, quality, performance, estimate, storing, alerts). The peer is
    Evidently's `DataDriftPreset` + `ClassificationPreset` on the same frames already in memory.
    Target: ours / Evidently <= 0.2, and every per-column drift verdict the same.
(b) The whole demo seeded with monitor=False, then `run_monitoring` timed, against the bare
    Evidently drift reports (`drift_scores` with the runner's requests) re-run on the same windows
    held in memory, each reference prepared (`PreparedReference`) once as the runner does.
    Target: overhead (ours - bare) / bare <= 20%.
(c) A store holding N (default 10M) production rows of a flights-like model over 40 weekly
    windows; monitoring runs in a subprocess that only monitors, so its peak RSS excludes the build.
    Target: peak RSS under 2 GB.

Every store lives in a temporary directory. Nothing is downloaded. Exit status is 0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.stdout.reconfigure(line_buffering=True)  # progress shows up when redirected to a file

import warnings  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")  # Evidently's precision on empty classes

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from bench.common import busy_warning  # noqa: E402
from bench.common import scratch_settings  # noqa: E402
from core.demo.datasets import FLIGHTS  # noqa: E402
from core.demo.datasets import load_flights  # noqa: E402
from core.demo.datasets import split_flights  # noqa: E402
from core.intake.files import read_table  # noqa: E402
from core.schema import ArchConfig  # noqa: E402
from core.schema import ModelSpec  # noqa: E402

DATA = REPO / "data"
EXTRA_NUM = ("sched_dep_time", "sched_arr_time", "minute", "flight")
EXTRA_CAT = ("tailnum",)
BENCH_SPEC = FLIGHTS.spec.model_copy(
    update={
        "name": "flights_bench",
        "numerical": FLIGHTS.spec.numerical + EXTRA_NUM,
        "categorical": FLIGHTS.spec.categorical + EXTRA_CAT,
    }
)
BENCH_SPEC = ModelSpec.model_validate(BENCH_SPEC.model_dump())  # re-run the validators
SMALL_ARCH = ArchConfig(hidden=(64, 32), dropout=0.1, batch_size=2048, max_epochs=3, patience=2, note="bench model")
WEEK0 = pd.Timestamp("2014-01-06")  # a Monday: production windows start here


def noop(_: str) -> None:
    pass


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class PeakRSS:
    """Sample this process's RSS every 50 ms (ru_maxrss cannot be reset between phases)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = rss_mb()
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb())


# ---------------------------------------------------------------------------- data
def load_bench_flights() -> tuple[pd.DataFrame, pd.Series]:
    """`load_flights` plus five more columns known before departure, joined back on the flight id."""
    frame = load_flights(DATA)
    raw = read_table(
        DATA / "flights.parquet",
        columns=[
            "year",
            "month",
            "day",
            "carrier",
            "flight",
            "origin",
            "sched_dep_time",
            "sched_arr_time",
            "minute",
            "tailnum",
        ],
        tidy=False,
    )
    date = (raw["year"] * 10000 + raw["month"] * 100 + raw["day"]).astype(str)
    raw["flight_id"] = (
        raw["carrier"]
        + raw["flight"].astype(str)
        + "-"
        + raw["origin"]
        + "-"
        + date
        + "-"
        + raw["sched_dep_time"].astype(str).str.zfill(4)
    )
    raw = raw.drop_duplicates("flight_id")
    extra = raw[["flight_id", *EXTRA_NUM, *EXTRA_CAT]]
    frame = frame.merge(extra, on="flight_id", how="left", validate="many_to_one")
    return frame, split_flights(frame)


def train_small(spec: ModelSpec, frame: pd.DataFrame, split: pd.Series):
    from core.modeling.training import fit_model

    lab = frame[frame[spec.target].notna()]
    s = split.loc[lab.index]
    model, _ = fit_model(spec=spec, arch=SMALL_ARCH, train=lab[s == "train"], valid=lab[s == "validation"], seed=7)
    return model


def as_rows(spec: ModelSpec, src: pd.DataFrame, *, split: np.ndarray, ts: pd.Series, ids: np.ndarray) -> pd.DataFrame:
    """Store rows: features + _split/_set/_ts/_entity_id/_target (target only for reference rows)."""
    rows = src[list(spec.features)].reset_index(drop=True).copy()
    rows["_split"] = split
    rows["_set"] = np.where(split == "production", "production", "reference-1")
    rows["_ts"] = pd.to_datetime(np.asarray(ts)).astype("datetime64[us]")
    rows["_entity_id"] = ids
    y = src[spec.target].astype("string").map(spec.class_index()).astype("float64").to_numpy()
    rows["_target"] = np.where(split == "production", np.nan, y)
    rows["_y"] = y
    return rows


def labels_of(rows: pd.DataFrame, delay: pd.Timedelta = pd.Timedelta(days=1)) -> pd.DataFrame:
    return pd.DataFrame({"entity_id": rows["_entity_id"], "label": rows["_y"], "label_ts": rows["_ts"] + delay})


def register(store, spec: ModelSpec, model) -> None:
    store.upsert_model(spec)
    store.add_version(
        model=spec.name,
        version=1,
        weights_path=None,
        weights_sha256=None,
        reference_set="reference-1",
        metadata={"features": model.features, "threshold": 0.5},
        live=True,
        by="bench",
    )


def write_chunked(store, spec, rows: pd.DataFrame, model, *, kind: str, chunk: int = 250_000) -> None:
    for start in range(0, len(rows), chunk):
        part = rows.iloc[start : start + chunk]
        preds = {1: model.predict(part)}
        labels = labels_of(part) if kind == "predictions" else None
        store.write_batch(
            spec=spec, rows=part.drop(columns=["_y"]), predictions=preds, labels=labels, source="bench", kind=kind
        )


# ---------------------------------------------------------------------------- part a
def part_a(n: int) -> dict:
    from bench.evidently_presets import default_presets
    from core.alerts import evaluate_alerts
    from core.monitoring.drift import column_kind
    from core.monitoring.evidently_adapter import EVIDENTLY_CLOCK
    from core.monitoring.evidently_adapter import SAMPLE_CAP
    from core.monitoring.evidently_adapter import DriftRequest
    from core.monitoring.evidently_adapter import drift_scores
    from core.monitoring.evidently_adapter import is_drifted
    from core.monitoring.runner import monitor_version
    from core.monitoring.thresholds import Thresholds
    from core.store import Store

    spec = BENCH_SPEC
    print(f"\n== (a) one window of {n:,} rows x {len(spec.features)} features vs {n:,} reference rows")
    t0 = time.perf_counter()
    frame, split = load_bench_flights()
    model = train_small(spec, frame, split)
    lab = frame[frame[spec.target].notna()]
    s = split.loc[lab.index].to_numpy()
    rng = np.random.default_rng(0)
    ref_src = lab[s != "production"]
    cur_src = lab[s == "production"]
    ref = ref_src.iloc[rng.integers(0, len(ref_src), n)]
    cur = cur_src.iloc[rng.integers(0, len(cur_src), n)]
    # squeeze May-Dec departure times into one week, keeping their order
    dep = cur["departs_at"]
    frac = ((dep - dep.min()) / (dep.max() - dep.min())).to_numpy()
    cur_ts = WEEK0 + pd.to_timedelta(frac * (7 * 86400 - 1), unit="s")
    ref_rows = as_rows(
        spec,
        ref,
        split=split.loc[ref.index].to_numpy(),
        ts=ref["departs_at"],
        ids=np.char.add("R", np.arange(n).astype(str)),
    )
    cur_rows = as_rows(
        spec,
        cur,
        split=np.full(n, "production", dtype=object),
        ts=cur_ts,
        ids=np.char.add("P", np.arange(n).astype(str)),
    )
    print(f"  prepared frames and a {model.metadata['epochs']}-epoch model in {time.perf_counter() - t0:.1f}s")
    out: dict = {"rows": n, "features": len(spec.features)}
    tmpdir = tempfile.TemporaryDirectory(prefix="mp-bench-a-")
    path_holder = {"db": Path(tmpdir.name) / "a.duckdb"}
    if True:  # the store stays on disk until the end of this part (the profile reopens it)
        with Store.open(path_holder["db"], create=True) as store:
            t0 = time.perf_counter()
            register(store, spec, model)
            write_chunked(store, spec, ref_rows, model, kind="reference")
            write_chunked(store, spec, cur_rows, model, kind="predictions")
            out["write_s"] = time.perf_counter() - t0
            print(f"  wrote {2 * n:,} rows (+ predictions, labels) into DuckDB in {out['write_s']:.1f}s")
            th = Thresholds()
            clock0 = EVIDENTLY_CLOCK.seconds
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                fps = store.window_fingerprints(spec=spec)
                info = store.live_version(spec.name)
                computed, _ = monitor_version(store, spec, info, fps, thresholds=th, progress=noop)
                alerts = evaluate_alerts(store=store, spec=spec, version=1, thresholds=th)
                out["ours_s"] = time.perf_counter() - t0
            out["ours_in_evidently_s"] = EVIDENTLY_CLOCK.seconds - clock0
            out["ours_peak_rss_mb"] = mem.peak
            out["ours_rss_start_mb"] = mem.start
            assert computed == 1 and len(fps) == 1, (computed, fps)
            drift = store.read_results(model=spec.name, version=1, check="drift")
            n_checks = len(store.read_results(model=spec.name, version=1))
            print(
                f"  our full check: {out['ours_s']:.1f}s ({n_checks} results stored, alerts {alerts}); "
                f"{out['ours_in_evidently_s']:.1f}s of it inside Evidently's Report.run"
            )
    # Evidently's defaults on the same frames, already in memory
    num, cat = list(spec.numerical), list(spec.categorical)

    def ev_frame(rows: pd.DataFrame) -> pd.DataFrame:
        p = model.predict(rows)
        f = rows[num].apply(pd.to_numeric, errors="coerce").astype("float64")
        for c in cat:
            f[c] = rows[c].astype("string").astype(object).where(rows[c].notna(), None)
        f["target"] = rows["_y"].astype(int)
        f["prediction"] = p.prediction.astype(int)
        f["probability"] = p.probability
        return f

    ref_ev, cur_ev = ev_frame(ref_rows), ev_frame(cur_rows)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        theirs = default_presets(
            reference=ref_ev,
            current=cur_ev,
            numerical=num,
            categorical=cat,
            task="binary",
            target="target",
            prediction="prediction",
            probability="probability",
        )
        out["evidently_s"] = time.perf_counter() - t0
    out["evidently_peak_rss_mb"] = mem.peak
    out["evidently_rss_start_mb"] = mem.start
    out["ratio"] = out["ours_s"] / out["evidently_s"]
    print(f"  Evidently DataDriftPreset + ClassificationPreset: {out['evidently_s']:.1f}s")
    # our drift without the 200k sample, to measure what sampling costs in accuracy
    reqs = [DriftRequest(c, column_kind(spec, c)) for c in spec.features]
    t0 = time.perf_counter()
    full = {s.column: s for s in drift_scores(reference=ref_rows, current=cur_rows, requests=reqs, sample_cap=10**9)}
    out["full_drift_s"] = time.perf_counter() - t0
    ours = {r.column: r for r in drift.itertuples()}
    table = []
    for c in spec.features:
        o, t, f = ours.get(c), theirs["drift"].get(c), full[c]
        o_drift = is_drifted(o.method, o.value, o.threshold) if o is not None and o.value == o.value else None
        table.append(
            {
                "column": c,
                "ours_method": o.method if o is not None else "-",
                "ours": o.value if o is not None else float("nan"),
                "ours_drift": o_drift,
                "full": f.score,
                "ev_method": t["method"] if t else "-",
                "ev": t["score"] if t else float("nan"),
                "ev_drift": t["drifted"] if t else None,
            }
        )
    for r in table:
        low = r["ev_method"].lower()
        r["ev_method"] = "wasserstein" if "wasserstein" in low else "jensenshannon" if "jensen" in low else low
    out["table"] = table
    out["agree"] = sum(r["ours_drift"] == r["ev_drift"] for r in table)
    same = [r for r in table if r["ours_method"] == r["ev_method"]]
    out["same_method"] = len(same)
    out["max_diff"] = max((abs(r["ours"] - r["ev"]) for r in same), default=float("nan"))
    out["max_sample_diff"] = max(abs(r["ours"] - r["full"]) for r in table)
    out["sample_cap"] = SAMPLE_CAP
    print()
    print(
        f"  {'column':15} {'our method':>12} {'ours':>8} {'ours full':>9} {'drift':>5} | {'Evidently':>14} "
        f"{'score':>8} {'drift':>5} | agree"
    )
    for r in table:
        print(
            f"  {r['column']:15} {r['ours_method']:>12} {r['ours']:>8.4f} {r['full']:>9.4f} "
            f"{str(r['ours_drift']):>5} | {r['ev_method']:>14} {r['ev']:>8.4f} {str(r['ev_drift']):>5} | "
            f"{'yes' if r['ours_drift'] == r['ev_drift'] else 'NO'}"
        )
    print(
        f"  ('ours' is measured on a {SAMPLE_CAP:,}-row sample per side, 'ours full' on all {n:,} rows; "
        f"that unsampled run took {out['full_drift_s']:.1f}s)"
    )
    print()
    print(f"  {'measure':52} {'value':>10}  target")
    print(f"  {'our full check (s)':52} {out['ours_s']:>10.1f}")
    print(f"  {'Evidently default presets (s)':52} {out['evidently_s']:>10.1f}")
    ok = out["ratio"] <= 0.2
    print(f"  {'ratio ours / Evidently':52} {out['ratio']:>10.3f}  <= 0.2 {'holds' if ok else 'MISSED'}")
    ok = out["agree"] == len(table)
    print(f"  {'drift verdicts that agree':52} {out['agree']:>7}/{len(table)}  all {'holds' if ok else 'MISSED'}")
    label = "largest |score diff| (same method, {} cols)".format(out["same_method"])
    print(f"  {label:52} {out['max_diff']:>10.4f}")
    print(f"  {'largest |200k sample - full data| score diff':52} {out['max_sample_diff']:>10.4f}")
    print(
        f"  {'RSS before -> peak during our check (MB)':52} {out['ours_rss_start_mb']:>5.0f} -> "
        f"{out['ours_peak_rss_mb']:.0f}"
    )
    print(
        f"  {'RSS before -> peak during Evidently presets (MB)':52} {out['evidently_rss_start_mb']:>5.0f} -> "
        f"{out['evidently_peak_rss_mb']:.0f}"
    )
    print("  (RSS 'before' already holds both 1M-row frames, the model and the bench's own copies)")
    if out["ratio"] > 0.2:
        out["profile"] = profile_check(path_holder["db"], spec)
    tmpdir.cleanup()
    return out


def profile_check(db: Path, spec: ModelSpec) -> dict:
    """cProfile our full check again (results cleared first) and list where its time goes."""
    from core.alerts import evaluate_alerts
    from core.monitoring.runner import monitor_version
    from core.monitoring.thresholds import Thresholds
    from core.store import Store

    prof = cProfile.Profile()
    with Store.open(db) as store:
        store.clear_monitoring(model=spec.name)
        th = Thresholds()
        prof.enable()
        fps = store.window_fingerprints(spec=spec)
        monitor_version(store, spec, store.live_version(spec.name), fps, thresholds=th, progress=noop)
        evaluate_alerts(store=store, spec=spec, version=1, thresholds=th)
        prof.disable()
    return print_profile(prof, "our full check on the 1M-row window")


# ---------------------------------------------------------------------------- part b
def _seeded_store(tmp: Path, seeded: Path | None):
    from core.demo.seed import seed_demo

    settings = scratch_settings(tmp / "demo.duckdb")
    if seeded is not None:
        shutil.copy2(seeded, settings.db_path)
        print(f"  reusing seeded (unmonitored) store {seeded}")
    else:
        t0 = time.perf_counter()
        seed_demo(settings=settings, monitor=False, progress=noop)
        print(f"  seeded the demo (monitor=False) in {time.perf_counter() - t0:.1f}s")
    return settings


def bare_inputs(store) -> list[tuple[str, str, pd.DataFrame, pd.DataFrame, list, int]]:
    """For every window the runner computed with Evidently: (model, reference key, reference, current,
    requests, seed). Jobs sharing a reference key share one reference, which the bare run prepares once,
    as the runner does."""
    from core.monitoring.drift import column_kind
    from core.monitoring.drift import prediction_column
    from core.monitoring.evidently_adapter import DriftRequest
    from core.monitoring.runner import version_context
    from core.monitoring.thresholds import Thresholds
    from core.monitoring.windows import make_window

    th = Thresholds()
    jobs = []
    for spec in store.list_specs():
        info = store.live_version(spec.name)
        ctx = version_context(store, spec, info, th)
        done = store.computed_windows(model=spec.name, version=info.version, scope="full")
        pred_col, pred_kind = prediction_column(spec)
        requests = [DriftRequest(c, column_kind(spec, c), threshold=th.drift) for c in ctx.features]
        requests.append(DriftRequest(pred_col, pred_kind, threshold=th.prediction_drift.warn))
        kind = "num" if spec.task == "regression" else "cat"
        ref_t = ctx.reference[["_label"]].dropna()
        if kind == "cat":
            names = {float(v): k for k, v in spec.class_index().items()}
            ref_t = ref_t.assign(_label=ref_t["_label"].map(names))
        for start in sorted(done):
            window = make_window(start, spec.window)
            frame = store.read_window(spec=spec, version=info.version, start=window.start, end=window.end)
            if len(frame) < spec.min_rows:
                continue
            seed = int(pd.Timestamp(window.start).timestamp()) % 10_000
            jobs.append((spec.name, f"{spec.name}/features", ctx.reference, frame, requests, seed))
            labelled = frame[frame["_label"].notna()]
            if len(labelled) >= th.min_labels:
                cur_t = labelled[["_label"]]
                if kind == "cat":
                    cur_t = cur_t.assign(_label=cur_t["_label"].map(names))
                target_req = [DriftRequest("_label", kind, threshold=th.target_drift.warn)]
                jobs.append((spec.name, f"{spec.name}/target", ref_t, cur_t, target_req, 0))
    return jobs


def part_b(seeded: Path | None) -> dict:
    from core.monitoring.evidently_adapter import EVIDENTLY_CLOCK
    from core.monitoring.evidently_adapter import PreparedReference
    from core.monitoring.evidently_adapter import drift_scores
    from core.refresh import refresh
    from core.store import Store

    print("\n== (b) whole demo: run_monitoring vs the bare Evidently drift reports on the same windows")
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="mp-bench-b-") as tmp:
        settings = _seeded_store(Path(tmp), seeded)
        spare = Path(tmp) / "spare.duckdb"
        shutil.copy2(settings.db_path, spare)  # an unmonitored copy for the profile
        with Store.open(settings.db_path) as store:
            clock0, runs0 = EVIDENTLY_CLOCK.seconds, EVIDENTLY_CLOCK.runs
            t0 = time.perf_counter()
            summary = refresh(store=store, settings=settings, progress=noop)
            out["ours_s"] = time.perf_counter() - t0
            out["report_run_s"] = EVIDENTLY_CLOCK.seconds - clock0
            out["report_runs"] = EVIDENTLY_CLOCK.runs - runs0
            out["computed"] = dict(summary.computed)
            jobs = bare_inputs(store)
        by_model: dict[str, float] = {}
        clock0 = EVIDENTLY_CLOCK.seconds
        t0 = time.perf_counter()
        prepared: dict[str, PreparedReference] = {}
        for name, key, ref, cur, reqs, seed in jobs:
            t1 = time.perf_counter()
            if key not in prepared:  # sampled and converted once per reference, timed with the bare run
                prepared[key] = PreparedReference(ref, reqs)
            drift_scores(reference=prepared[key], current=cur, requests=reqs, seed=seed)
            by_model[name] = by_model.get(name, 0.0) + time.perf_counter() - t1
        out["bare_s"] = time.perf_counter() - t0
        out["bare_report_run_s"] = EVIDENTLY_CLOCK.seconds - clock0
        out["bare_runs"] = len(jobs)
        out["bare_by_model"] = by_model
        out["overhead"] = (out["ours_s"] - out["bare_s"]) / out["bare_s"]
        out["overhead_clock"] = (out["ours_s"] - out["report_run_s"]) / out["report_run_s"]
        print(f"  windows computed per model (all versions): {out['computed']}")
        print()
        print(f"  {'measure':58} {'value':>9}  target")
        print(f"  {'our run_monitoring, whole demo (s)':58} {out['ours_s']:>9.1f}")
        print(
            f"  {'  of which inside Evidently Report.run (s, ' + str(out['report_runs']) + ' runs)':58} "
            f"{out['report_run_s']:>9.1f}"
        )
        print(f"  {f'bare Evidently drift_scores on the same windows (s, {len(jobs)} runs)':58} {out['bare_s']:>9.1f}")
        for name, secs in by_model.items():
            print(f"  {'  ' + name:58} {secs:>9.1f}")
        ok = out["overhead"] <= 0.2
        print(f"  {'overhead (ours - bare) / bare':58} {out['overhead']:>9.1%}  <= 20% {'holds' if ok else 'MISSED'}")
        print(f"  {'overhead (ours - Report.run) / Report.run':58} {out['overhead_clock']:>9.1%}")
        if not ok:
            out["profile"] = profile_run(spare, settings)
    return out


def profile_run(path: Path, settings) -> dict:
    """cProfile one monitoring run on an unmonitored copy; list the costs outside Evidently."""
    from core.refresh import refresh
    from core.store import Store

    prof = cProfile.Profile()
    with Store.open(path) as store:
        prof.enable()
        refresh(store=store, settings=settings, progress=noop)
        prof.disable()
    return print_profile(prof, "one run_monitoring of the whole demo")


def print_profile(prof: cProfile.Profile, title: str) -> dict:
    """Top costs outside Evidently (own time) and our core/ functions (cumulative time)."""
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())
    ev = sum(v[2] for k, v in st.stats.items() if "evidently" in k[0])

    def name(key: tuple) -> str:
        file, line, fn = key
        if "site-packages/" in file:
            file = file.split("site-packages/")[1]
        elif str(REPO) in file:
            file = file.replace(str(REPO) + "/", "")
        return f"{file}:{line}({fn})"

    own = sorted(((v[2], k) for k, v in st.stats.items() if "evidently" not in k[0]), reverse=True)[:10]
    ours = sorted(((v[3], k) for k, v in st.stats.items() if k[0].startswith(str(REPO / "core"))), reverse=True)
    print(f"\n  profile of {title} (cProfile: {total:.1f}s in all, {ev:.1f}s own time in evidently/ files)")
    print("  top 10 functions outside Evidently's files by own time (tottime):")
    for secs, key in own:
        print(f"    {secs:7.2f}s  {name(key)}")
    print("  our functions (core/) by cumulative time:")
    for secs, key in ours[:15]:
        print(f"    {secs:7.2f}s  {name(key)}")
    return {"own": [(s, name(k)) for s, k in own], "core": [(s, name(k)) for s, k in ours[:15]]}


# ---------------------------------------------------------------------------- part c
def build_big(path: Path, n_rows: int, n_windows: int = 40, chunk: int = 250_000, min_rows: int | None = None) -> dict:
    """A store of the flights model as `flights_big` with `n_rows` production rows over `n_windows` weeks;
    `min_rows` (the spec's own when None) is the fewest rows a window needs to be judged."""
    from core.store import Store

    spec = FLIGHTS.spec.model_copy(update={"name": "flights_big"})
    if min_rows is not None:
        spec = spec.model_copy(update={"min_rows": min_rows})
    frame, split = load_flights(DATA), None
    split = split_flights(frame)
    model = train_small(spec, frame, split)
    lab = frame[frame[spec.target].notna()]
    s = split.loc[lab.index].to_numpy()
    ref = lab[s != "production"]
    prod = lab[s == "production"]
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    with Store.open(path, create=True) as store:
        register(store, spec, model)
        ref_rows = as_rows(
            spec,
            ref,
            split=s[s != "production"],
            ts=ref["departs_at"],
            ids=np.char.add("R", np.arange(len(ref)).astype(str)),
        )
        write_chunked(store, spec, ref_rows, model, kind="reference")
        per_window = n_rows / n_windows
        written = 0
        k = 0
        while written < n_rows:
            m = min(chunk, n_rows - written)
            src = prod.iloc[rng.integers(0, len(prod), m)]
            first = written
            written += m
            # rows first..written-1 are spread evenly over the weekly windows
            pos = np.arange(first, written) / per_window
            week = np.floor(pos)
            offset = (pos - week) * (7 * 86400 - 1)
            ts = WEEK0 + pd.to_timedelta(week * 7 * 86400 + offset, unit="s")
            rows = as_rows(
                spec,
                src,
                split=np.full(m, "production", dtype=object),
                ts=ts,
                ids=np.char.add("P", np.arange(first, written).astype(str)),
            )
            write_chunked(store, spec, rows, model, kind="predictions", chunk=chunk)
            k += 1
            if k % 8 == 0:
                print(f"    {written:,} rows written ({time.perf_counter() - t0:.0f}s)", flush=True)
    return {"build_s": time.perf_counter() - t0, "reference_rows": len(ref), "size_mb": path.stat().st_size / 2**20}


def proc_status_mb(key: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def monitor_only(path: str) -> None:
    """Subprocess entry: open the store, run monitoring, print one JSON line (peak RSS of this process)."""
    from core.monitoring.evidently_adapter import EVIDENTLY_CLOCK
    from core.refresh import refresh
    from core.store import Store

    # VmHWM is the peak RSS of this process image; ru_maxrss would carry the parent's peak across fork/exec
    base = proc_status_mb("VmRSS")
    from core.config import load_settings

    with Store.open(path) as store:
        store.limit_memory(load_settings().monitor_memory)  # as `python -m core monitor` runs
        t0 = time.perf_counter()
        summary = refresh(store=store, progress=noop)
        secs = time.perf_counter() - t0
        windows = store.query_df("SELECT seconds FROM monitor_windows WHERE scope = 'full'")["seconds"]
    peak = proc_status_mb("VmHWM")
    print(
        json.dumps(
            {
                "seconds": secs,
                "computed": summary.total_computed,
                "peak_rss_mb": peak,
                "rss_after_imports_mb": base,
                "evidently_s": EVIDENTLY_CLOCK.seconds,
                "compute_window_mean_s": float(windows.mean()),
                "compute_window_max_s": float(windows.max()),
            }
        )
    )


def part_c(n_rows: int) -> dict:
    print(f"\n== (c) {n_rows:,} stored flight predictions over 40 weekly windows")
    with tempfile.TemporaryDirectory(prefix="mp-bench-c-") as tmp:
        path = Path(tmp) / "big.duckdb"
        out = build_big(path, n_rows)
        print(
            f"  built in {out['build_s']:.0f}s ({out['size_mb']:.0f} MB on disk, "
            f"{out['reference_rows']:,} reference rows)"
        )
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--monitor-only", str(path)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            out["error"] = proc.stderr[-3000:]
            return out
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        out.update(res, wall_s=wall, rows=n_rows)
    per = out["seconds"] / max(out["computed"], 1)
    out["per_window_s"] = per
    print()
    print(f"  {'measure':52} {'value':>10}  target")
    print(f"  {'production rows stored':52} {n_rows:>10,}")
    print(f"  {'build time: train + score + write (s)':52} {out['build_s']:>10.0f}")
    label = "monitoring run (s, {} windows)".format(out["computed"])
    print(f"  {label:52} {out['seconds']:>10.1f}")
    print(f"  {'seconds per window (whole run / windows)':52} {per:>10.2f}")
    print(
        f"  {'compute_window mean / max (s)':52} {out['compute_window_mean_s']:>5.2f} / "
        f"{out['compute_window_max_s']:.2f}"
    )
    print(f"  {'of the run inside Evidently Report.run (s)':52} {out['evidently_s']:>10.1f}")
    print(f"  {'RSS after imports, before monitoring (MB)':52} {out['rss_after_imports_mb']:>10.0f}")
    ok = out["peak_rss_mb"] < 2048
    print(
        f"  {'peak RSS of the monitoring process (MB)':52} {out['peak_rss_mb']:>10.0f}  < 2048 "
        f"{'holds' if ok else 'MISSED'}"
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["a", "b", "c", "all"], default="all")
    parser.add_argument("--rows", type=int, default=10_000_000, help="part c: production rows to store")
    parser.add_argument("--window-rows", type=int, default=1_000_000, help="part a: rows per side")
    parser.add_argument(
        "--seeded-store",
        type=Path,
        default=None,
        help="part b: copy this demo store (seeded with monitor=False) instead of seeding",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the measurements here as JSON")
    parser.add_argument("--monitor-only", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.monitor_only:
        monitor_only(args.monitor_only)
        return 0
    busy_warning()
    torch.set_num_threads(2)
    print(f"ModelPulse bench/monitoring.py  cores={os.cpu_count()}  torch threads={torch.get_num_threads()}")
    results = {}
    if args.part in ("a", "all"):
        results["a"] = part_a(args.window_rows)
    if args.part in ("b", "all"):
        results["b"] = part_b(args.seeded_store)
    if args.part in ("c", "all"):
        results["c"] = part_c(args.rows)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
