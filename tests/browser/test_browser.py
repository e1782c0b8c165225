"""The real app in a real browser: `streamlit run` on a free port, driven by Playwright in Debian's chromium.

Each page is visited, an alert acknowledged, versions compared and one promoted, the board report
downloaded; a screenshot of every page goes to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from core.store import Store

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO_ROOT / "docs" / "screenshots"
ACTOR = "pw-test@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run serve.py` (as `make run` does) against a copy of the reduced demo store."""

    def __init__(
        self, root: Path, log: Path, *, port: int | None = None, script: str = "serve.py", **extra_env: str
    ) -> None:
        self.root = root
        self.db = root / "modelpulse.duckdb"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "MODELPULSE_DB": str(self.db),
            "MODELPULSE_MODELS_DIR": str(root / "models"),
            "MODELPULSE_INBOX": str(root / "inbox"),
            "MODELPULSE_PASSWORD": "",
            "MODELPULSE_INBOX_POLL": "2",
            **extra_env,
        }
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script,
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"streamlit did not start; see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def server(demo_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    shutil.copy(demo_settings.db_path, root / "modelpulse.duckdb")
    shutil.copytree(demo_settings.models_dir, root / "models")
    srv = Server(root, root / "streamlit.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make test`, which installs it (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def settle(pg, timeout: float = 120) -> None:
    """Wait until Streamlit has finished running the script and drawn the page."""
    pg.wait_for_selector("[data-testid='stAppViewContainer']", timeout=timeout * 1000)
    deadline = time.time() + timeout
    time.sleep(0.5)
    while time.time() < deadline:
        running = pg.locator("[data-testid='stStatusWidget']").count()
        skeleton = pg.locator("[data-testid='stSkeleton']").count()
        if not running and not skeleton and pg.locator("h1, h3").count():
            break
        time.sleep(0.3)
    time.sleep(1.0)  # let plotly finish drawing before a screenshot
    assert pg.locator("[data-testid='stException']").count() == 0, pg.locator(
        "[data-testid='stException']"
    ).first.inner_text()


def visit(pg, server: Server, path: str) -> None:
    pg.goto(f"{server.url}/{path}")
    settle(pg)


def shoot(pg, name: str, *, height: int | None = None, min_bytes: int = 20_000) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if height:
        pg.set_viewport_size({"width": 1366, "height": height})
        time.sleep(1.5)
    path = SHOTS / f"{name}.png"
    pg.screenshot(path=str(path))
    assert path.stat().st_size > min_bytes  # a real rendering, not a blank page
    return path


def test_overview_shows_every_model_above_the_fold(page, server):
    visit(page, server, "")
    for title in ("Customer churn", "Hotel room price", "Flight delays"):
        card = page.get_by_text(title, exact=True).first
        assert card.is_visible()
        assert card.bounding_box()["y"] < 768
    body = page.inner_text("body")
    assert "predictions" in body and "open alert" in body
    for word in ("Needs action", "Worth a look", "Healthy"):
        if word in body:
            break
    else:
        pytest.fail("no health status shown")
    assert "To do:" in body
    shoot(page, "overview")


def test_acknowledge_an_alert(page, server):
    visit(page, server, "alerts?model=flights")
    page.get_by_label("Your name or email (recorded with what you do)").fill(ACTOR)
    page.keyboard.press("Enter")
    settle(page)
    shoot(page, "alerts", height=1300)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.get_by_text("Act on it, or see its history").first.click()
    page.get_by_role("button", name="Acknowledge", exact=True).first.click()
    page.get_by_text("Alert marked acknowledged.").wait_for(timeout=60_000)
    settle(page)
    assert "Acknowledged" in page.inner_text("body")


def test_feedback_on_an_alert(page, server, demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:  # the served store's original
        alerts = store.list_alerts(model="hotel")
    warning = alerts[(alerts["severity"] == "warning") & alerts["state"].isin(["open", "acknowledged"])].iloc[0]
    visit(page, server, f"alerts?model=hotel&alert={warning['id']}")  # a linked alert is shown first
    page.get_by_label("Your name or email (recorded with what you do)").fill(ACTOR)
    page.keyboard.press("Enter")
    settle(page)
    assert "Feedback so far" in page.inner_text("body")
    page.get_by_role("button", name="Not useful", exact=True).first.click()
    page.get_by_text("the rule now fires from").first.wait_for(timeout=60_000)
    settle(page)
    body = page.inner_text("body")
    assert "What your feedback changed" in body and "kept quiet by your feedback" in body
    assert page.get_by_role("button", name="Undo").count() >= 1
    page.get_by_text("What your feedback changed").scroll_into_view_if_needed()
    shoot(page, "alerts-feedback", height=900)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_model_health_and_drift_drilldown(page, server):
    visit(page, server, "health?model=flights")
    assert page.get_by_text("Quality over time").count()
    page.get_by_role("tab", name="What drives it").click()
    settle(page)
    assert page.get_by_text("What drives the model's answers").is_visible()
    shoot(page, "health-drivers", height=1000)
    page.get_by_role("tab", name="Quality over time").click()
    settle(page)
    shoot(page, "health", height=1100)
    page.get_by_role("tab", name="Drift").click()
    settle(page)
    assert page.get_by_text("How far each input moved from training").count()
    shoot(page, "health-drift", height=1700)


def test_business_kpis(page, server):
    visit(page, server, "kpis?model=churn")
    assert page.get_by_text("Monthly revenue at risk").count()
    shoot(page, "kpis", height=1300)


def test_business_analysis(page, server):
    visit(page, server, "analysis?model=churn")
    body = page.inner_text("body")
    assert "Worth a look first" in body and "splits customers most" in body
    assert "too few rows" in body or "add up to the model's own totals" in body
    shoot(page, "analysis", height=1500)
    page.get_by_role("tab", name="Customers by the month they signed up").click()
    settle(page)
    assert page.get_by_text("Month they signed up").count()
    shoot(page, "analysis-months", height=1500)
    page.get_by_role("tab", name="What changed").click()
    settle(page)
    body = page.inner_text("body")
    assert "moved most" in body or "enough known outcomes" in body
    shoot(page, "analysis-changed", height=900)


def test_compare_versions_and_promote(page, server):
    visit(page, server, "compare?model=hotel")
    body = page.inner_text("body")
    assert "did better than" in body and "95% interval" in body
    shoot(page, "compare", height=1400)
    page.get_by_label("Your name or email").fill(ACTOR)
    page.get_by_label("Why (optional)").fill("lower pricing error on the same traffic")
    page.get_by_role("button", name="Make it live", exact=True).click()
    page.get_by_text("is now live for Hotel room price").wait_for(timeout=60_000)


def test_download_the_board_report(page, server, tmp_path):
    visit(page, server, "report?model=churn")
    page.get_by_role("button", name="Build the report", exact=True).click()
    button = page.get_by_role("button", name="Download the board report (HTML)")
    button.wait_for(timeout=120_000)
    settle(page)
    shoot(page, "report", height=1400)
    page.set_viewport_size({"width": 1366, "height": 768})
    with page.expect_download(timeout=60_000) as info:
        button.click()
    target = tmp_path / "report.html"
    info.value.save_as(target)
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Customer churn" in html
    assert "Open alerts" in html and "What to do" in html
    assert "<script" not in html and "<link" not in html  # no script at all, nothing fetched from a CDN
    assert html.count("<svg") >= 2  # charts drawn inside
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download the board report (PDF)").click()
    target = tmp_path / "report.pdf"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF-") and info.value.suggested_filename == "churn-board-report.pdf"


def test_a_running_service_sends_data_through_the_inbox(server):
    """The app holds the store, so a service drops a file into the inbox; the app imports it."""
    from tests.conftest import churn_batch

    inbox = server.root / "inbox" / "churn"
    inbox.mkdir(parents=True, exist_ok=True)
    batch = churn_batch(30)
    tmp = inbox / "from-service.csv.tmp"
    batch.to_csv(tmp, index=False)
    tmp.rename(inbox / "from-service.csv")  # written whole, then renamed
    deadline = time.time() + 90
    while time.time() < deadline and not list((inbox / "done").glob("*from-service.csv")):
        time.sleep(1)
    assert list((inbox / "done").glob("*from-service.csv")), list(inbox.rglob("*"))
    assert not (inbox / "failed").exists() or not any((inbox / "failed").iterdir())


def test_actions_were_stored(server):
    """Stop the server (it holds the file) and read back what the browser did."""
    server.stop()
    with Store.open(server.db, read_only=True) as store:
        events = store.query_df("SELECT event, actor FROM alert_events WHERE actor = ?", [ACTOR])
        assert list(events["event"]) == ["acknowledged"]
        assert store.live_version("hotel").version == 2
        assert store.promotions("hotel").iloc[0]["promoted_by"] == ACTOR
        from tests.conftest import churn_batch

        ids = list(churn_batch(30)["customer_id"])
        assert store.known_entities(model="churn", ids=ids) == set(ids)  # imported by the app from the inbox
