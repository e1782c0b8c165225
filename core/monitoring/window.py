"""One window of one version: every check on its rows, computed from frames alone (no store access)."""

from __future__ import annotations

import time

import pandas as pd

from core.metrics import PRIMARY
from core.monitoring.binned import CountedWindow
from core.monitoring.context import VersionContext
from core.monitoring.drift import drift_checks
from core.monitoring.drift import target_drift_check
from core.monitoring.performance import gap_check
from core.monitoring.performance import performance_checks
from core.monitoring.quality import quality_checks
from core.monitoring.segments import segment_checks
from core.monitoring.segments import segment_stats
from core.monitoring.stats import window_stats
from core.monitoring.validity import usable
from core.monitoring.windows import Window
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.results import WindowResult

CALCULATION = "g4"
"""What a window's computation stores; a new one makes every stored window stale once, so a store upgraded
from older code gets the new results everywhere (g1: per-group statistics and the segment check; g2: the
chance test of category drift and the blended estimate; g3: the chance test of numbers and of the answers;
g4: the chance test of quality)."""


def fingerprint(row: pd.Series, scope: str) -> str:
    """Changes whenever rows or labels of the window change, or what a window computes does."""
    last = "" if pd.isna(row["last_label"]) else pd.Timestamp(row["last_label"]).isoformat()
    return f"{CALCULATION}|{scope}|{int(row['n_rows'])}|{int(row['n_labels'])}|{float(row['label_sum']):.6f}|{last}"


def needs_calibration(ctx: VersionContext, *, scope: str, n_rows: int) -> bool:
    """True when a window gets a label-free estimate, which needs the outcomes known before it began."""
    return ctx.estimator is not None and scope == "full" and n_rows >= ctx.spec.min_rows


def compute_window(
    ctx: VersionContext,
    window: Window,
    frame: pd.DataFrame,
    *,
    scope: str,
    fp: str,
    history: list[dict[str, float]],
    calibration: pd.DataFrame | None = None,
    counted: CountedWindow | None = None,
) -> WindowResult:
    """All checks of one window for one version, from its rows alone.

    `history` holds the version's past estimate errors (oldest first) and `calibration` the outcomes
    that had arrived before the window (see :func:`needs_calibration`); the caller reads both. A big
    window comes with `counted`, its counts from the store, and its drift checks use those instead of rows.
    """
    started = time.perf_counter()
    spec, th = ctx.spec, ctx.thresholds
    frame, unusable = usable(spec, frame, ctx.numeric)
    n = len(frame)
    n_labels = int(frame["_label"].notna().sum())
    enough = n >= spec.min_rows
    checks: list[CheckResult] = [
        CheckResult(
            check=Check.VOLUME,
            metric="rows",
            value=float(n),
            threshold=float(spec.min_rows),
            n_rows=n,
            status=Status.OK if enough else Status.NOT_ENOUGH_DATA,
            message=f"{n:,} predictions, {n_labels:,} outcomes arrived."
            if enough
            else f"Only {n:,} predictions (at least {spec.min_rows:,} are needed to judge this window).",
        )
    ]
    stats = window_stats(spec, frame, threshold=ctx.threshold)
    by_day = frame.groupby(frame["_ts"].dt.floor("D"))
    daily = tuple((day.to_pydatetime(), window_stats(spec, part, threshold=ctx.threshold)) for day, part in by_day)
    segments = segment_stats(spec, ctx.segments, frame, threshold=ctx.threshold)
    if unusable is not None and scope == "full":
        checks.append(unusable)
    if enough:
        if scope == "full":
            checks += quality_checks(spec=spec, current=frame, profile=ctx.profile, thresholds=th)
            checks += drift_checks(
                spec=spec,
                features=ctx.features,
                reference=ctx.drift,
                current=frame,
                thresholds=th,
                seed=int(pd.Timestamp(window.start).timestamp()) % 10_000,
                counted=counted,
            )
            checks += segment_checks(
                spec=spec,
                plans=ctx.segments,
                current=frame,
                reference=ctx.segment_rows,
                current_stats=segments,
                reference_stats={(c, g): s for c, g, s in ctx.segment_reference},
                thresholds=th,
                threshold=ctx.threshold,
            )
        labelled = frame[frame["_label"].notna()]
        perf = performance_checks(spec=spec, frame=frame, reference_metrics=ctx.reference_metrics, thresholds=th)
        checks += perf
        realised = {c.metric: c.value for c in perf if c.status != Status.NO_LABELS and c.value is not None}
        if scope == "full" and len(labelled) >= th.min_labels:
            checks.append(
                target_drift_check(spec=spec, reference=ctx.drift, labelled=labelled, thresholds=th, counted=counted)
            )
        primary = PRIMARY[spec.task]
        if primary in realised and primary in ctx.reference_metrics:
            checks.append(
                gap_check(
                    metric=primary,
                    better=ctx.reference_metrics[primary],
                    worse=realised[primary],
                    thresholds=th,
                    kind="validation_production",
                    n_rows=len(labelled),
                    luck=any(c.metric == primary and c.details.get("chance") for c in perf),
                )
            )
        if needs_calibration(ctx, scope=scope, n_rows=n):
            assert ctx.estimator is not None and calibration is not None, "the caller reads the calibration rows"
            checks += ctx.estimator.checks(window, frame, realised=realised, history=history, recent=calibration)
    return WindowResult(
        model=spec.name,
        version=ctx.info.version,
        start=window.start,
        end=window.end,
        n_rows=n,
        n_labels=n_labels,
        fingerprint=fp,
        checks=tuple(checks),
        daily=daily,
        stats=stats,
        segments=segments,
        seconds=time.perf_counter() - started,
    )
