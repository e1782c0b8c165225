"""False alarms on same-distribution windows, and detection power on planted shifts (issue 15 part 4).

Run from the repository root:

    .venv/bin/python bench/false_alarms.py                       # defaults: 200 windows, sizes 1k..1M
    .venv/bin/python bench/false_alarms.py --part a --windows 50,40,35,30,20,15,10   # 200 in all, per size
    .venv/bin/python bench/false_alarms.py --windows 40 --max-size 100000 --reps 5   # a quick run

The model is the live flights version of a demo store (`--store`: a copy of it is opened read only;
without it the flights demo model is trained into a temporary directory first, about 1-2 minutes).
Its reference rows (`read_reference`: train + validation, with their real labels in
`_label` and the version's stored predictions) are the population: each window resamples them with
replacement, `_ts` spread over one week. The drift reference the checks compare with is the same rows
(`VersionContext.build`), so a window is a draw from the reference distribution itself.

(a) `--windows` windows at each size (log-spaced from 1,000 to `--max-size`; a comma list gives each size its
    own count, smallest size first), each computed with
    `compute_window` (the runner's code path, scope "full", no earlier estimate errors, calibration =
    validation only). Each window's checks become stored-result rows (`check_frame`, renamed the way
    `read_results` returns them) and every default alert rule judges them through `Replay.verdicts`,
    the code `evaluate_alerts` runs, one window at a time (no hysteresis carried between windows).
    Printed: the share of windows on which each rule would raise an alert, and any rule at all.
    Target: any rule <= 1% of windows.
(b) Planted shifts: one numeric input moved by k x its reference std, and one category's share raised
    by d (rows of other categories relabelled). `--reps` windows per (size, shift). Detected = our
    per-column drift check on that column is not ok (`drift`); also whether any alert rule fires.
    The peer: Evidently's `DataDriftPreset` defaults on the same windows against the same reference.
    Printed: the smallest shift detected in >= 80% of the windows at each size, ours next to Evidently's.
    Predictions are not rescored after a shift: this measures input drift detection only.

Nothing is downloaded; the store is never written. Exit status is 0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.stdout.reconfigure(line_buffering=True)

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.common import busy_warning  # noqa: E402
from bench.evidently_presets import default_presets  # noqa: E402
from core.alerts.evaluate import Replay  # noqa: E402
from core.alerts.evaluate import _measured_windows  # noqa: E402
from core.alerts.rule import default_rules  # noqa: E402
from core.monitoring.runner import version_context  # noqa: E402
from core.monitoring.thresholds import Thresholds  # noqa: E402
from core.monitoring.window import compute_window  # noqa: E402
from core.monitoring.windows import make_window  # noqa: E402
from core.results import Check  # noqa: E402
from core.results import Status  # noqa: E402
from core.store import Store  # noqa: E402
from core.store.mappers import check_frame  # noqa: E402

WEEK0 = pd.Timestamp("2014-01-06")  # a Monday
NUM_SHIFTS = (0.02, 0.05, 0.1, 0.2, 0.5)  # x reference std
CAT_SHIFTS = (0.01, 0.02, 0.05, 0.1, 0.2)  # added share of one category


def sizes_up_to(max_size: int) -> list[int]:
    out = [int(round(s, -2)) for s in np.logspace(3, 6, 7)]  # 1k, 3.2k, 10k, 31.6k, 100k, 316k, 1M
    return [s for s in out if s <= max_size]


class Bench:
    def __init__(
        self, store_path: Path, model: str, pool: str = "all", thresholds: Thresholds | None = None, store=None
    ) -> None:
        self.store = store or Store.open(store_path, read_only=True)
        self.spec = next(s for s in self.store.list_specs() if s.name == model)
        self.info = next(v for v in self.store.list_versions(model) if v.is_live)
        self.th = thresholds or Thresholds()
        self.ctx = version_context(self.store, self.spec, self.info, self.th)
        self.pool = self.ctx.reference.reset_index(drop=True)
        if pool == "validation":  # where the model is as good as its validation figures: performance's null
            self.pool = self.pool[self.pool["_split"] == "validation"].reset_index(drop=True)
        self.rules = [r for r in default_rules(self.spec, self.th) if r.key != "overfitting"]  # version-level
        self.calibration = pd.DataFrame(
            {"_probability": pd.Series(dtype="float64"), "_label": pd.Series(dtype="float64"), "_ts": []}
        )
        self.calibration["_ts"] = self.calibration["_ts"].astype("datetime64[us]")

    def window(self, n: int, i: int, rng: np.random.Generator) -> tuple[object, pd.DataFrame]:
        win = make_window(WEEK0 + pd.Timedelta(weeks=i), self.spec.window)
        frame = self.pool.iloc[rng.integers(0, len(self.pool), n)].reset_index(drop=True)
        secs = rng.integers(0, 7 * 86400, n)
        frame["_ts"] = (pd.Timestamp(win.start) + pd.to_timedelta(np.sort(secs), unit="s")).astype("datetime64[us]")
        frame["_split"] = "production"
        frame["_row_id"] = np.arange(n, dtype="int64")
        return win, frame

    def checks(self, win, frame: pd.DataFrame):
        return compute_window(
            self.ctx, win, frame, scope="full", fp="bench", history=[], calibration=self.calibration
        ).checks

    def alerts(self, win, checks) -> dict[str, bool]:
        return {k: v for k, (v, _) in self.judge(win, checks).items()}

    def judge(self, win, checks) -> dict[str, tuple[bool, float | None]]:
        """Per rule: fires on this window, and its (worst) measure there."""
        rows = check_frame(
            model=self.spec.name, version=self.info.version, scope="full", start=win.start, end=win.end, checks=checks
        ).rename(columns={"check_kind": "check", "column_name": "column"})
        volume = rows[(rows["check"] == str(Check.VOLUME)) & (rows["status"] == "ok")]
        replay = Replay(
            spec=self.spec,
            results=rows,
            stats_by_window={},
            enough={pd.Timestamp(w) for w in volume["window_start"]},
            measured=_measured_windows(rows, self.spec),
        )
        out = {}
        for r in self.rules:
            seen = replay.verdicts(r)
            measures = [r.measure_of(row) for _, row in seen.rows.iterrows()]
            measures = [m for m in measures if m is not None]
            out[r.key] = (any(v is True for _, v in seen.verdicts), max(measures) if measures else None)
        return out


def part_a(b: Bench, sizes: list[int], counts: list[int]) -> list:
    print(f"\n(a) false alarms: {counts} same-distribution windows per size, pool = {len(b.pool):,} reference rows")
    keys = [r.key for r in b.rules]
    out = []
    total = alerted = 0
    for n, windows in zip(sizes, counts, strict=True):
        rng = np.random.default_rng(1000 + n)
        fired = {k: 0 for k in keys}
        worst: dict[str, list[float]] = {k: [] for k in keys}
        anyf = 0
        started = time.perf_counter()
        for i in range(windows):
            win, frame = b.window(n, i, rng)
            judged = b.judge(win, b.checks(win, frame))
            verdict = {k: v for k, (v, _) in judged.items()}
            for k, (v, m) in judged.items():
                fired[k] += v
                if m is not None:
                    worst[k].append(m)
            anyf += any(verdict.values())
        secs = (time.perf_counter() - started) / windows
        total, alerted = total + windows, alerted + anyf
        shares = {k: fired[k] / windows for k in keys}
        out.append((n, shares, anyf / windows, secs, worst))
        firing = ", ".join(f"{k} {v:.1%}" for k, v in shares.items() if v > 0) or "none"
        print(
            f"  n={n:>9,}: any alert {anyf / windows:6.1%} ({anyf}/{windows})  by rule: {firing}  [{secs:.2f} s/window]"
        )
    print("\n  rule                      " + "".join(f"{n:>10,}" for n, *_ in out))
    for k in keys:
        print(f"  {k:<26}" + "".join(f"{s[k]:>10.1%}" for _, s, *_ in out))
    print(f"  {'ANY (target <= 1%)':<26}" + "".join(f"{a:>10.1%}" for _, _, a, *_ in out))
    print(f"  over every size: {alerted} of {total} windows raised an alert ({alerted / total:.1%})")
    print("\n  99th percentile of each rule's measure over the windows / its line (1.00 = at the line)")
    print("  rule                      " + "".join(f"{n:>10,}" for n, *_ in out))
    lines = {r.key: r.threshold for r in b.rules}
    for k in keys:
        cells = []
        for *_, worst in out:
            ms = worst[k]
            cells.append(f"{np.percentile(ms, 99) / lines[k]:>10.2f}" if ms and lines[k] else f"{'-':>10}")
        print(f"  {k:<26}" + "".join(cells))
    return out


def plant_numeric(frame: pd.DataFrame, col: str, k: float, std: float) -> pd.DataFrame:
    return frame.assign(**{col: frame[col] + k * std})


def plant_category(frame: pd.DataFrame, col: str, value: str, d: float, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.copy()
    others = np.flatnonzero((out[col] != value).to_numpy())
    take = rng.choice(others, size=min(len(others), int(round(d * len(out)))), replace=False)
    out.loc[take, col] = value
    return out


def part_b(b: Bench, sizes: list[int], reps: int, num_col: str, cat_col: str) -> None:
    spec, ref = b.spec, b.pool
    std = float(ref[num_col].std())
    top = str(ref[cat_col].value_counts().index[0])
    share = float((ref[cat_col] == top).mean())
    print(
        f"\n(b) power: {reps} windows per (size, shift); {num_col} + k x std ({std:.3g}); "
        f"{cat_col}={top!r} share {share:.1%} + d"
    )
    feats = [c for c in spec.numerical if c in b.ctx.features]
    cats = [c for c in spec.categorical if c in b.ctx.features]
    cases = [("num", k) for k in NUM_SHIFTS] + [("cat", d) for d in CAT_SHIFTS]
    table: dict[tuple[str, int], dict[str, float | None]] = {}
    for n in sizes:
        rng = np.random.default_rng(7 + n)
        started = time.perf_counter()
        rate: dict[tuple[str, float], tuple[float, float, float]] = {}
        for kind, k in cases:
            col = num_col if kind == "num" else cat_col
            ours = alert = evid = 0
            for i in range(reps):
                win, frame = b.window(n, i, rng)
                frame = plant_numeric(frame, col, k, std) if kind == "num" else plant_category(frame, col, top, k, rng)
                checks = b.checks(win, frame)
                drift = [c for c in checks if c.check == Check.DRIFT and c.column == col]
                ours += bool(drift) and drift[0].status != Status.OK
                alert += any(b.alerts(win, checks).values())
                ev = default_presets(
                    reference=ref, current=frame, numerical=feats, categorical=cats, task="drift only"
                )["drift"]
                evid += bool(ev.get(col, {}).get("drifted"))
            rate[(kind, k)] = (ours / reps, alert / reps, evid / reps)
        for kind in ("num", "cat"):
            steps = NUM_SHIFTS if kind == "num" else CAT_SHIFTS
            smallest = {
                who: next((k for k in steps if rate[(kind, k)][j] >= 0.8), None)
                for j, who in enumerate(("ours", "alert", "evidently"))
            }
            table[(kind, n)] = smallest
            detail = "  ".join(
                f"{k:g}: {rate[(kind, k)][0]:.0%}/{rate[(kind, k)][1]:.0%}/{rate[(kind, k)][2]:.0%}" for k in steps
            )
            print(f"  n={n:>9,} {kind}: detected ours/any-alert/evidently by shift: {detail}")
        print(f"  n={n:>9,}: {(time.perf_counter() - started):.0f} s")
    print("\n  smallest shift detected in >= 80% of windows (- = none of the steps)")
    head = f"{'ours':>10} {'any alert':>10} {'evidently':>10}"
    print(f"  {'size':>9}  num: {head}   cat: {head}")

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    for n in sizes:
        a, c = table[("num", n)], table[("cat", n)]
        print(
            f"  {n:>9,}       {f(a['ours']):>10} {f(a['alert']):>10} {f(a['evidently']):>10}        "
            f"{f(c['ours']):>10} {f(c['alert']):>10} {f(c['evidently']):>10}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, default=None, help="a seeded demo store (default: train flights afresh)")
    ap.add_argument("--model", default="flights")
    ap.add_argument("--windows", default="200", help="same-distribution windows per size, or a comma list (part a)")
    ap.add_argument("--max-size", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=20, help="windows per (size, shift) in part b")
    ap.add_argument("--power-max-size", type=int, default=None, help="largest size in part b (default --max-size)")
    ap.add_argument("--part", choices=("a", "b", "both"), default="both")
    ap.add_argument(
        "--pool",
        choices=("all", "validation"),
        default="all",
        help="draw windows from every reference row, or from the validation rows only (the null of the "
        "performance rules, whose line is the validation value)",
    )
    ap.add_argument("--sizes", default=None, help="comma list of window sizes, both parts (default: 1k to --max-size)")
    ap.add_argument(
        "--chance-peer",
        action="store_true",
        help="part a again as two peers: numbers and quality untested (drift_chance_rows, performance_chance_rows 0) "
        "and no chance test at all (drift_chance, performance_chance 1.1: no p reaches them)",
    )
    ap.add_argument("--num-col", default="distance")
    ap.add_argument("--cat-col", default="carrier")
    args = ap.parse_args()
    busy_warning()
    with tempfile.TemporaryDirectory() as tmp:  # read a copy: the original may be open elsewhere
        copy = Path(tmp) / "store.duckdb"
        if args.store is None:
            from bench.common import scratch_settings
            from core.demo.seed import seed_demo

            seed_demo(settings=scratch_settings(copy), names=[args.model], monitor=False, progress=lambda s: None)
        else:
            shutil.copy(args.store, copy)
        b = Bench(copy, args.model, args.pool)
        print(
            f"model {b.spec.name} v{b.info.version} ({b.spec.task}, window {b.spec.window}, min_rows "
            f"{b.spec.min_rows}); rules: {', '.join(r.key for r in b.rules)}"
        )
        sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else sizes_up_to(args.max_size)
        if args.part in ("a", "both"):
            counts = [int(x) for x in args.windows.split(",")]
            counts = counts * len(sizes) if len(counts) == 1 else counts
            part_a(b, sizes, counts)
            peers = {
                "numbers and quality untested (drift_chance_rows 0, performance_chance_rows 0)": Thresholds(
                    drift_chance_rows=0, performance_chance_rows=0
                ),
                "no chance test at all (drift_chance and performance_chance 1.1: the lines alone)": Thresholds(
                    drift_chance=1.1, performance_chance=1.1
                ),
            }
            for name, th in peers.items() if args.chance_peer else ():
                print(f"\nPEER: the same windows, {name}")
                part_a(Bench(copy, args.model, args.pool, thresholds=th, store=b.store), sizes, counts)
        if args.part in ("b", "both"):
            power_sizes = sizes if args.sizes else sizes_up_to(args.power_max_size or args.max_size)
            part_b(b, power_sizes, args.reps, args.num_col, args.cat_col)


if __name__ == "__main__":
    main()
