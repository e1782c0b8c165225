"""Monitoring fanned out over many processes or machines, on Dask: `python -m core monitor --workers N`
(local processes) or `--scheduler tcp://host:8786` (an existing Dask cluster).

The coordinator plans the windows that are new or stale exactly as a single run does, saves what is per
version, and sends one :class:`~core.monitoring.claimed.WindowJob` per window. Each worker claims its window
in the store, so two coordinators (or a retried task) never compute one twice; a window another worker holds
is sent again once that worker finished it or its claim expired (a worker that died). When every window is
in, the estimates' error bands are settled in window order (:func:`~core.monitoring.runner.settle_estimates`),
so the stored results are those of a single run. Needs a store every process can write: a shared DuckLake
store; a DuckDB file has one writing process.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator

from core.config import Settings
from core.errors import ModelPulseError
from core.errors import StoreBusyError
from core.monitoring.claimed import CLAIM_SECONDS
from core.monitoring.claimed import JobOutcome
from core.monitoring.claimed import WindowJob
from core.monitoring.claimed import run_job
from core.monitoring.runner import RunSummary
from core.monitoring.runner import _pending
from core.monitoring.runner import sample_calibration
from core.monitoring.runner import settle_estimates
from core.monitoring.runner import version_context
from core.monitoring.thresholds import Thresholds
from core.monitoring.windows import make_window
from core.progress import Progress
from core.store import Store

POLL_SECONDS = 2.0
"""How often windows held by another worker are looked at again."""


@contextlib.contextmanager
def dask_client(*, workers: int | None, scheduler: str | None) -> Iterator[object]:
    """A Dask client: of the cluster at `scheduler`, or of `workers` local processes started (and stopped) here."""
    from distributed import Client
    from distributed import LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise ModelPulseError(
                f"No Dask scheduler answers at {scheduler} ({exc}); start one or use --workers."
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,  # DuckDB keeps each worker's own memory in bounds (core.store.connection.MEMORY_LIMIT)
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def plan_jobs(
    store: Store, *, models: list[str] | None, thresholds: Thresholds, claim_seconds: float, progress: Progress
) -> tuple[list[WindowJob], RunSummary]:
    """Every window to compute, as jobs; forgets windows whose rows are gone and saves per-version checks."""
    summary = RunSummary()
    jobs: list[WindowJob] = []
    for spec in [s for s in store.list_specs() if models is None or s.name in models]:
        fingerprints = store.window_fingerprints(spec=spec)
        todo_model = up_to_date = 0
        for info in sorted(store.list_versions(spec.name), key=lambda v: not v.is_live):
            scope, fps, todo, gone = _pending(store, spec, info, fingerprints)
            if gone:
                store.forget_windows(model=spec.name, version=info.version, starts=[w.to_pydatetime() for w in gone])
            up_to_date += len(fps) - len(todo)
            if not todo:
                continue
            ctx = version_context(store, spec, info, thresholds)
            if scope == "full":
                store.save_version_checks(model=spec.name, version=info.version, checks=ctx.version_checks())
                sample_calibration(store, ctx, fps, progress)
            store.save_segment_reference(model=spec.name, version=info.version, segments=ctx.segment_reference)
            for row, fp in sorted(todo, key=lambda t: t[0]["window_start"]):
                jobs.append(
                    WindowJob(
                        store=store.conn.url or str(store.path),
                        home=str(store.path),
                        model=spec.name,
                        version=info.version,
                        scope=scope,
                        window_start=make_window(row["window_start"], spec.window).start,
                        fingerprint=fp,
                        n_rows=int(row["n_rows"]),
                        thresholds=thresholds,
                        claim_seconds=claim_seconds,
                    )
                )
            todo_model += len(todo)
        summary.computed[spec.name] = 0
        summary.up_to_date[spec.name] = up_to_date
        if todo_model:
            progress(f"  {spec.name}: {todo_model} windows to compute")
    return jobs, summary


def run_fanned_out(
    *,
    store: Store,
    settings: Settings | None = None,
    models: list[str] | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress = print,
    workers: int | None = None,
    scheduler: str | None = None,
    claim_seconds: float = CLAIM_SECONDS,
    max_wait: float = 3600.0,
) -> RunSummary:
    """Bring monitoring up to date like :func:`~core.monitoring.runner.run_monitoring`, with the windows computed
    by Dask workers (`workers` local processes, or the cluster at `scheduler`)."""
    if not store.shared:
        raise ModelPulseError(
            f"Monitoring fans out only over a shared store: {store.where} is a DuckDB file, which one process writes "
            "at a time. Copy it into a DuckLake store first (`python -m core migrate --to ducklake:postgres:...`)."
        )
    if not scheduler and (workers is None or workers < 1):
        raise ModelPulseError("Say how many local worker processes to start (--workers N) or give --scheduler.")
    started = time.perf_counter()
    thresholds = thresholds or Thresholds()
    jobs, summary = plan_jobs(
        store, models=models, thresholds=thresholds, claim_seconds=claim_seconds, progress=progress
    )
    if jobs:
        outcomes = _send(jobs, workers=workers, scheduler=scheduler, progress=progress, max_wait=max_wait)
        by_model = Counter(o.job.model for o in outcomes if o.status == "computed")
        for model in summary.computed:
            summary.computed[model] = by_model.get(model, 0)
        others = sum(1 for o in outcomes if o.status == "done")
        workers_used = len({o.worker for o in outcomes if o.status == "computed"})
        progress(
            f"  {sum(by_model.values())} windows computed by {workers_used} workers"
            + (f"; {others} by another coordinator's workers" if others else "")
        )
        for model, version in sorted({(j.model, j.version) for j in jobs if j.scope == "full"}):
            settle_estimates(store, store.get_spec(model), version, thresholds)
    summary.seconds = time.perf_counter() - started
    return summary


def _send(
    jobs: list[WindowJob], *, workers: int | None, scheduler: str | None, progress: Progress, max_wait: float
) -> list[JobOutcome]:
    """Run `jobs` on the workers until each is computed somewhere; windows held by another worker wait for it."""
    from distributed import as_completed

    finished: list[JobOutcome] = []
    deadline = time.monotonic() + max_wait
    pending = jobs
    with dask_client(workers=workers, scheduler=scheduler) as client:
        while pending:
            futures = client.map(run_job, pending, pure=False)
            held: list[JobOutcome] = []
            for k, future in enumerate(as_completed(futures), start=1):
                outcome: JobOutcome = future.result()
                (held if outcome.status == "held" else finished).append(outcome)
                if k == len(futures) or k % 10 == 0:
                    progress(f"  {k}/{len(futures)} windows back from the workers")
            if not held:
                break
            if time.monotonic() > deadline:
                raise StoreBusyError(
                    f"{len(held)} windows stayed claimed by other workers for over {max_wait:.0f} s; run again later."
                )
            progress(f"  {len(held)} windows are being computed by other workers; waiting for them")
            time.sleep(POLL_SECONDS)
            pending = [o.job for o in held]
    return finished
