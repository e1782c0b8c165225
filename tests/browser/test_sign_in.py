"""Sign-in with built-in accounts, roles and share links, in a real browser against `streamlit run serve.py`.

Nothing is served before signing in, on any URL; a wrong password is refused and repeated failures are
slowed; a sign-in survives a reload and a new tab and lands on the deep link asked for; sign-out ends
it on the server too; a viewer sees no control that changes anything; a share link shows one model and
nothing else, and a revoked or tampered one is refused; the audit log holds each of these.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

import pytest

from core.access import add_user
from core.access import create_link
from core.config import Access
from core.store import Store
from tests.browser.test_browser import Server
from tests.browser.test_browser import browser  # noqa: F401 - shared fixture
from tests.browser.test_browser import settle
from tests.browser.test_browser import shoot

pytestmark = pytest.mark.browser
SECRET = "s" * 40
PASSWORD = "correct horse battery"
ACCESS = Access(sign_in="accounts", cookie_secret=SECRET)
PAGES = [
    "",
    "?model=churn",
    "alerts",
    "health?model=hotel",
    "kpis",
    "compare?model=hotel",
    "report",
    "upload",
    "settings",
    "admin",
]


@pytest.fixture(scope="module")
def served(demo_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("signin")
    shutil.copy(demo_settings.db_path, root / "modelpulse.duckdb")
    shutil.copytree(demo_settings.models_dir, root / "models")
    with Store.open(root / "modelpulse.duckdb") as store:
        for email, role in (("maya@startup.com", "admin"), ("ed@startup.com", "editor"), ("vi@investor.vc", "viewer")):
            add_user(store, email=email, password=PASSWORD, role=role, by="setup")
        revoked = create_link(store, ACCESS, model="churn", view="dashboard", days=7, by="maya@startup.com")
        (first,) = store.people.list_share_links()["id"]
        store.people.revoke_share_link(str(first), by="maya@startup.com")
        good = create_link(store, ACCESS, model="churn", view="dashboard", days=7, by="maya@startup.com")
        from datetime import datetime
        from datetime import timedelta

        expired = create_link(
            store, ACCESS, model="churn", view="report", days=1, by="ed", now=datetime.now() - timedelta(days=2)
        )
        links = {"good": good, "revoked": revoked, "expired": expired}
    srv = Server(
        root,
        root / "streamlit.log",
        MODELPULSE_SIGN_IN="accounts",
        MODELPULSE_COOKIE_SECRET=SECRET,
        MODELPULSE_SCHEDULER="off",
        MODELPULSE_SECRETS=str(root / "none.toml"),
    )
    srv.links = links
    yield srv
    srv.stop()


def _context(browser):  # noqa: F811
    return browser.new_context(viewport={"width": 1366, "height": 768})


def _sign_in(pg, email: str, password: str = PASSWORD) -> None:
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password").fill(password)
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_load_state()


def test_no_page_is_served_before_signing_in(served):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:  # the overview's own name goes to the root page first
        opener.open(f"{served.url}/overview?model=churn", timeout=10)
    assert answer.value.code == 307 and answer.value.headers["Location"] == "/?model=churn"
    for path in PAGES:
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"{served.url}/{path}", timeout=10)
        assert answer.value.code == 303, path
        assert answer.value.headers["Location"].startswith("/_mp/signin?next=%2F"), path


def test_wrong_password_refused_then_slowed_and_deep_link_kept_after_sign_in(browser, served):  # noqa: F811
    ctx = _context(browser)
    pg = ctx.new_page()
    pg.goto(f"{served.url}/compare?model=hotel")
    assert "/_mp/signin" in pg.url
    body = pg.inner_text("body")
    assert "Hotel room price" not in body and "Customer churn" not in body
    for _ in range(3):
        _sign_in(pg, "ed@startup.com", "not the password")
        assert "do not match an account" in pg.inner_text("body")
    _sign_in(pg, "ed@startup.com")  # even the right password waits after three misses
    assert "Too many wrong tries: wait" in pg.inner_text("body")
    shoot(pg, "sign-in", min_bytes=8_000)  # a small form on a plain page
    pg.wait_for_timeout(2500)
    _sign_in(pg, "ed@startup.com")
    settle(pg)
    assert pg.url == f"{served.url}/compare?model=hotel"
    assert pg.get_by_text("Compare versions").count() and "Hotel room price" in pg.content()
    cookie = next(c for c in ctx.cookies() if c["name"] == "modelpulse_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["value"] not in pg.url
    pg.reload()
    settle(pg)
    assert "Signed in as ed@startup.com (editor)" in pg.inner_text("body")
    tab = ctx.new_page()
    tab.goto(f"{served.url}/alerts")
    settle(tab)
    assert "/_mp/signin" not in tab.url and "Signed in as ed@startup.com" in tab.inner_text("body")
    tab.get_by_text("Act on it, or see its history").first.click()
    assert tab.get_by_role("button", name="Acknowledge", exact=True).count() >= 1  # an editor may
    ctx.close()


def test_sign_out_ends_the_session_on_the_server_too(browser, served):  # noqa: F811
    ctx = _context(browser)
    pg = ctx.new_page()
    pg.goto(f"{served.url}/overview")
    _sign_in(pg, "maya@startup.com")
    settle(pg)
    stolen = next(c for c in ctx.cookies() if c["name"] == "modelpulse_session")
    pg.get_by_role("link", name="Sign out").click()  # stays in this tab
    pg.wait_for_url("**/_mp/signin")
    pg.goto(f"{served.url}/overview")
    assert "/_mp/signin" in pg.url
    ctx.close()
    replay = _context(browser)
    replay.add_cookies([{k: stolen[k] for k in ("name", "value", "domain", "path")}])
    pg = replay.new_page()
    pg.goto(f"{served.url}/overview")
    assert "/_mp/signin" in pg.url  # the old cookie is dead: the session was revoked, not only forgotten
    replay.close()


def test_a_viewer_sees_no_control_that_changes_anything(browser, served):  # noqa: F811
    ctx = _context(browser)
    pg = ctx.new_page()
    pg.goto(f"{served.url}/alerts")
    _sign_in(pg, "vi@investor.vc")
    settle(pg)
    nav = pg.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Alerts" in nav and "Bring your own data" not in nav and "Settings" not in nav and "People" not in nav
    pg.get_by_text("See its history").first.click()
    assert pg.get_by_role("button", name="Acknowledge", exact=True).count() == 0
    for path in ("kpis?model=churn", "compare?model=churn"):
        pg.goto(f"{served.url}/{path}")
        settle(pg)
        body = pg.inner_text("body")
        assert "Make it live" not in body and "Edit KPI definitions" not in body
    pg.goto(f"{served.url}/upload")
    settle(pg)
    assert "Upload" not in pg.locator("h1").all_inner_texts()
    shoot(pg, "viewer")
    ctx.close()


def test_a_share_link_shows_one_model_only_and_bad_links_are_refused(browser, served):  # noqa: F811
    ctx = _context(browser)
    pg = ctx.new_page()
    pg.goto(f"{served.url}/_mp/share/{served.links['good']}")
    settle(pg)
    assert pg.url.startswith(f"{served.url}/?model=churn")
    body = pg.inner_text("body")
    assert "Customer churn" in body and "Hotel room price" not in body and "Flight delays" not in body
    assert "A read-only shared view." in body
    shoot(pg, "share-link")
    for path in (
        "overview?model=hotel",
        "health?model=hotel",
        "alerts?model=hotel",
        "report?model=flights",
        "upload",
        "admin",
    ):
        pg.goto(f"{served.url}/{path}")
        settle(pg)
        body = pg.inner_text("body")
        assert "Hotel room price" not in body and "Flight delays" not in body, path
        assert "Acknowledge" not in body and "Make it live" not in body, path
    ctx.close()
    bad_links = (
        (served.links["revoked"], "turned off"),
        (served.links["expired"], "expired on"),
        (served.links["good"][:-4], "not valid"),
    )
    for token, words in bad_links:
        bad = _context(browser)
        pg = bad.new_page()
        answer = pg.goto(f"{served.url}/_mp/share/{token}")
        assert answer.status == 403 and words in pg.inner_text("body")
        pg.goto(f"{served.url}/overview")
        assert "/_mp/signin" in pg.url
        bad.close()


def test_the_audit_log_holds_sign_ins_failures_and_share_openings(served):
    served.stop()  # the server holds the store; read it once it has let go
    with Store.open(served.db, read_only=True) as store:
        log = store.audit.read(limit=1000)
    outcomes = set(zip(log["action"], log["outcome"], strict=True))
    assert {("sign-in", "wrong password"), ("sign-in", "slowed"), ("sign-in", "done"), ("sign-out", "done")} <= outcomes
    assert ("share.open", "done") in outcomes
    assert set(log[log["action"] == "sign-in"]["client"]) == {"127.0.0.1"}
    # neither the cookie secret nor any password reached the server's log or the audit log
    server_log = (served.root / "streamlit.log").read_text(encoding="utf-8")
    for secret in (SECRET, PASSWORD, "not the password"):
        assert secret not in server_log and secret not in log.to_json()
