"""OIDC sign-in through Streamlit's st.login, end to end: a real OpenID Connect provider (oidc-provider-mock)
on loopback serves discovery, authorize and token; chromium goes the whole round trip; the configured role
mapping decides what each person may do, and someone no list names is refused."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.test_browser import Server
from tests.browser.test_browser import browser  # noqa: F401 - shared fixture
from tests.browser.test_browser import free_port
from tests.browser.test_browser import settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider():
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread(port=free_port()) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def served(demo_settings, tmp_path_factory, provider):
    root = tmp_path_factory.mktemp("oidc")
    shutil.copy(demo_settings.db_path, root / "modelpulse.duckdb")
    shutil.copytree(demo_settings.models_dir, root / "models")
    port = free_port()
    secrets = root / "secrets.toml"
    secrets.write_text(
        f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{"c" * 40}"
client_id = "modelpulse"
client_secret = "not-a-real-secret-{port}"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[modelpulse.roles]
admins = ["maya@startup.com"]
editors = ["@startup.com"]
viewers = ["@investor.vc"]
""",
        encoding="utf-8",
    )
    srv = Server(root, root / "streamlit.log", port=port, MODELPULSE_SECRETS=str(secrets), MODELPULSE_SCHEDULER="off")
    yield srv
    srv.stop()


def _login(browser, served, email: str):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = ctx.new_page()
    pg.goto(f"{served.url}/overview")
    settle(pg)
    body = pg.inner_text("body")
    assert "Customer churn" not in body and "Sign in with your company account" in body
    try:
        pg.get_by_role("button", name="Sign in").click(timeout=15_000)
    except Exception:
        pg.screenshot(path="/tmp/oidc-debug.png")
        open("/tmp/oidc-debug.html", "w").write(pg.content())
        raise
    pg.wait_for_selector("input[name='sub']", timeout=60_000)  # the provider's own authorize page
    pg.fill("input[name='sub']", email)
    pg.locator("button[type='submit'], input[type='submit']").first.click()
    pg.wait_for_url(f"{served.url}/**", timeout=60_000)
    settle(pg)
    return ctx, pg


def test_st_login_round_trip_maps_roles_and_survives_a_reload(browser, served):  # noqa: F811
    ctx, pg = _login(browser, served, "sam@startup.com")
    body = pg.inner_text("body")
    assert "Signed in as sam@startup.com (editor)" in body and "Customer churn" in body
    nav = pg.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Settings" in nav and "People and audit" not in nav  # an editor, not an admin
    pg.reload()
    settle(pg)
    assert "Signed in as sam@startup.com (editor)" in pg.inner_text("body")
    ctx.close()
    ctx, pg = _login(browser, served, "pat@investor.vc")
    assert "Signed in as pat@investor.vc (viewer)" in pg.inner_text("body")
    nav = pg.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Settings" not in nav and "Bring your own data" not in nav
    ctx.close()


def test_someone_no_list_names_is_refused(browser, served):  # noqa: F811
    ctx, pg = _login(browser, served, "eve@elsewhere.com")
    body = pg.inner_text("body")
    assert "Customer churn" not in body
    assert "eve@elsewhere.com has no role in this ModelPulse" in body
    ctx.close()
