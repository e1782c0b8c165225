"""Alerts: filter, read, acknowledge or resolve with a comment, and see each alert's history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import ModelPulseError
from ui import data
from ui.state import actor
from ui.state import actor_field
from ui.state import change
from ui.state import clear_caches
from ui.state import guard
from ui.state import may
from ui.state import require_models
from ui.widgets import SEVERITY
from ui.widgets import STATE

guard()
st.title("Alerts")
store, db, specs = require_models(empty="No models yet, so no alerts. Load the demo or bring your own data first.")
titles = {s.name: s.title for s in specs}

f1, f2, f3 = st.columns([2, 2, 3])
wanted = st.query_params.get("model")
options = ["all", *titles]
model = f1.selectbox(
    "Model",
    options,
    index=options.index(wanted) if wanted in options else 0,
    format_func=lambda n: "All models" if n == "all" else titles[n],
)
severity = f2.multiselect(
    "Severity",
    ["critical", "warning"],
    default=["critical", "warning"],
    help="Critical: the model's results are hurting the business now. Warning: worth a look.",
)
states = f3.multiselect(
    "State",
    ["open", "acknowledged", "resolved"],
    default=["open", "acknowledged"],
    help="Open: nobody has looked yet. Acknowledged: someone is on it. Resolved: back to normal.",
)
if model != "all":
    st.query_params["model"] = model
elif "model" in st.query_params:
    del st.query_params["model"]

frame = data.alerts(db, None if model == "all" else model, None, None)
frame = frame[frame["model"].isin(titles)] if not frame.empty else frame  # only the models this visitor may see
# a link from an email or chat message (?alert=ID) shows that alert first, whatever the filters say
linked = st.query_params.get("alert")
pinned = frame[frame["id"] == linked] if linked and not frame.empty else frame.iloc[0:0]
if linked and pinned.empty:
    st.warning("The alert in this link no longer exists (its model may have been removed).")
if not frame.empty:
    frame = frame[frame["severity"].isin(severity) & frame["state"].isin(states)]
    frame = frame.sort_values(
        ["state", "severity", "updated_at"],
        ascending=[False, True, False],
        key=lambda s: s.map({"open": 2, "acknowledged": 1, "resolved": 0}) if s.name == "state" else s,
    )
    frame = pd.concat([pinned, frame[frame["id"] != linked]]) if not pinned.empty else frame
actor_field("actor")
st.caption(f"{len(frame)} alert{'s' if len(frame) != 1 else ''} shown.")
if frame.empty:
    st.success("No alerts match these filters.")


def _change(alert_id: str, state: str, comment: str, model: str) -> None:
    try:
        change(
            "alert.change",
            lambda: store.set_alert_state(alert_id=alert_id, state=state, actor=actor("actor"), comment=comment),
            model=model,
            detail=f"{alert_id} -> {state}" + (f": {comment}" if comment else ""),
        )
    except ModelPulseError as exc:
        st.session_state["alert_error"] = exc.user_message
        return
    st.session_state["alert_done"] = f"Alert marked {state}."
    clear_caches()


if msg := st.session_state.pop("alert_error", None):
    st.error(msg)
if msg := st.session_state.pop("alert_done", None):
    st.success(msg)

for alert in frame.to_dict("records"):
    with st.container(border=True):
        if alert["id"] == linked:
            st.caption(":material/link: The alert from your message")
        st.markdown(f"**{alert['title']}** {SEVERITY.get(alert['severity'], '')} {STATE.get(alert['state'], '')}")
        st.markdown(f"{alert['what']}  \n{alert['cost']}  \n**Next:** {alert['action']}")
        if pd.notna(alert["first_window"]):
            span = f"{pd.Timestamp(alert['first_window']):%-d %b %Y} to {pd.Timestamp(alert['last_window']):%-d %b %Y}"
            st.caption(f"{titles.get(alert['model'], alert['model'])} · seen in {alert['windows']} window(s), {span}")
        with st.expander("Act on it, or see its history" if may("alert.change") else "See its history"):
            if may("alert.change"):
                comment = st.text_input("Comment (optional)", key=f"comment-{alert['id']}")
                b1, b2, b3 = st.columns(3)
                args = (alert["id"], "acknowledged", comment, alert["model"])
                if alert["state"] != "acknowledged":
                    b1.button(
                        "Acknowledge",
                        key=f"ack-{alert['id']}",
                        on_click=_change,
                        args=args,
                        disabled=alert["state"] == "resolved",
                    )
                if alert["state"] != "resolved":
                    b2.button(
                        "Resolve",
                        key=f"res-{alert['id']}",
                        on_click=_change,
                        args=(alert["id"], "resolved", comment, alert["model"]),
                    )
                else:
                    b3.button(
                        "Reopen",
                        key=f"reo-{alert['id']}",
                        on_click=_change,
                        args=(alert["id"], "open", comment, alert["model"]),
                    )
            history = data.alert_history(db, alert["id"])
            if not history.empty:
                st.dataframe(
                    history.rename(columns={"happened_at": "when", "window_start": "window"}),
                    hide_index=True,
                    width="stretch",
                )
