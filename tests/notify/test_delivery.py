"""Alerts reach people: a real SMTP server and a real HTTP receiver on loopback get each message once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta

import pytest

from core.config import Delivery
from core.config import Smtp
from core.config import make_channel
from core.errors import DeliveryError
from core.notify import deliver_due
from core.notify import send_test
from core.progress import quiet
from core.refresh import refresh
from core.store import Store
from tests.servers import SmtpServer
from tests.servers import WebhookReceiver

BASE = "https://pulse.example.com"


def with_delivery(settings, *, smtp_port: int | None = None, **kw):
    smtp = Smtp(host="127.0.0.1", port=smtp_port, security="none", timeout=5) if smtp_port else None
    return replace(settings, delivery=Delivery(smtp=smtp, base_url=BASE, retry_seconds=0, **kw))


def email_channel(cid="founders", to="maya@startup.com", **kw):
    return make_channel(id=cid, name="Founders", kind="email", target=to, **kw)


def rerun_alerts(store: Store, settings, model: str):
    """Make `model`'s alerts new again (as on the run that first found them) and run monitoring."""
    store.alerts.delete_model(model)
    return refresh(store=store, settings=settings, models=[model], progress=quiet)


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def test_new_alerts_of_a_run_go_out_as_one_email_per_model_once(copied, smtp):
    cfg = with_delivery(copied, smtp_port=smtp.port)
    with Store.open(cfg.db_path) as store:
        store.save_channel(email_channel(), by="test")
        summary = rerun_alerts(store, cfg, "churn")
        open_alerts = store.list_alerts(model="churn", state="open")
        assert summary.owed["churn"] == 1 and len(open_alerts) >= 1
        # owed in the same transaction as the alerts: the outbox row exists before anything is sent
        assert store.outbox_counts() == {"pending": 1}
        report = deliver_due(store=store, settings=cfg, holder="h1")
        assert len(report.sent) == 1
        # nothing new: a second monitoring run and a second delivery pass send nothing more
        refresh(store=store, settings=cfg, models=["churn"], progress=quiet)
        assert deliver_due(store=store, settings=cfg, holder="h1").sent == []
    (msg,) = smtp.box.wait_for(1)
    assert len(smtp.box.messages) == 1
    assert msg["To"] == "maya@startup.com"
    spec_title = "Customer churn"
    assert spec_title.lower() in msg["Subject"].lower()
    assert msg["Subject"].split(" · ")[0] in ("Critical", "Warning")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for alert in open_alerts.to_dict("records"):
        assert alert["title"] in text
        assert alert["what"] in text and alert["cost"] in text and alert["action"] in text
        assert f"{BASE}/alerts?model=churn&alert={alert['id']}" in text
        assert f"alert={alert['id']}" in html
    assert "What happened:" in text and "What to do:" in text


def test_muted_model_sends_nothing_and_minimum_severity_filters(copied, smtp):
    cfg = with_delivery(copied, smtp_port=smtp.port)
    with Store.open(cfg.db_path) as store:
        store.save_channel(email_channel(), by="test")
        store.save_channel(email_channel(cid="oncall", to="oncall@startup.com", min_severity="critical"), by="test")
        store.mute_model(model="churn", until=datetime.now() + timedelta(days=3), by="test", reason="launch week")
        rerun_alerts(store, cfg, "churn")
        report = deliver_due(store=store, settings=cfg, holder="h1")
        assert report.sent == []
        held = store.list_deliveries()
        assert set(held["status"]) == {"muted"} and "muted until" in held["last_error"].iloc[0]
        store.unmute_model("churn")
        rerun_alerts(store, cfg, "hotel")
        severities = set(store.list_alerts(model="hotel", state="open")["severity"])
        deliver_due(store=store, settings=cfg, holder="h1")
    got = {m["To"]: m for m in smtp.box.wait_for(1)}
    assert "maya@startup.com" in got
    assert ("oncall@startup.com" in got) == ("critical" in severities)
    assert all("churn" not in m["X-ModelPulse-Model"] for m in smtp.box.messages)


def test_resolved_notice_after_the_evidence_goes(copied, smtp):
    from core.intake.batches import remove_batch

    cfg = with_delivery(copied, smtp_port=smtp.port)
    with Store.open(cfg.db_path) as store:
        store.save_channel(email_channel(), by="test")
        rerun_alerts(store, cfg, "churn")
        deliver_due(store=store, settings=cfg, holder="h1")
        told = set(store.list_alerts(model="churn", state="open")["id"])
        batches = store.list_batches(model="churn")
        for b in batches[batches["kind"].isin(["predictions", "labels"])]["id"]:
            remove_batch(store, batch_id=b, by="test", settings=cfg, progress=quiet)
        now_resolved = set(store.list_alerts(model="churn", state="resolved")["id"]) & told
        assert now_resolved
        deliver_due(store=store, settings=cfg, holder="h1")
    first, *later = smtp.box.wait_for(2)
    assert later, "no resolved notice arrived"
    assert "Back to normal:" not in first.get_body(("plain",)).get_content()
    notices = [m.get_body(("plain",)).get_content().split("Back to normal:")[-1] for m in later]
    # one removal per run, so each run's notice names what that run cleared; each cleared alert exactly once
    for aid in now_resolved:
        assert sum(f"alert={aid}" in n for n in notices) == 1


