"""The monitoring run: find windows that are new or whose labels changed, compute them, store, alert.

Incremental by fingerprint: each window's row count, label count, label sum and latest label time.
A second run right after the first computes nothing. The live version gets every check; the other
versions (shadow-scored on the same traffic) get performance and KPI statistics, which is what the
version comparison needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd

from core.config import Settings
from core.evidently_adapter import SAMPLE_CAP
from core.metrics import PRIMARY
from core.metrics import task_metrics
from core.monitoring.drift import DriftReference
from core.monitoring.drift import drift_checks
from core.monitoring.drift import prepare_drift_reference
from core.monitoring.drift import target_drift_check
from core.monitoring.estimate import Calibrator
from core.monitoring.estimate import estimate_window
from core.monitoring.estimate import fit_calibrator
from core.monitoring.performance import gap_check
from core.monitoring.performance import labelled_arrays
from core.monitoring.performance import performance_checks
from core.monitoring.performance import relative_loss
from core.monitoring.quality import ColumnProfile
from core.monitoring.quality import profile_reference
from core.monitoring.quality import quality_checks
from core.monitoring.result import Check
from core.monitoring.result import CheckResult
from core.monitoring.result import Status
from core.monitoring.result import WindowResult
from core.monitoring.result import clean
from core.monitoring.stats import window_stats
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import Window
from core.monitoring.windows import make_window
from core.monitoring.windows import next_start
from core.schema import ModelSpec
from core.store import Store
from core.store import VersionInfo

Progress = Callable[[str], None]
ESTIMATED = ("accuracy", "f1", "roc_auc")
BAND_WINDOWS = 8


@dataclass
class RunSummary:
    """What one monitoring run did."""

    computed: dict[str, int] = field(default_factory=dict)
    up_to_date: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    alerts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_computed(self) -> int:
        return sum(self.computed.values())


@dataclass
class VersionContext:
    """Everything about one version that stays fixed across its windows."""

    spec: ModelSpec
    info: VersionInfo
    features: list[str]
    reference: pd.DataFrame
    reference_metrics: dict[str, float]
    train_metrics: dict[str, float]
    profile: dict[str, ColumnProfile]
    drift: DriftReference
    calibrator: Calibrator | None
    threshold: float
    thresholds: Thresholds

    @classmethod
    def build(cls, store: Store, spec: ModelSpec, info: VersionInfo, thresholds: Thresholds) -> VersionContext:
        reference = store.read_reference(spec=spec, reference_set=info.reference_set, version=info.version)
        features = list(info.metadata.get("features") or spec.features)
        metrics = {}
        for split in ("train", "validation"):
            part = reference[reference["_split"] == split]
            part = part[part["_label"].notna()]
            if len(part):
                y, pred, proba = labelled_arrays(spec, part)
                metrics[split] = task_metrics(spec.task, y, pred, proba)
            else:
                metrics[split] = {}
        threshold = float(info.metadata.get("threshold", 0.5))
        calibrator = None
        if spec.task == "binary":
            val = reference[(reference["_split"] == "validation") & reference["_label"].notna()]
            calibrator = fit_calibrator(
                val["_probability"].to_numpy(), val["_label"].to_numpy(), source="validation data", threshold=threshold
            )
        return cls(
            spec=spec,
            info=info,
            features=features,
            reference=reference,
            reference_metrics=metrics["validation"],
            train_metrics=metrics["train"],
            profile=profile_reference(spec, reference, features),
            drift=prepare_drift_reference(spec, features, reference, thresholds),
            calibrator=calibrator,
            threshold=threshold,
            thresholds=thresholds,
        )


def fingerprint(row: pd.Series, scope: str) -> str:
    """Changes whenever rows or labels of the window change."""
    last = "" if pd.isna(row["last_label"]) else pd.Timestamp(row["last_label"]).isoformat()
    return f"{scope}|{int(row['n_rows'])}|{int(row['n_labels'])}|{float(row['label_sum']):.6f}|{last}"


def version_checks(ctx: VersionContext) -> list[CheckResult]:
    """Checks of the version itself: the train-vs-validation gap recorded at training time."""
    metric = PRIMARY[ctx.spec.task]
    train, val = ctx.train_metrics.get(metric), ctx.reference_metrics.get(metric)
    if train is None or val is None:
        return []
    n = int((ctx.reference["_split"] == "validation").sum())
    return [
        gap_check(metric=metric, better=train, worse=val, thresholds=ctx.thresholds, kind="train_validation", n_rows=n)
    ]


def _calibrator_for(store: Store, ctx: VersionContext, window: Window) -> Calibrator | None:
    """Platt scaling on outcomes known before the window began, older ones weighing less.

    Weight halves every `estimate_half_life_windows` windows of age; the validation rows join as the
    oldest evidence. With no production outcomes yet this is the validation calibration.
    """
    size = ctx.spec.window
    start = pd.Timestamp(window.start)
    length = next_start(start, size) - start
    first = start - ctx.thresholds.estimate_lookback_windows * length
    recent = store.read_calibration(
        spec=ctx.spec, version=ctx.info.version, start=first.to_pydatetime(), end=window.start, known_by=window.start
    )
    val = ctx.reference[(ctx.reference["_split"] == "validation") & ctx.reference["_label"].notna()]
    half_life = ctx.thresholds.estimate_half_life_windows
    age = (start - pd.to_datetime(recent["_ts"])) / length
    val_age = (start - pd.to_datetime(val["_ts"]).max()) / length if len(val) else 0.0
    proba = np.concatenate([recent["_probability"].to_numpy(float), val["_probability"].to_numpy(float)])
    labels = np.concatenate([recent["_label"].to_numpy(float), val["_label"].to_numpy(float)])
    weights = np.concatenate(
        [0.5 ** (age.to_numpy(float) / half_life), np.full(len(val), 0.5 ** (val_age / half_life))]
    )
    source = "recent outcomes" if len(recent) else "validation data"
    fitted = fit_calibrator(proba, labels, source=source, threshold=ctx.threshold, weights=weights)
    return fitted or ctx.calibrator


def estimate_checks(
    store: Store,
    ctx: VersionContext,
    window: Window,
    frame: pd.DataFrame,
    realised: dict[str, float],
    history: list[dict[str, float]],
) -> list[CheckResult]:
    """Label-free estimates of accuracy, F1 and ROC AUC with their error band and trust verdict."""
    calibrator = _calibrator_for(store, ctx, window)
    if calibrator is None:
        return []
    pure = estimate_window(frame, calibrator=calibrator, known_by=None, threshold=ctx.threshold)
    early = estimate_window(frame, calibrator=calibrator, known_by=pd.Timestamp.max, threshold=ctx.threshold)
    recent = history[-BAND_WINDOWS:]
    out = []
    for metric in ESTIMATED:
        est = pure.metrics[metric]
        errors = [abs(h[metric]) for h in recent if metric in h and h[metric] == h[metric]]
        band = float(np.mean(errors)) if len(errors) >= 2 else None
        trusted = band is not None and band <= ctx.thresholds.estimate_trust_band and not pure.flags
        reasons = list(pure.flags)
        if band is None:
            reasons.append("Too few past windows with outcomes to measure how far off estimates run.")
        elif band > ctx.thresholds.estimate_trust_band:
            reasons.append(f"Recent estimates were off by {band:.2f} on average.")
        ref = ctx.reference_metrics.get(metric)
        real = realised.get(metric)
        error = est - real if real is not None and real == real else None
        band_txt = f" ± {band:.2f}" if band is not None else ""
        message = (
            f"Estimated {metric.replace('_', ' ')} {est:.3f}{band_txt} from the model's own confidence "
            f"(calibrated on {calibrator.source}). "
            + ("It has been reliable lately." if trusted else "Treat it with care: " + " ".join(reasons))
        )
        out.append(
            CheckResult(
                check=Check.ESTIMATED_PERFORMANCE,
                metric=metric,
                value=clean(est),
                reference=clean(ref),
                lower=clean(est - band) if band is not None else None,
                upper=clean(est + band) if band is not None else None,
                threshold=ctx.thresholds.performance_drop.warn,
                n_rows=len(frame),
                status=ctx.thresholds.performance_drop.status(relative_loss(metric, est, ref) if ref else None),
                message=message,
                details={
                    "band": clean(band),
                    "trusted": trusted,
                    "reasons": reasons,
                    "calibration": calibrator.source,
                    "calibration_rows": calibrator.n,
                    "realised": clean(real),
                    "error": clean(error),
                    "with_early_labels": clean(early.metrics[metric]),
                    "known_labels": early.known_labels,
                },
            )
        )
    return out


def compute_window(
    store: Store,
    ctx: VersionContext,
    window: Window,
    frame: pd.DataFrame,
    *,
    scope: str,
    fp: str,
    history: list[dict[str, float]],
) -> WindowResult:
    """All checks of one window for one version."""
    started = time.perf_counter()
    spec, th = ctx.spec, ctx.thresholds
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
            )
        labelled = frame[frame["_label"].notna()]
        perf = performance_checks(spec=spec, frame=frame, reference_metrics=ctx.reference_metrics, thresholds=th)
        checks += perf
        realised = {c.metric: c.value for c in perf if c.status != Status.NO_LABELS and c.value is not None}
        if scope == "full" and len(labelled) >= th.min_labels:
            checks.append(target_drift_check(spec=spec, reference=ctx.drift, labelled=labelled, thresholds=th))
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
                )
            )
        if spec.task == "binary" and scope == "full":
            checks += estimate_checks(store, ctx, window, frame, realised, history)
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
        seconds=time.perf_counter() - started,
    )


def _estimate_history(store: Store, model: str, version: int) -> dict[pd.Timestamp, dict[str, float]]:
    """Past estimate errors of a version (window -> metric -> estimate minus realised)."""
    frame = store.read_results(model=model, version=version, check=str(Check.ESTIMATED_PERFORMANCE), with_details=True)
    out: dict[pd.Timestamp, dict[str, float]] = {}
    import json

    for row in frame.itertuples():
        details = json.loads(row.details) if isinstance(row.details, str) else {}
        if details.get("error") is not None:
            out.setdefault(pd.Timestamp(row.window_start), {})[row.metric] = float(details["error"])
    return out


def monitor_version(
    store: Store,
    spec: ModelSpec,
    info: VersionInfo,
    fingerprints: pd.DataFrame,
    *,
    thresholds: Thresholds,
    progress: Progress,
) -> tuple[int, int]:
    """Compute every window of one version that is new or changed. Returns (computed, up to date)."""
    scope = "full" if info.is_live else "performance"
    done = store.computed_windows(model=spec.name, version=info.version, scope=scope)
    todo = [(row, fingerprint(row, scope)) for _, row in fingerprints.iterrows()]
    todo = [(row, fp) for row, fp in todo if done.get(pd.Timestamp(row["window_start"])) != fp]
    if not todo:
        return 0, len(fingerprints)
    ctx = VersionContext.build(store, spec, info, thresholds)
    if scope == "full":
        records = []
        for c in version_checks(ctx):
            row = {**c.__dict__, "model": spec.name, "version": info.version, "window_start": None, "window_end": None}
            row["check"], row["status"] = str(c.check), str(c.status)
            records.append(row)
        store.save_version_checks(model=spec.name, version=info.version, records=records)
    errors = _estimate_history(store, spec.name, info.version) if spec.task == "binary" and scope == "full" else {}
    for k, (row, fp) in enumerate(sorted(todo, key=lambda t: t[0]["window_start"]), start=1):
        window = make_window(row["window_start"], spec.window)
        frame = store.read_window(spec=spec, version=info.version, start=window.start, end=window.end)
        if len(frame) > SAMPLE_CAP:  # drift samples big windows: a fixed row order keeps that sample repeatable
            frame = frame.sort_values("_row_id", kind="stable", ignore_index=True)
        history = [errors[w] for w in sorted(errors) if w < pd.Timestamp(window.start)]
        result = compute_window(store, ctx, window, frame, scope=scope, fp=fp, history=history)
        store.save_window(result=result, scope=scope)
        for c in result.checks:
            if c.check == Check.ESTIMATED_PERFORMANCE and c.details.get("error") is not None:
                errors.setdefault(pd.Timestamp(window.start), {})[c.metric] = c.details["error"]
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
) -> RunSummary:
    """Bring monitoring results and alerts up to date for every model (or the ones named)."""
    from core.alerts import evaluate_alerts

    thresholds = thresholds or Thresholds()
    summary = RunSummary()
    started = time.perf_counter()
    specs = [s for s in store.list_specs() if models is None or s.name in models]
    for spec in specs:
        fingerprints = store.window_fingerprints(spec=spec)
        versions = sorted(store.list_versions(spec.name), key=lambda v: not v.is_live)
        computed = up_to_date = 0
        for info in versions:
            c, u = monitor_version(store, spec, info, fingerprints, thresholds=thresholds, progress=progress)
            computed += c
            up_to_date += u
        summary.computed[spec.name] = computed
        summary.up_to_date[spec.name] = up_to_date
        live = next((v for v in versions if v.is_live), None)
        if live is not None:
            summary.alerts[spec.name] = evaluate_alerts(
                store=store, spec=spec, version=live.version, thresholds=thresholds
            )
    summary.seconds = time.perf_counter() - started
    return summary
