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

from core.alerts import evaluate_alerts
from core.config import Settings
from core.monitoring.runner import RunSummary
from core.monitoring.runner import run_monitoring
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.notify import owed_for_changes
from core.progress import Progress
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
) -> RunSummary:
    """Monitor every model (or the ones named), then bring each one's alerts up to date with its live version."""
    started = time.perf_counter()
    thresholds = thresholds or Thresholds()
    settings = settings or Settings.under(store.path)
    names = models if models is not None else [s.name for s in store.list_specs()]
    locks = [model_lock(store, name) for name in sorted(set(names))]
    for lock in locks:
        lock.acquire()
    try:
        purged = {name: apply_retention(store, model=name) for name in names}
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
                changes = evaluate_alerts(store=store, spec=spec, version=live.version, thresholds=thresholds)
                summary.owed[spec.name] = len(
                    owed_for_changes(store=store, spec=spec, changes=changes, settings=settings)
                )
            summary.alerts[spec.name] = changes.counts
    finally:
        for lock in locks:
            lock.release()
    summary.purged = {name: counts for name, counts in purged.items() if counts != (0, 0)}
    summary.seconds = time.perf_counter() - started
    return summary


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
