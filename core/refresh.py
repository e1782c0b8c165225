"""Bring a store up to date: compute new or changed monitoring windows, then evaluate alerts.

This is the one job the CLI (`monitor`, `ingest`), the inbox, the upload page and the demo run after
data changes; nothing below it (monitoring, store) knows about alerts.
"""

from __future__ import annotations

import time

from core.alerts import evaluate_alerts
from core.config import Settings
from core.monitoring.runner import RunSummary
from core.monitoring.runner import run_monitoring
from core.monitoring.thresholds import Thresholds
from core.progress import Progress
from core.store import Store


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
    summary = run_monitoring(store=store, settings=settings, models=models, thresholds=thresholds, progress=progress)
    for spec in store.list_specs():
        if models is not None and spec.name not in models:
            continue
        live = store.live_version(spec.name)
        if live is not None:
            summary.alerts[spec.name] = evaluate_alerts(
                store=store, spec=spec, version=live.version, thresholds=thresholds
            )
    summary.seconds = time.perf_counter() - started
    return summary
