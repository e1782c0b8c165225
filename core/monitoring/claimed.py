"""One monitoring window, computed by whichever worker claims it: the task a fanned-out run sends out.

A worker (a local process, or a Dask worker on another machine) gets a :class:`WindowJob`, opens the shared
store once per process, claims the window in the store (`window_claims`), computes it through the same
:func:`core.monitoring.runner.compute_one` a single process uses, and saves it. A window another worker
holds, or one already computed with the same fingerprint, is left alone and reported as such; a claim
whose worker died expires after `claim_seconds`, and the coordinator sends the window out again.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core import faults
from core.config import load_settings
from core.monitoring.binned import PUSHDOWN_ROWS
from core.monitoring.context import VersionContext
from core.monitoring.runner import _estimate_history
from core.monitoring.runner import compute_one
from core.monitoring.runner import version_context
from core.monitoring.thresholds import Thresholds
from core.store import Store

CLAIM_SECONDS = 600.0
"""How long a claimed window stays a worker's: longer than any window takes, short enough to recover from a
worker that died holding one."""


@dataclass(frozen=True)
class WindowJob:
    """Which window of which version to compute, in which store, and how."""

    store: str
    home: str
    """The store's local folder (where model files sit beside it)."""
    model: str
    version: int
    scope: str
    window_start: pd.Timestamp
    fingerprint: str
    n_rows: int
    thresholds: Thresholds
    claim_seconds: float = CLAIM_SECONDS
    pushdown_rows: int = PUSHDOWN_ROWS


@dataclass(frozen=True)
class JobOutcome:
    """What became of a job: `computed` here, `done` (already computed by someone), or `held` (claimed by
    another worker until `held_until`)."""

    job: WindowJob
    status: str
    worker: str
    seconds: float = 0.0
    held_until: datetime | None = None


_STORES: dict[tuple[str, int], Store] = {}
_CONTEXTS: dict[tuple, VersionContext] = {}


def worker_name() -> str:
    """This worker as claims name it: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _store(job: WindowJob) -> Store:
    """The worker process's own connection to the shared store (opened once, reused for every job)."""
    key = (job.store, os.getpid())
    if key not in _STORES or _STORES[key].closed:
        # object storage is reached with this worker's own credentials (its environment or secrets.toml)
        cfg = load_settings()
        _STORES[key] = Store.open(job.store, home=job.home, s3=cfg.s3)
        _STORES[key].limit_memory(cfg.monitor_memory)
    return _STORES[key]


def _context(store: Store, job: WindowJob) -> VersionContext:
    spec, info = store.get_spec(job.model), store.get_version(job.model, job.version)
    key = (job.store, job.model, job.version, spec.model_dump_json(), repr(job.thresholds))
    if key not in _CONTEXTS:
        _CONTEXTS[key] = version_context(store, spec, info, job.thresholds)
    return _CONTEXTS[key]


def run_job(job: WindowJob) -> JobOutcome:
    """Claim, compute and save one window (or say why not); what a worker runs for each job."""
    started = time.perf_counter()
    store, me = _store(job), worker_name()
    start = pd.Timestamp(job.window_start).to_pydatetime()
    taken = store.claim_window(
        model=job.model,
        version=job.version,
        scope=job.scope,
        window_start=start,
        fingerprint=job.fingerprint,
        holder=me,
        seconds=job.claim_seconds,
    )
    if not taken:
        done = store.computed_windows(model=job.model, version=job.version, scope=job.scope)
        if done.get(pd.Timestamp(start)) == job.fingerprint:
            return JobOutcome(job=job, status="done", worker=me)
        claims = store.window_claims(model=job.model)
        mine = claims[
            (claims["version"] == job.version)
            & (claims["scope"] == job.scope)
            & (pd.to_datetime(claims["window_start"]) == pd.Timestamp(start))
            & (claims["fingerprint"] == job.fingerprint)
        ]
        until = pd.Timestamp(mine["expires_at"].max()).to_pydatetime() if len(mine) else None
        return JobOutcome(job=job, status="held", worker=me, held_until=until)
    faults.point("window.claimed")
    ctx = _context(store, job)
    errors = _estimate_history(store, job.model, job.version) if ctx.spec.task == "binary" else {}
    compute_one(
        store,
        ctx,
        scope=job.scope,
        start=start,
        n_rows=job.n_rows,
        fp=job.fingerprint,
        errors=errors if job.scope == "full" else {},
        pushdown_rows=job.pushdown_rows,
    )
    # saved: the claim ends (a worker killed before this line leaves a window that reads as done anyway)
    store.release_window(model=job.model, version=job.version, scope=job.scope, window_start=start, holder=me)
    return JobOutcome(job=job, status="computed", worker=me, seconds=time.perf_counter() - started)
