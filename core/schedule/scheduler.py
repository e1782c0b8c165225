"""The scheduler: monitoring on each model's schedule, the outbox drained, the weekly digest owed.

Built on APScheduler's BackgroundScheduler. It runs in whichever process holds the store for writing
(DuckDB has one writer per file): inside the app (started by `ui.state`, setting `scheduler = "app"`)
or headless as `python -m core watch` (with the inbox too). Within a process and across processes
sharing a store it takes the `scheduler` lease first, so two schedulers on one store never both run
monitoring or send; the one without the lease waits and takes over when the lease runs out.

- A model's run that would overlap its running one is skipped and logged, not doubled (APScheduler's
  `max_instances=1`, and the refresh lock that the inbox and the upload page share).
- Runs missed while nothing was running are made up once at start (`coalesce`), from the run log.
- Every run (ran, failed, skipped) is written to the store's run log, shown on the Settings page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.events import JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.config import Settings
from core.errors import ModelPulseError
from core.intake.inbox import process_inbox
from core.monitoring.runner import windows_behind
from core.notify import deliver_due
from core.notify import holder_id
from core.notify import owe_digest
from core.notify.deliver import take_lease
from core.progress import quiet
from core.refresh import model_lock
from core.refresh import refresh
from core.schedule.crons import trigger
from core.store import Store

log = logging.getLogger("modelpulse.scheduler")

LEASE = "scheduler"
COMPACT = "compact"
COMPACT_CRON = "30 3 * * *"
"""When the scheduler of a shared store merges its small files (nightly, in the schedules' time zone)."""
DIGEST = "digest"


def monitor_job(model: str) -> str:
    """The run-log name of a model's scheduled monitoring."""
    return f"monitor:{model}"


class Scheduler:
    """One store's scheduled work. `start()`, then `stop()`; `tick()` is what runs every poll."""

    def __init__(self, *, store: Store, settings: Settings, holder: str | None = None, inbox: bool = False) -> None:
        self.store = store
        self.settings = settings
        self.holder = holder or holder_id()
        self.inbox = inbox
        self.tz = settings.delivery.tz
        self.poll = settings.delivery.poll_seconds
        self.lease_seconds = max(30.0, 4.0 * self.poll)
        self.active = False
        self._crons: dict[str, str] = {}
        self._tick_lock = threading.Lock()
        self.settled = threading.Event()
        """Set once the first tick that holds the lease has made up missed runs and finished pending work."""
        self._sched = BackgroundScheduler(
            timezone=self.tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        self._sched.add_listener(self._on_overlap, EVENT_JOB_MAX_INSTANCES)

    # ------------------------------------------------------------------ life
    def start(self) -> Scheduler:
        """Start the background thread; the first tick runs at once."""
        self._sched.start()
        self._sched.add_job(
            self.tick,
            IntervalTrigger(seconds=self.poll, timezone=self.tz),
            id="tick",
            next_run_time=datetime.now(self.tz),
        )
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Stop scheduling; waits for running jobs, then gives the leases back."""
        if self._sched.running:
            self._sched.shutdown(wait=wait)
        if self.active and not self.store.closed:
            self.store.release_lease(name=LEASE, holder=self.holder)
            self.store.release_lease(name="delivery", holder=self.holder)
        self.active = False

    @property
    def running(self) -> bool:
        return self._sched.running

    def run_now(self, model: str) -> None:
        """Fire `model`'s scheduled job now, as its trigger would (skipped and logged if it is still running)."""
        self._sched.modify_job(monitor_job(model), next_run_time=datetime.now(self.tz))

    def jobs(self) -> dict[str, datetime | None]:
        """Scheduled job ids and their next run (for the Settings page and tests)."""
        return {j.id: j.next_run_time for j in self._sched.get_jobs()}

    # ------------------------------------------------------------------ every poll
    def tick(self) -> None:
        """Hold the lease, follow schedule changes, make up missed runs, send what is due."""
        if not self._tick_lock.acquire(blocking=False):
            return
        try:
            if self.store.closed:
                return
            held, _ = take_lease(self.store, name=LEASE, holder=self.holder, seconds=self.lease_seconds)
            if not held:
                if self.active:
                    log.warning("scheduler %s lost its lease to %s", self.holder, self.store.lease_holder(LEASE))
                    self._drop_jobs()
                self.active = False
                return
            first = not self.active
            self.active = True
            self._sync(catch_up=first)
            if first:
                self._resume()
                self.settled.set()
            if self.inbox:
                self._guard("inbox", lambda: process_inbox(store=self.store, settings=self.settings) and None)
            self._deliver()
        except ModelPulseError as exc:
            log.warning("scheduler: %s", exc.user_message)
        finally:
            self._tick_lock.release()

    def _resume(self) -> None:
        """Finish what a kill or a failure left pending (windows not monitored, rows a version has not scored),
        once, when this scheduler takes over the store, so stale figures never wait for the next schedule."""
        for spec in self.store.list_specs():
            versions = [v.version for v in self.store.list_versions(spec.name) if v.weights_path]
            if windows_behind(self.store, spec) or self.store.scoring_backlog(spec=spec, versions=versions):
                self.run_model(spec.name, resumed=True)

    def _deliver(self) -> None:
        try:
            report = deliver_due(store=self.store, settings=self.settings, holder=self.holder)
        except ModelPulseError as exc:
            log.warning("delivery: %s", exc.user_message)
            return
        if report.sent or report.failed or report.retrying:
            log.info(
                "delivery: %d sent, %d retrying, %d failed", len(report.sent), len(report.retrying), len(report.failed)
            )

    def _sync(self, *, catch_up: bool) -> None:
        """Add, move or drop monitor jobs to match the stored schedules; on first holding the lease,
        run once what was missed."""
        wanted = self.store.schedules()
        for model in set(self._crons) - set(wanted):
            self._remove(monitor_job(model))
            self._crons.pop(model)
        for model, (cron, set_at) in wanted.items():
            if self._crons.get(model) != cron:
                self._sched.add_job(
                    self.run_model,
                    trigger(cron, tz=self.tz),
                    args=[model],
                    id=monitor_job(model),
                    replace_existing=True,
                )
                self._crons[model] = cron
            if catch_up:
                self._catch_up(monitor_job(model), cron, set_at, lambda m=model: self.run_model(m, caught_up=True))
        if self.store.shared and COMPACT not in self.jobs():  # a shared store's small files, merged nightly
            self._sched.add_job(self.run_compact, trigger(COMPACT_CRON, tz=self.tz), id=COMPACT)
        if "digest" not in self.jobs():
            self._sched.add_job(self.run_digest, trigger(self.settings.delivery.digest_cron, tz=self.tz), id=DIGEST)
        if catch_up:
            self._catch_up(DIGEST, self.settings.delivery.digest_cron, None, lambda: self.run_digest(caught_up=True))

    def _catch_up(self, job: str, cron: str, set_at: datetime | None, run: Callable[[], None]) -> None:
        """Run `job` once now when a fire time passed since its last run (or since its schedule was set)."""
        last = self.store.last_run(job) or set_at
        if last is None:
            return
        now = datetime.now(self.tz)
        due = trigger(cron, tz=self.tz).get_next_fire_time(None, last.astimezone(self.tz) + timedelta(seconds=1))
        if due is not None and due <= now:
            log.info("%s: making up the run due %s", job, due)
            self._sched.add_job(
                run, DateTrigger(run_date=now, timezone=self.tz), id=f"catch-up:{job}", replace_existing=True
            )

    def _drop_jobs(self) -> None:
        for job_id in list(self.jobs()):
            if job_id != "tick":
                self._remove(job_id)
        self._crons.clear()

    def _remove(self, job_id: str) -> None:
        if self._sched.get_job(job_id) is not None:
            self._sched.remove_job(job_id)

    # ------------------------------------------------------------------ jobs
    def run_model(self, model: str, *, caught_up: bool = False, resumed: bool = False) -> str:
        """Monitor one model now (unless its previous run is still going); returns what happened."""
        job = monitor_job(model)
        started = datetime.now()
        if not self.active:
            return "skipped"
        lock = model_lock(self.store, model)
        if not lock.acquire(blocking=False):
            self._record(job, started, "skipped", "the previous run of this model was still going")
            return "skipped"
        lock.release()
        try:
            summary = refresh(store=self.store, settings=self.settings, models=[model], progress=quiet)
        except ModelPulseError as exc:
            self._record(job, started, "failed", exc.user_message)
            return "failed"
        a = summary.alerts.get(model, {})
        note = " (making up a run missed while ModelPulse was not running)" if caught_up else ""
        note = " (finishing work left pending when ModelPulse last stopped)" if resumed else note
        self._record(
            job,
            started,
            "ran",
            f"{summary.computed.get(model, 0)} windows computed, {a.get('open', 0)} open alerts, "
            f"{summary.owed.get(model, 0)} messages owed{note}",
        )
        self._deliver()
        return "ran"

    def run_compact(self) -> str:
        """Merge a shared store's small data files and delete unreferenced ones; one line for the run log."""
        started = datetime.now()
        try:
            done = self.store.compact()
        except ModelPulseError as exc:
            self._record(COMPACT, started, "failed", exc.user_message)
            return exc.user_message
        line = f"data files {done['files_before']} -> {done['files_after']}, {done['files_deleted']} deleted"
        self._record(COMPACT, started, "ok", line)
        return line

    def run_digest(self, *, caught_up: bool = False) -> str:
        """Owe this week's digest to every channel that takes it, then send."""
        started = datetime.now()
        if not self.active:
            return "skipped"
        try:
            owed = owe_digest(self.store, self.settings)
        except ModelPulseError as exc:
            self._record(DIGEST, started, "failed", exc.user_message)
            return "failed"
        note = " (making up the one missed)" if caught_up else ""
        self._record(DIGEST, started, "ran", f"{len(owed)} digest messages owed{note}")
        self._deliver()
        return "ran"

    def _guard(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except ModelPulseError as exc:
            log.warning("%s: %s", name, exc.user_message)

    def _record(self, job: str, started: datetime, status: str, message: str) -> None:
        self.store.record_run(
            job=job,
            scheduled_for=started,
            started_at=started,
            finished_at=datetime.now(),
            status=status,
            message=message,
            runner=self.holder,
        )

    def _on_overlap(self, event: JobExecutionEvent) -> None:
        """APScheduler found the job still running at its next fire time: log the skipped run."""
        if event.job_id.startswith("monitor:") or event.job_id == DIGEST:
            self._record(event.job_id, datetime.now(), "skipped", "the previous run was still going")


def set_schedule(*, store: Store, settings: Settings, model: str, cron: str | None, by: str) -> str:
    """Check and keep `model`'s schedule (None removes it); returns a sentence saying when it runs next."""
    from core.schedule.crons import describe

    store.get_spec(model)
    if not cron:
        store.set_schedule(model=model, cron=None, by=by)
        return f"{model} is no longer monitored on a schedule (it still is whenever data arrives)."
    tz = settings.delivery.tz
    nxt = trigger(cron, tz=tz).get_next_fire_time(None, datetime.now(tz))
    store.set_schedule(model=model, cron=cron, by=by)
    return f"{model} is monitored {describe(cron)} ({settings.delivery.timezone}); next run {nxt:%a %d %b %H:%M}."
