"""Overview: every model at a glance."""

from __future__ import annotations

import streamlit as st

from ui.state import require_store

st.title("ModelPulse")
st.caption("Are the models behind the business still healthy?")
store = require_store()
specs = store.list_specs()
if not specs:
    st.info("The store holds no models yet. Run `python -m core demo` to load the demo.")
    st.stop()
for spec in specs:
    status = store.model_status(spec.name)
    with st.container(border=True):
        st.subheader(spec.title)
        st.caption(spec.description)
        cols = st.columns(4)
        cols[0].metric("Versions", ", ".join(f"v{v}" for v in status.versions), help="Saved model versions")
        cols[1].metric("Live version", f"v{status.live_version}")
        cols[2].metric("Production rows", f"{status.production_rows:,}")
        cols[3].metric("Labels arrived", f"{status.label_coverage:.0%}")
        if status.first_ts:
            st.caption(f"Traffic from {status.first_ts:%d %b %Y} to {status.last_ts:%d %b %Y}")
