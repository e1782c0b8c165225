"""Board report: one or two pages per model, downloadable as PDF and HTML, readable offline."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from core.access import create_link
from core.errors import ModelPulseError
from ui import data
from ui.state import change
from ui.state import guard
from ui.state import may
from ui.state import require_models
from ui.state import settings
from ui.state import who
from ui.widgets import model_picker

guard()
st.title("Board report")
store, db, specs = require_models()
spec = model_picker(specs)
st.markdown(
    "A one- or two-page summary for people who will never open this app: health, open alerts, the business "
    "numbers by month with small charts, and what to do. It comes as a PDF to attach to an investor update or "
    "print, and as a single HTML file with the charts drawn inside (no script), so both open offline."
)
if st.button("Build the report", type="primary", key="build") or st.session_state.get("report_for") == spec.name:
    st.session_state["report_for"] = spec.name
    with st.status("Building the report...", expanded=False) as status:
        html, pdf = data.report_files(db, spec.name)
        status.update(
            label=f"Report ready (PDF {len(pdf) / 1e3:,.0f} kB, HTML {len(html.encode()) / 1e3:,.0f} kB)",
            state="complete",
        )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download the board report (PDF)",
        data=pdf,
        file_name=f"{spec.name}-board-report.pdf",
        mime="application/pdf",
        type="primary",
        icon=":material/picture_as_pdf:",
        key="download_pdf",
    )
    c2.download_button(
        "Download the board report (HTML)",
        data=html,
        file_name=f"{spec.name}-board-report.html",
        mime="text/html",
        icon=":material/download:",
        key="download_html",
    )
    with st.expander("Preview", expanded=True):
        components.html(html, height=1100, scrolling=True)

if may("share.create"):
    with st.expander("Share a read-only link", icon=":material/share:"):
        st.caption(
            f"Anyone with the link sees {spec.title} only (no other model, no changes, no uploads) until it expires "
            "or an admin revokes it on the People and audit page. Each opening is logged."
        )
        c1, c2 = st.columns(2)
        view = c1.radio(
            "Show",
            ["dashboard", "report"],
            format_func={"dashboard": "The overview card", "report": "This board report"}.get,
            horizontal=True,
            key="share_view",
        )
        days = c2.number_input("Days it works", min_value=1, max_value=365, value=14, key="share_days")
        if st.button("Create the link", key="share_create"):
            cfg = settings()
            try:
                token = change(
                    "share.create",
                    lambda: create_link(store, cfg.access, model=spec.name, view=view, days=int(days), by=who()),
                    model=spec.name,
                    detail=f"{view} link for {int(days)} days",
                )
            except ModelPulseError as exc:
                st.error(exc.user_message)
            else:
                st.success("Copy this link; it is shown once.")
                st.code(f"{cfg.delivery.base_url}/_mp/share/{token}", language=None)
