"""ModelPulse: the Streamlit router. Page config, who is here, the pages their role opens, run.

Served by `serve.py` (sign-in routes in front); AppTest drives this file directly.
"""

from __future__ import annotations

import hmac

import streamlit as st

from core.access import VIEWS
from core.access import allowed
from core.errors import ModelPulseError
from core.errors import StoreMissingError
from core.store import Store
from ui import data
from ui import timing
from ui.auth import current_identity
from ui.auth import sign_in_screen
from ui.auth import sign_out_link
from ui.state import IDENTITY
from ui.state import OPEN_PAGES
from ui.state import ROUTER_FLAG
from ui.state import settings

FILES: dict[int, str] = {}


def _page(path: str, title: str, icon: str, url: str, **kw) -> st.Page:
    page = st.Page(path, title=title, icon=f":material/{icon}:", url_path=url, **kw)
    FILES[id(page)] = path
    return page


READ = [
    _page("screens/overview.py", "Overview", "monitor_heart", "overview", default=True),
    _page("screens/alerts.py", "Alerts", "notifications", "alerts"),
    _page("screens/health.py", "Model health", "query_stats", "health"),
    _page("screens/kpis.py", "Business KPIs", "payments", "kpis"),
    _page("screens/analysis.py", "Business analysis", "donut_small", "analysis"),
    _page("screens/compare.py", "Compare versions", "compare_arrows", "compare"),
    _page("screens/report.py", "Board report", "summarize", "report"),
]
EDIT = [
    (_page("screens/upload.py", "Bring your own data", "upload", "upload"), "data.upload"),
    (_page("screens/settings.py", "Settings", "settings", "settings"), "delivery.edit"),
    (_page("screens/admin.py", "People and audit", "admin_panel_settings", "admin"), "people.manage"),
]
PAGES = READ + [p for p, _ in EDIT]

# Streamlit's default top padding pushes the overview's cards below the fold on a 1366x768 laptop.
COMPACT_CSS = "<style>.block-container{padding-top:2.2rem;padding-bottom:1rem}</style>"


def _password_ok(expected: str) -> bool:
    """The legacy shared team password (setting `password`), for a store without accounts."""
    if st.session_state.get("modelpulse_authed"):
        return True
    st.title("ModelPulse")
    with st.form("login"):
        given = st.text_input("Team password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        # compare bytes: str with non-ASCII characters makes compare_digest raise
        if hmac.compare_digest(given.encode(), expected.encode()):
            st.session_state["modelpulse_authed"] = True
            st.rerun()
        st.error("That password is not right.")
    return False


def _store_or_none(cfg) -> Store | None:
    try:
        return data.open_store(cfg.store)
    except StoreMissingError:
        return None
    except ModelPulseError as exc:
        st.error(exc.user_message)
        st.stop()


def _pages_for(identity) -> list[st.Page]:
    if identity.via == "share":
        if identity.view == "dashboard":
            return [READ[0]]  # the overview, the root page
        return [p for p in READ if p.url_path == VIEWS[identity.view]]
    return READ + [p for p, action in EDIT if allowed(identity, action)]


def run() -> None:
    """Find who is here, build the navigation their role allows, gate it, and run the page."""
    started = timing.start()  # None unless MODELPULSE_TIMING_LOG is set
    st.set_page_config(page_title="ModelPulse", page_icon=":material/monitor_heart:", layout="wide")
    cfg = settings()
    identity = current_identity(_store_or_none(cfg), cfg)
    password = cfg.password if identity is not None and identity.via == "local" else None
    signed_in = identity is not None and (not password or st.session_state.get("modelpulse_authed", False))
    # the gate sits after st.navigation so a shared deep link survives signing in
    pages = _pages_for(identity) if identity is not None else PAGES
    page = st.navigation(pages, position="sidebar" if signed_in and len(pages) > 1 else "hidden")
    st.session_state[ROUTER_FLAG] = True
    st.session_state[IDENTITY] = identity
    st.session_state[OPEN_PAGES] = {FILES[id(p)] for p in pages}
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)
    if identity is None:
        sign_in_screen(cfg)
        st.stop()
    if password and not _password_ok(password):
        st.stop()
    sign_out_link(identity)
    with timing.timed(page, started):
        page.run()


run()
