"""Board report: one page per model, downloadable, readable offline."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from ui import data
from ui.state import guard
from ui.state import require_models
from ui.widgets import model_picker

guard()
st.title("Board report")
store, db, specs = require_models()
spec = model_picker(specs)
st.markdown(
    "A one-page summary for people who will never open this app: health, open alerts, the business numbers by "
    "month with charts, and what to do. It is a single HTML file with the charts inside, so it opens offline and "
    "can be attached to an email or printed."
)
if st.button("Build the report", type="primary", key="build") or st.session_state.get("report_for") == spec.name:
    st.session_state["report_for"] = spec.name
    with st.status("Building the report...", expanded=False) as status:
        html = data.report_html(db, spec.name)
        status.update(label=f"Report ready ({len(html) / 1e6:.1f} MB, charts included)", state="complete")
    st.download_button(
        "Download the board report (HTML)",
        data=html,
        file_name=f"{spec.name}-board-report.html",
        mime="text/html",
        type="primary",
        icon=":material/download:",
    )
    with st.expander("Preview", expanded=True):
        components.html(html, height=1100, scrolling=True)
