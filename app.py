"""ModelPulse: the Streamlit router. Page config, the login gate, navigation, run."""

from __future__ import annotations

import hmac

import streamlit as st

from ui.state import settings

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/monitor_heart:", url_path="overview", default=True),
]


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
    page = st.navigation(PAGES)
    # the gate sits after st.navigation so a shared deep link survives signing in
    password = settings().password
    if password and not _password_ok(password):
        st.stop()
    page.run()


run()
