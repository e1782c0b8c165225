"""Bring a store up to date: compute new or changed monitoring windows, then evaluate alerts and owe
the messages they call for.

This is the one job the CLI (`monitor`, `ingest`), the inbox, the scheduler, the upload page and the
demo run after data changes; nothing below it (monitoring, store) knows about alerts. The alert
changes of a model and the messages they owe are saved in one transaction, so a message is owed
exactly when its alert changed. One refresh of a model runs at a time per store (`model_lock`).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime
from datetime import timedelta

import pandas as pd

from core import faults
from core.alerts.silenced import evaluate_with_feedback
from core.config import Settings
from core.modeling.versions import loadable_versions
from core.monitoring.claimed import CLAIM_SECONDS
from core.monitoring.fanout import run_fanned_out
from core.monitoring.runner import RunSummary
from core.monitoring.runner import run_monitoring
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.monitoring.windows import window_start
from core.notify import owed_for_changes
from core.progress import Progress
from core.schema import ModelSpec
from core.store import Store

_LOCKS: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


def model_lock(store: Store, model: str) -> threading.Lock:
    """The lock one refresh of `model` in this store's file holds (the scheduler skips a run it finds taken)."""
    with _LOCKS_GUARD:
        return _LOCKS[(str(store.path), model)]


def refresh(
    *,
    store: Store,
    settings: Settings | None = None,
    models: list[str] | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress = print,
    workers: int | None = None,
    scheduler: str | None = None,
    claim_seconds: float = CLAIM_SECONDS,
) -> RunSummary:
    """Monitor every model (or the ones named), then bring each one's alerts up to date with its live version.

    With `workers` (local processes) or `scheduler` (a Dask cluster's address) the windows are computed by Dask
    workers on a shared store (:mod:`core.monitoring.fanout`); the results are the same.
    """
    started = time.perf_counter()
    thresholds = thresholds or Thresholds()
    settings = settings or Settings.under(store.path)
    names = models if models is not None else [s.name for s in store.list_specs()]
    locks = [model_lock(store, name) for name in sorted(set(names))]
    scored: dict[str, dict[int, int]] = {}
    for lock in locks:
        lock.acquire()
    try:
        purged = {name: apply_retention(store, model=name) for name in names}
        for name in names:
            scored[name] = catch_up_scoring(store, spec=store.get_spec(name), progress=progress)
        if workers or scheduler:
            summary = run_fanned_out(
                store=store,
                settings=settings,
                models=models,
                thresholds=thresholds,
                progress=progress,
                workers=workers,
                scheduler=scheduler,
                claim_seconds=claim_seconds,
            )
        else:
            summary = run_monitoring(
                store=store, settings=settings, models=models, thresholds=thresholds, progress=progress
            )
        for spec in store.list_specs():
            if spec.name not in names:
                continue
            live = store.live_version(spec.name)
            if live is None:
                continue
            with store.transaction():
                # with the lines people's feedback moved; what those lines kept quiet is recorded too
                changes = evaluate_with_feedback(store=store, spec=spec, version=live.version, thresholds=thresholds)
                summary.owed[spec.name] = len(
                    owed_for_changes(store=store, spec=spec, changes=changes, settings=settings)
                )
            summary.alerts[spec.name] = changes.counts
    finally:
        for lock in locks:
            lock.release()
    summary.purged = {name: counts for name, counts in purged.items() if counts != (0, 0)}
    summary.caught_up = {name: done for name, done in scored.items() if done}
    summary.seconds = time.perf_counter() - started
    return summary


def catch_up_scoring(store: Store, *, spec: ModelSpec, progress: Progress = print) -> dict[int, int]:
    """Score the stored rows a version has not scored yet (its file was missing when they arrived, or a kill
    stopped a scoring), for every version whose file loads now; returns rows scored per version.

    Each version's catch-up is one transaction that also forgets that version's results for the windows the
    rows fall in, so the monitoring run right after recomputes them on every row. A version whose file is
    still missing is left for a later run (the model page says it cannot score).
    """
    versions = [v.version for v in store.list_versions(spec.name) if v.weights_path]
    backlog = store.scoring_backlog(spec=spec, versions=versions)
    done: dict[int, int] = {}
    if not backlog:  # the usual case: nothing to load
        return done
    models, _ = loadable_versions(store, spec.name)  # a file still missing is left for a later run
    for version, model in models.items():
        if version not in backlog:
            continue
        rows = store.rows_without_predictions(spec=spec, version=version)
        if rows.empty:
            continue
        progress(f"  {spec.name} v{version}: scoring {len(rows):,} stored rows it missed")
        starts = [pd.Timestamp(w).to_pydatetime() for w in sorted(window_start(rows["_ts"], spec.window).unique())]
        with store.transaction():
            store.write_predictions(
                spec=spec,
                version=version,
                row_ids=rows["_row_id"].to_numpy(),
                ts=rows["_ts"].to_numpy(),
                entity_ids=rows["_entity_id"].to_numpy(),
                predictions=model.predict(rows),
            )
            store.forget_windows(model=spec.name, version=version, starts=starts)
            faults.point("scores.before_commit")
        done[version] = len(rows)
    return done


def apply_retention(store: Store, *, model: str, now: datetime | None = None) -> tuple[int, int]:
    """Delete `model`'s production rows and outcomes older than its retention (whole windows, so every
    window is either complete or frozen with its results); returns (rows, outcomes) deleted."""
    days = store.retention.retention_days(model)
    if not days:
        return 0, 0
    spec = store.get_spec(model)
    cutoff = make_window(pd.Timestamp((now or datetime.now()) - timedelta(days=days)), spec.window).start
    rows, outcomes = store.retention.purge_before(model=model, cutoff=cutoff)
    if rows or outcomes:
        store.audit.record(
            actor="modelpulse",
            action="model.retention",
            model=model,
            detail=f"deleted {rows} rows and {outcomes} outcomes dated before {cutoff:%Y-%m-%d} (kept {days} days); "
            "the monitoring results of those windows are kept",
        )
    return rows, outcomes