def test_webhook_gets_slack_json_and_is_retried_until_it_takes_it(copied):
    with WebhookReceiver(fail_first=2) as hook:
        cfg = with_delivery(copied)
        with Store.open(cfg.db_path) as store:
            store.save_channel(make_channel(id="slack", name="Slack", kind="webhook", target=hook.url), by="t")
            rerun_alerts(store, cfg, "churn")
            for _ in range(3):
                deliver_due(store=store, settings=cfg, holder="h1")
            row = store.list_deliveries().iloc[0]
        assert hook.attempts == 3 and len(hook.received) == 1
        assert row["status"] == "sent" and row["attempts"] == 3 and row["last_error"] is None
        got = hook.received[0]
        assert isinstance(got.body["text"], str) and "Customer churn" in got.body["text"]
        assert got.body["modelpulse"]["model"] == "churn"
        assert got.headers["Idempotency-Key"] == got.body["delivery_id"] == row["id"]
        first = got.body["modelpulse"]["alerts"][0]
        assert {"title", "what", "cost", "action", "severity", "window", "link"} <= set(first)


def test_teams_and_generic_formats(copied):
    with WebhookReceiver() as hook:
        cfg = with_delivery(copied)
        with Store.open(cfg.db_path) as store:
            for fmt in ("teams", "json"):
                store.save_channel(make_channel(id=fmt, name=fmt, kind="webhook", target=hook.url, format=fmt), by="t")
            rerun_alerts(store, cfg, "churn")
            deliver_due(store=store, settings=cfg, holder="h1")
    bodies = {("attachments" in r.body): r.body for r in hook.received}
    card = bodies[True]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["actions"][0]["url"].startswith(BASE)
    assert bodies[False]["event"] == "alerts" and bodies[False]["alerts"]


def test_failures_are_retried_with_backoff_then_given_up_with_a_sentence(copied):
    cfg = with_delivery(copied, smtp_port=1)  # nothing listens on port 1
    cfg = replace(cfg, delivery=replace(cfg.delivery, max_attempts=2, retry_seconds=600))
    with Store.open(cfg.db_path) as store:
        store.save_channel(email_channel(), by="test")
        rerun_alerts(store, cfg, "churn")
        first = deliver_due(store=store, settings=cfg, holder="h1")
        assert first.retrying and not first.sent
        row = store.list_deliveries().iloc[0]
        assert row["status"] == "pending" and row["attempts"] == 1
        assert "127.0.0.1:1 could not be reached" in row["last_error"]
        assert row["next_attempt_at"] > datetime.now() + timedelta(seconds=500)  # backoff: not due again yet
        assert deliver_due(store=store, settings=cfg, holder="h1").retrying == []
        second = deliver_due(store=store, settings=cfg, holder="h1", now=datetime.now() + timedelta(hours=1))
        assert second.failed
        assert store.list_deliveries().iloc[0]["status"] == "failed"


def test_wrong_smtp_password_is_a_sentence_and_the_password_is_nowhere(copied):
    secret = "hunter2-not-the-password"
    with SmtpServer(username="mp", password="right-password") as server:
        cfg = with_delivery(copied, smtp_port=server.port)
        smtp = replace(cfg.delivery.smtp, username="mp", password=secret)
        cfg = replace(cfg, delivery=replace(cfg.delivery, smtp=smtp))
        channel = email_channel()
        with Store.open(cfg.db_path) as store:
            with pytest.raises(DeliveryError) as err:
                send_test(store=store, settings=cfg, channel=channel)
            assert "refused the username or password" in err.value.user_message
            stored = store.query_df("SELECT * FROM outbox").to_json()
        assert secret not in err.value.user_message and secret not in stored and secret not in repr(cfg)
        good = replace(cfg, delivery=replace(cfg.delivery, smtp=replace(smtp, password="right-password")))
        with Store.open(cfg.db_path) as store:
            assert "Test message sent" in send_test(store=store, settings=good, channel=channel)
        assert server.box.wait_for(1)[0]["Subject"] == "ModelPulse test message for Founders"


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_over_starttls_and_tls_with_a_login(copied, tmp_path, security):
    from tests.servers import self_signed

    server_tls, cert = self_signed(tmp_path)
    tls = {"starttls": server_tls} if security == "starttls" else {"implicit_tls": server_tls}
    with SmtpServer(username="mp", password="s3cret", **tls) as server:
        smtp = Smtp(
            host="127.0.0.1", port=server.port, security=security, username="mp", password="s3cret", ca_file=cert
        )
        cfg = replace(copied, delivery=Delivery(smtp=smtp, base_url=BASE))
        with Store.open(cfg.db_path) as store:
            assert "Test message sent" in send_test(store=store, settings=cfg, channel=email_channel())
            # without trusting that certificate the connection is refused, in a sentence
            untrusting = replace(cfg, delivery=replace(cfg.delivery, smtp=replace(smtp, ca_file=None)))
            with pytest.raises(DeliveryError, match="secure connection to 127.0.0.1"):
                send_test(store=store, settings=untrusting, channel=email_channel())
        assert server.box.wait_for(1)[0]["Subject"] == "ModelPulse test message for Founders"
