"""The scheduler: made-up runs after downtime, overlapping runs skipped and logged, one scheduler per store."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from datetime import timedelta

import pytest

from core.errors import ConfigError
from core.monitoring.runner import windows_behind
from core.refresh import model_lock
from core.schedule import Scheduler
from core.schedule import describe
from core.schedule import monitor_job
from core.schedule import preset
from core.schedule import set_schedule
from core.schedule import trigger
from core.store import Store
from tests.notify.test_delivery import email_channel
from tests.notify.test_delivery import rerun_alerts
from tests.notify.test_delivery import with_delivery
from tests.servers import SmtpServer


def _fast(cfg, **kw):
    return replace(cfg, delivery=replace(cfg.delivery, poll_seconds=1, **kw))


def _runs(store: Store, job: str):
    return store.list_runs(job=job)


def _wait(predicate, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_crontab_lines_mean_what_cron_means():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Paris")
    assert preset("daily", at="07:00") == "0 7 * * *"
    monday = trigger("0 8 * * 1", tz=tz).get_next_fire_time(None, datetime(2026, 12, 1, 9, tzinfo=tz))  # a Tuesday
    assert monday.strftime("%a %H:%M") == "Mon 08:00" and monday.tzinfo is not None
    assert describe("0 7 * * *") == "every day at 07:00"
    assert describe("15 * * * *") == "every hour at :15"
    assert describe(preset("weekly", at="08:30", day="fri")) == "every Friday at 08:30"
    for bad in ("every day", "0 25 * * *", "* * *"):
        with pytest.raises(ConfigError):
            trigger(bad, tz=tz)
    with pytest.raises(ConfigError, match="07:00"):
        preset("daily", at="7am")


@pytest.mark.slow
def test_a_run_missed_while_down_is_made_up_once(copied):
    cfg = _fast(with_delivery(copied))
    with Store.open(cfg.db_path) as store:
        set_schedule(store=store, settings=cfg, model="churn", cron=preset("daily", at="07:00"), by="test")
        set_schedule(store=store, settings=cfg, model="hotel", cron=preset("daily", at="07:00"), by="test")
        three_days_ago = datetime.now() - timedelta(days=3)
        for model in ("churn", "hotel"):
            store.record_run(
                job=monitor_job(model),
                scheduled_for=three_days_ago,
                started_at=three_days_ago,
                finished_at=three_days_ago,
                status="ran",
                message="before the downtime",
                runner="old",
            )
        # hotel ran after its last due time: nothing to make up
        store.record_run(
            job=monitor_job("hotel"),
            scheduled_for=datetime.now() - timedelta(seconds=5),
            started_at=datetime.now(),
            finished_at=datetime.now(),
            status="ran",
            message="just now",
            runner="old",
        )
        scheduler = Scheduler(store=store, settings=cfg).start()
        try:
            assert _wait(lambda: len(_runs(store, monitor_job("churn"))) == 2)
            time.sleep(3)  # more ticks: still one made-up run, however many days were missed
            churn = _runs(store, monitor_job("churn"))
            hotel = _runs(store, monitor_job("hotel"))
            jobs = scheduler.jobs()
        finally:
            scheduler.stop()
    assert list(churn["status"]) == ["ran", "ran"]
    assert "making up a run missed" in churn["message"].iloc[0]
    assert len(hotel) == 2  # only the two recorded by hand
    assert jobs[monitor_job("churn")] is not None and jobs[monitor_job("churn")].hour == 7


@pytest.mark.slow
def test_overlapping_runs_are_skipped_and_logged_not_doubled(copied):
    cfg = _fast(with_delivery(copied))
    with Store.open(cfg.db_path) as store:
        set_schedule(store=store, settings=cfg, model="churn", cron="0 7 * * *", by="test")
        scheduler = Scheduler(store=store, settings=cfg).start()
        try:
            assert _wait(lambda: scheduler.settled.is_set())
            store.clear_monitoring(model="churn")  # so the next run has real work and takes a while
            lock = model_lock(store, "churn")
            # another refresh of churn (an upload, the inbox) is going: the scheduled run is skipped
            with lock:
                scheduler.run_now("churn")
                assert _wait(lambda: len(_runs(store, monitor_job("churn"))) == 1)
            skipped = _runs(store, monitor_job("churn")).iloc[0]
            assert skipped["status"] == "skipped" and "still going" in skipped["message"]
            # the scheduled run itself still going when it fires again: APScheduler skips it, we log it
            scheduler.run_now("churn")
            assert _wait(lambda: lock.locked(), timeout=20)
            scheduler.run_now("churn")
            assert _wait(lambda: "ran" in set(_runs(store, monitor_job("churn"))["status"]), timeout=300)
            runs = _runs(store, monitor_job("churn"))
        finally:
            scheduler.stop()
    assert sorted(runs["status"]) == ["ran", "skipped", "skipped"]
    assert int((runs["status"] == "ran").sum()) == 1


@pytest.mark.slow
def test_two_schedulers_on_one_store_do_not_both_send(copied):
    with SmtpServer() as smtp:
        cfg = _fast(with_delivery(copied, smtp_port=smtp.port))
        with Store.open(cfg.db_path) as store:
            store.save_channel(email_channel(), by="test")
            rerun_alerts(store, cfg, "churn")
            a = Scheduler(store=store, settings=cfg, holder="host:1:a")
            b = Scheduler(store=store, settings=cfg, holder="host:1:b")
            a.start(), b.start()
            try:
                assert _wait(lambda: a.active or b.active)
                smtp.box.wait_for(1)
                time.sleep(2.5)  # several ticks of both
                assert a.active != b.active
                first = a if a.active else b
                other = b if first is a else a
                assert len(smtp.box.messages) == 1
                first.stop()  # gives the lease back: the other takes over at its next tick
                assert _wait(lambda: other.active, timeout=10)
                rerun_alerts(store, cfg, "hotel")
                smtp.box.wait_for(2)
                time.sleep(1.5)
            finally:
                a.stop(), b.stop()
        assert len(smtp.box.messages) == 2
        assert len(set(smtp.box.ids())) == 2


def test_digest_is_owed_once_a_week_and_the_preview_is_what_is_sent(copied):
    from core.notify import deliver_due
    from core.notify import digest_message
    from core.notify import owe_digest

    with SmtpServer() as smtp:
        cfg = with_delivery(copied, smtp_port=smtp.port)
        now = datetime(2026, 11, 30, 8, 0)
        with Store.open(cfg.db_path) as store:
            store.save_channel(email_channel(to="maya@startup.com, sam@startup.com"), by="test")
            store.save_channel(email_channel(cid="nodigest", to="x@startup.com", digest=False), by="test")
            preview = digest_message(store, cfg, now=now)
            assert len(owe_digest(store, cfg, now=now)) == 2
            assert owe_digest(store, cfg, now=now + timedelta(days=2)) == []  # same ISO week
            deliver_due(store=store, settings=cfg, holder="h")
            titles = [s.title for s in store.list_specs()]
        got = smtp.box.wait_for(2)
    assert sorted(m["To"] for m in got) == ["maya@startup.com", "sam@startup.com"]
    body = got[0].get_body(("plain",)).get_content()
    lines = [line.rstrip() for line in body.strip().splitlines()]
    assert lines == [line.rstrip() for line in preview.text.strip().splitlines()]
    assert got[0]["Subject"] == preview.subject
    assert all(t in body for t in titles)
    assert "This week:" in body and "Open it:" in body


@pytest.mark.slow
def test_work_a_kill_left_pending_is_finished_when_the_scheduler_takes_over(copied):
    """A store whose monitoring was stopped half-way (here: forgotten) is brought up to date at start, once,
    without waiting for the next scheduled run, and the run log says why it ran."""
    cfg = _fast(with_delivery(copied))
    with Store.open(cfg.db_path) as store:
        set_schedule(store=store, settings=cfg, model="churn", cron="0 7 * * *", by="test")
        spec = store.get_spec("churn")
        store.clear_monitoring(model="churn")
        assert windows_behind(store, spec) > 0
        scheduler = Scheduler(store=store, settings=cfg).start()
        try:
            assert _wait(lambda: scheduler.settled.is_set(), timeout=300)
            runs = _runs(store, monitor_job("churn"))
        finally:
            scheduler.stop()
        assert windows_behind(store, spec) == 0
    assert runs["status"].tolist() == ["ran"]
    assert "finishing work left pending" in runs["message"].iloc[0]
