"""ModelPulse: the Streamlit router. Page config, the login gate, navigation, run."""

from __future__ import annotations

import hmac

import streamlit as st

from ui.state import ROUTER_FLAG
from ui.state import settings

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/monitor_heart:", url_path="overview", default=True),
    st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    st.Page("pages/health.py", title="Model health", icon=":material/query_stats:", url_path="health"),
    st.Page("pages/kpis.py", title="Business KPIs", icon=":material/payments:", url_path="kpis"),
    st.Page("pages/compare.py", title="Compare versions", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/report.py", title="Board report", icon=":material/summarize:", url_path="report"),
    st.Page("pages/upload.py", title="Bring your own data", icon=":material/upload:", url_path="upload"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
]


# Streamlit's default top padding pushes the overview's cards below the fold on a 1366x768 laptop.
COMPACT_CSS = "<style>.block-container{padding-top:2.2rem;padding-bottom:1rem}</style>"


def _password_ok(expected: str) -> bool:
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


def run() -> None:
    """Build the navigation, gate it behind the team password when one is set, and run the page."""
    st.set_page_config(page_title="ModelPulse", page_icon=":material/monitor_heart:", layout="wide")
    password = settings().password
    signed_in = not password or st.session_state.get("modelpulse_authed", False)
    # the gate sits after st.navigation so a shared deep link survives signing in
    page = st.navigation(PAGES, position="sidebar" if signed_in else "hidden")
    st.session_state[ROUTER_FLAG] = True
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)
    if password and not _password_ok(password):
        st.stop()
    page.run()


run()
