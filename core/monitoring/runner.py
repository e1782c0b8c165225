"""The monitoring run: find windows that are new or whose labels changed, compute them, store them.

Incremental by fingerprint: each window's row count, label count, label sum and latest label time.
A second run right after the first computes nothing. The live version gets every check; the other
versions (shadow-scored on the same traffic) get performance and KPI statistics, which is what the
version comparison needs. This module reads and writes the store; the window computation itself
(`window.py`) sees only frames. Alerts follow in `core.refresh`, which is what callers run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from dataclasses import field

import pandas as pd

from core import faults
from core.config import Settings
from core.monitoring.bands import settle_bands
from core.monitoring.binned import PUSHDOWN_ROWS
from core.monitoring.binned import CountedWindow
from core.monitoring.context import VersionContext
from core.monitoring.evidently_adapter import SAMPLE_CAP
from core.monitoring.thresholds import Thresholds
from core.monitoring.window import compute_window
from core.monitoring.window import fingerprint
from core.monitoring.window import needs_calibration
from core.monitoring.windows import Window
from core.monitoring.windows import make_window
from core.progress import Progress
from core.results import Check
from core.results import WindowResult
from core.schema import ModelSpec
from core.store import Store
from core.store import VersionInfo


@dataclass
class RunSummary:
    """What one monitoring run (and the alert evaluation after it) did."""

    computed: dict[str, int] = field(default_factory=dict)
    up_to_date: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    alerts: dict[str, dict[str, int]] = field(default_factory=dict)
    owed: dict[str, int] = field(default_factory=dict)
    """Messages owed to channels per model (sent by the delivery loop)."""
    caught_up: dict[str, dict[int, int]] = field(default_factory=dict)
    """Rows scored late per model and version (a version's file was missing, or a kill stopped a scoring)."""
    purged: dict[str, tuple[int, int]] = field(default_factory=dict)
    """(rows, outcomes) deleted by retention per model, before monitoring."""

    @property
    def total_computed(self) -> int:
        return sum(self.computed.values())


def _estimate_history(store: Store, model: str, version: int) -> dict[pd.Timestamp, dict[str, float]]:
    """Past estimate errors of a version (window -> metric -> estimate minus realised)."""
    frame = store.read_results(model=model, version=version, check=str(Check.ESTIMATED_PERFORMANCE), with_details=True)
    out: dict[pd.Timestamp, dict[str, float]] = {}
    for row in frame.itertuples():
        details = json.loads(row.details) if isinstance(row.details, str) else {}
        if details.get("error") is not None:
            out.setdefault(pd.Timestamp(row.window_start), {})[row.metric] = float(details["error"])
    return out


def version_context(store: Store, spec: ModelSpec, info: VersionInfo, thresholds: Thresholds) -> VersionContext:
    """Read a version's reference rows and prepare everything that stays fixed across its windows."""
    reference = store.read_reference(spec=spec, reference_set=info.reference_set, version=info.version)
    return VersionContext.build(spec, info, reference, thresholds)


def calibration_rows(store: Store, ctx: VersionContext, window: Window) -> pd.DataFrame:
    """The outcomes known before `window` began that recalibrate its label-free estimate (from the windows'
    samples: :func:`sample_calibration` keeps them up to date)."""
    assert ctx.estimator is not None, "only binary versions are estimated"
    start, end = ctx.estimator.calibration_period(window)
    return store.read_calibration(
        spec=ctx.spec,
        version=ctx.info.version,
        start=start,
        end=end,
        known_by=window.start,
        max_rows=ctx.thresholds.estimate_calibration_rows,
    )


def sample_calibration(store: Store, ctx: VersionContext, fingerprints: pd.DataFrame, progress: Progress) -> int:
    """Make the calibration sample of every window of an estimated version whose rows or outcomes changed since
    its sample was made (or that has none yet: a store upgraded, a version just promoted). Runs before any
    window is computed, so every window, in this process or on a worker, reads its period's samples up to date.
    Returns how many windows were sampled."""
    if ctx.estimator is None:
        return 0
    per_window = ctx.thresholds.sample_rows_per_window
    marks = store.calibration_marks(model=ctx.spec.name, version=ctx.info.version)
    stale = []
    for _, row in fingerprints.iterrows():
        start = pd.Timestamp(row["window_start"])
        mark = fingerprint(row, f"sample{per_window}")
        if marks.get(start) != mark and (int(row["n_labels"]) or start in marks):
            stale.append((start, mark))
    for k, (start, mark) in enumerate(stale, start=1):
        window = make_window(start, ctx.spec.window)
        store.sample_window(
            spec=ctx.spec, version=ctx.info.version, start=window.start, end=window.end, mark=mark, rows=per_window
        )
        if k == len(stale) or k % 10 == 0:
            name = f"{ctx.spec.name} v{ctx.info.version}"
            progress(f"  {name}: outcomes sampled for calibration in {k}/{len(stale)} windows")
    return len(stale)


def counted_window(store: Store, ctx: VersionContext, window: Window) -> CountedWindow:
    """A window's per-column counts made in the store, for drift that never needs its rows."""
    binned = ctx.binned
    counts = store.window_histograms(
        spec=ctx.spec,
        version=ctx.info.version,
        start=window.start,
        end=window.end,
        numbers=binned.numbers,
        values=binned.values,
        labels=True,
    )
    return CountedWindow(reference=binned, counts=counts)


def _pending(
    store: Store, spec: ModelSpec, info: VersionInfo, fingerprints: pd.DataFrame
) -> tuple[str, pd.DataFrame, list[tuple[pd.Series, str]], list]:
    """(scope, fingerprints in scope, windows to compute with their fingerprints, computed windows now empty)."""
    scope = "full" if info.is_live else "performance"
    done = store.computed_windows(model=spec.name, version=info.version, scope=scope)
    frozen = store.retention.frozen_before(spec.name)
    if frozen is not None:  # windows whose rows retention deleted keep their results as computed
        fingerprints = fingerprints[pd.to_datetime(fingerprints["window_start"]) >= pd.Timestamp(frozen)]
        done = {w: fp for w, fp in done.items() if pd.Timestamp(w) >= pd.Timestamp(frozen)}
    present = {pd.Timestamp(w) for w in fingerprints["window_start"]}
    gone = [w for w in done if w not in present]
    todo = [(row, fingerprint(row, scope)) for _, row in fingerprints.iterrows()]
    todo = [(row, fp) for row, fp in todo if done.get(pd.Timestamp(row["window_start"])) != fp]
    return scope, fingerprints, todo, gone


def windows_behind(store: Store, spec: ModelSpec) -> int:
    """How many (version, window) results are missing or stale: work a kill or a failure left pending, which
    the next monitoring run does. Reads fingerprints and computed windows only, never rows."""
    fingerprints = store.window_fingerprints(spec=spec)
    total = 0
    for info in store.list_versions(spec.name):
        _, _, todo, gone = _pending(store, spec, info, fingerprints)
        total += len(todo) + len(gone)
    return total


def compute_one(
    store: Store,
    ctx: VersionContext,
    *,
    scope: str,
    start: object,
    n_rows: int,
    fp: str,
    errors: dict[pd.Timestamp, dict[str, float]],
    pushdown_rows: int = PUSHDOWN_ROWS,
) -> WindowResult:
    """Compute one window of a version from the store and save it; `errors` (the version's past estimate errors
    by window) gains this window's. The sequential run and every fanned-out worker go through here."""
    window = make_window(start, ctx.spec.window)
    big = scope == "full" and n_rows > pushdown_rows
    counted = counted_window(store, ctx, window) if big else None
    # the other checks still read the window's rows (bench/RESULTS.md, session 6)
    frame = store.read_window(spec=ctx.spec, version=ctx.info.version, start=window.start, end=window.end)
    if counted is None and len(frame) > SAMPLE_CAP:  # drift samples: a fixed row order keeps it repeatable
        frame = frame.sort_values("_row_id", kind="stable", ignore_index=True)
    history = [errors[w] for w in sorted(errors) if w < pd.Timestamp(window.start)]
    calibration = None
    if needs_calibration(ctx, scope=scope, n_rows=len(frame)):
        calibration = calibration_rows(store, ctx, window)
    result = compute_window(
        ctx, window, frame, scope=scope, fp=fp, history=history, calibration=calibration, counted=counted
    )
    store.save_window(result=result, scope=scope)
    faults.point("window.saved")
    for c in result.checks:
        if c.check == Check.ESTIMATED_PERFORMANCE and c.details.get("error") is not None:
            errors.setdefault(pd.Timestamp(window.start), {})[c.metric] = c.details["error"]
    return result


def settle_estimates(store: Store, spec: ModelSpec, version: int, thresholds: Thresholds) -> int:
    """Give every stored estimate of a version the band it has once all earlier windows are known (windows
    computed out of order, by several workers, saw only some of them). Returns how many rows changed."""
    if spec.task != "binary":
        return 0
    frame = store.read_results(
        model=spec.name, version=version, check=str(Check.ESTIMATED_PERFORMANCE), with_details=True
    )
    changes = settle_bands(frame, thresholds)
    if len(changes):
        store.revise_estimates(model=spec.name, version=version, changes=changes)
    return len(changes)


def monitor_version(
    store: Store,
    spec: ModelSpec,
    info: VersionInfo,
    fingerprints: pd.DataFrame,
    *,
    thresholds: Thresholds,
    progress: Progress,
    pushdown_rows: int = PUSHDOWN_ROWS,
) -> tuple[int, int]:
    """Compute every window of one version that is new or changed. Returns (computed, up to date).

    The live version's windows of more than `pushdown_rows` rows get their drift from counts made in the
    store (:func:`counted_window`); the others through Evidently on their rows.
    """
    scope, fingerprints, todo, gone = _pending(store, spec, info, fingerprints)
    if gone:  # every row of these windows was taken back: what was computed on them goes too
        store.forget_windows(
            model=spec.name, version=info.version, starts=[pd.Timestamp(w).to_pydatetime() for w in gone]
        )
    if not todo:
        return 0, len(fingerprints)
    ctx = version_context(store, spec, info, thresholds)
    if scope == "full":
        store.save_version_checks(model=spec.name, version=info.version, checks=ctx.version_checks())
    store.save_segment_reference(model=spec.name, version=info.version, segments=ctx.segment_reference)
    errors = {}
    if spec.task == "binary" and scope == "full":
        sample_calibration(store, ctx, fingerprints, progress)
        errors = _estimate_history(store, spec.name, info.version)
    for k, (row, fp) in enumerate(sorted(todo, key=lambda t: t[0]["window_start"]), start=1):
        compute_one(
            store,
            ctx,
            scope=scope,
            start=row["window_start"],
            n_rows=int(row["n_rows"]),
            fp=fp,
            errors=errors,
            pushdown_rows=pushdown_rows,
        )
        if k == len(todo) or k % 10 == 0:
            progress(f"  {spec.name} v{info.version} ({scope}): {k}/{len(todo)} windows computed")
    return len(todo), len(fingerprints) - len(todo)


def run_monitoring(
    *,
    store: Store,
    settings: Settings | None = None,
    models: list[str] | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress = print,
    pushdown_rows: int = PUSHDOWN_ROWS,
) -> RunSummary:
    """Bring monitoring results up to date for every model (or the ones named); alerts are `core.refresh`'s.

    Windows above `pushdown_rows` rows get their drift from counts made in the store (see monitor_version)."""
    thresholds = thresholds or Thresholds()
    summary = RunSummary()
    started = time.perf_counter()
    specs = [s for s in store.list_specs() if models is None or s.name in models]
    for spec in specs:
        fingerprints = store.window_fingerprints(spec=spec)
        versions = sorted(store.list_versions(spec.name), key=lambda v: not v.is_live)
        computed = up_to_date = 0
        for info in versions:
            c, u = monitor_version(
                store, spec, info, fingerprints, thresholds=thresholds, progress=progress, pushdown_rows=pushdown_rows
            )
            computed += c
            up_to_date += u
        summary.computed[spec.name] = computed
        summary.up_to_date[spec.name] = up_to_date
    summary.seconds = time.perf_counter() - started
    return summary
