"""Alerts reaching people, end to end in a real browser: the app's scheduler makes up a missed run at start,
the alert email reaches a real SMTP server on loopback, its link opens that alert; a channel added on the
Settings page gets its test message; the deliveries list says what went out."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from datetime import timedelta

import pytest

from core.config import make_channel
from core.schedule import monitor_job
from core.store import Store
from tests.browser.test_browser import Server
from tests.browser.test_browser import browser  # noqa: F401 - shared fixture
from tests.browser.test_browser import free_port
from tests.browser.test_browser import page  # noqa: F401 - shared fixture
from tests.browser.test_browser import settle
from tests.browser.test_browser import shoot
from tests.servers import SmtpServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(demo_settings, tmp_path_factory, smtp):
    """The demo with a channel and churn's schedule, last run three days ago while the app was down."""
    root = tmp_path_factory.mktemp("delivery")
    shutil.copy(demo_settings.db_path, root / "modelpulse.duckdb")
    shutil.copytree(demo_settings.models_dir, root / "models")
    with Store.open(root / "modelpulse.duckdb") as store:
        store.save_channel(
            make_channel(id="founders", name="Founders", kind="email", target="maya@startup.com"), by="t"
        )
        store.alerts.delete_model("churn")  # its alerts are found anew by the made-up run
        store.set_schedule(model="churn", cron="0 7 * * *", by="t")
        when = datetime.now() - timedelta(days=3)
        store.record_run(
            job=monitor_job("churn"),
            scheduled_for=when,
            started_at=when,
            finished_at=when,
            status="ran",
            message="before the downtime",
            runner="old",
        )
    port = free_port()
    srv = Server(
        root,
        root / "streamlit.log",
        port=port,
        MODELPULSE_SMTP_HOST="127.0.0.1",
        MODELPULSE_SMTP_PORT=str(smtp.port),
        MODELPULSE_SMTP_SECURITY="none",
        MODELPULSE_DELIVERY_POLL="1",
        MODELPULSE_BASE_URL=f"http://127.0.0.1:{port}",
        MODELPULSE_SECRETS=str(root / "none.toml"),
    )
    yield srv
    srv.stop()


def test_missed_run_sends_the_alert_email_and_its_link_opens_the_alert(page, served, smtp):  # noqa: F811
    page.goto(served.url)  # the first session starts the app's scheduler
    settle(page)
    (mail,) = smtp.box.wait_for(1, timeout=180)
    assert mail["To"] == "maya@startup.com" and "Customer churn" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"Open it: (\S+)", text).group(1)
    assert link.startswith(served.url + "/alerts?model=churn&alert=")
    title = re.search(r"^(?:CRITICAL|WARNING) \([^)]*\): (.+)$", text, re.M).group(1)
    page.goto(link)
    settle(page)
    assert page.get_by_text("The alert from your message").count() == 1
    assert page.get_by_text(title).first.is_visible()
    shoot(page, "alert-link")


def test_settings_page_adds_a_channel_sends_a_test_and_lists_deliveries(page, served, smtp):  # noqa: F811
    page.goto(f"{served.url}/settings")
    settle(page)
    body = page.inner_text("body")
    assert "Founders" in body and "maya@startup.com" in body
    assert "messages are sent by this app's scheduler" in body
    page.get_by_label("Your name or email (recorded with what you change)").fill("maya@startup.com")
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_label("Name", exact=True).fill("Ops on call")
    page.get_by_label("Email addresses (comma-separated) or webhook URL").fill("oncall@startup.com")
    page.get_by_role("button", name="Add channel").click()
    page.get_by_text("Channel 'Ops on call' added.").wait_for(timeout=60_000)
    settle(page)
    before = len(smtp.box.messages)
    page.get_by_role("button", name="Send a test message").nth(1).click()
    page.get_by_text("Test message sent to oncall@startup.com.").wait_for(timeout=60_000)
    got = smtp.box.wait_for(before + 1)
    assert got[-1]["To"] == "oncall@startup.com" and got[-1]["Subject"] == "ModelPulse test message for Ops on call"
    settle(page)
    shoot(page, "settings", height=1000)
    page.get_by_role("tab", name="Deliveries").click()
    settle(page)
    shoot(page, "settings-deliveries")
    page.get_by_role("tab", name="Weekly digest").click()
    settle(page)
    assert "ModelPulse weekly:" in page.inner_text("body")
    shoot(page, "settings-digest", height=1100)
