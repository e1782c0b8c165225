"""Alerts: filter, read, acknowledge or resolve with a comment, see each alert's history, say whether it was
useful, and see (and undo) what that feedback changed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.alerts import RULES
from core.alerts.feedback import POLICY
from core.alerts.feedback import FeedbackOutcome
from core.alerts.feedback import give_feedback
from core.alerts.feedback import revert_adjustment
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


def _feedback(alert_id: str, useful: bool, model: str) -> None:
    why = str(st.session_state.get(f"why-{alert_id}", "")).strip()
    said = "useful" if useful else "not useful"
    try:
        done = change(
            "alert.feedback",
            lambda: give_feedback(store, alert_id=alert_id, useful=useful, actor=actor("actor"), reason=why),
            model=model,
            detail=f"{alert_id}: {said}" + (f" ({why})" if why else ""),
        )
    except ModelPulseError as exc:
        st.session_state["alert_error"] = exc.user_message
        return
    st.session_state["alert_done"] = _feedback_words(done)
    clear_caches()


def _feedback_words(done: FeedbackOutcome) -> str:
    if done.adjustment_id is not None:
        return (
            f"Thanks. For this model the rule now fires from {done.new_line:.3g} instead of {done.old_line:.3g}, "
            "from the next monitoring run."
        )
    if done.old_line is not None and done.rule in RULES and RULES[done.rule].severity == "critical":
        return "Thanks, recorded. Critical alerts keep their line whatever is said, so this one still fires."
    return "Thanks, recorded. The rule's line is already as far as feedback may move it."


def _undo(adjustment_id: str, model: str) -> None:
    try:
        change(
            "alert.feedback",
            lambda: revert_adjustment(store, adjustment_id=adjustment_id, actor=actor("actor")),
            model=model,
            detail=f"undid line change {adjustment_id}",
        )
    except ModelPulseError as exc:
        st.session_state["alert_error"] = exc.user_message
        return
    st.session_state["alert_done"] = "Undone: the rule is back at its line from before, from the next monitoring run."
    clear_caches()


if msg := st.session_state.pop("alert_error", None):
    st.error(msg)
if msg := st.session_state.pop("alert_done", None):
    st.success(msg)

shown_model = None if model == "all" else model
votes = store.alert_feedback(model=shown_model)
tally = votes.groupby("alert_id")["useful"].agg(["sum", "count"]) if not votes.empty else pd.DataFrame()
for alert in frame.to_dict("records"):
    with st.container(border=True):
        if alert["id"] == linked:
            st.caption(":material/link: The alert from your message")
        st.markdown(f"**{alert['title']}** {SEVERITY.get(alert['severity'], '')} {STATE.get(alert['state'], '')}")
        st.markdown(f"{alert['what']}  \n{alert['cost']}  \n**Next:** {alert['action']}")
        if pd.notna(alert["first_window"]):
            span = f"{pd.Timestamp(alert['first_window']):%-d %b %Y} to {pd.Timestamp(alert['last_window']):%-d %b %Y}"
            st.caption(f"{titles.get(alert['model'], alert['model'])} · seen in {alert['windows']} window(s), {span}")
        useful = int(tally.loc[alert["id"], "sum"]) if alert["id"] in tally.index else 0
        given = int(tally.loc[alert["id"], "count"]) if alert["id"] in tally.index else 0
        st.caption(f"Feedback so far: {useful} useful, {given - useful} not useful")
        if may("alert.feedback"):
            w1, w2, w3 = st.columns([4, 1, 1])
            w1.text_input(
                "Why (optional)",
                key=f"why-{alert['id']}",
                placeholder="Why? (optional)",
                label_visibility="collapsed",
            )
            about = (alert["id"], alert["model"])
            w2.button("Useful", key=f"useful-{alert['id']}", on_click=_feedback, args=(about[0], True, about[1]))
            w3.button("Not useful", key=f"useless-{alert['id']}", on_click=_feedback, args=(about[0], False, about[1]))
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

st.subheader("What your feedback changed")
st.caption(POLICY.words() + " A moved line takes effect at the next monitoring run.")
moved = store.rule_adjustments(model=shown_model, active=True)
moved = moved[moved["model"].isin(titles)]
if moved.empty:
    st.info("Feedback has not moved any rule's line.")
for row in moved.sort_values("made_at", ascending=False).itertuples():
    with st.container(border=True):
        c1, c2 = st.columns([6, 1])
        rule_title = RULES[row.rule].title if row.rule in RULES else row.rule
        c1.markdown(
            f"**{titles[row.model]}: {rule_title}** now fires from {row.new_threshold:.3g} "
            f"(was {row.old_threshold:.3g})  \nWhy: {row.reason}"
        )
        c1.caption(f"{row.actor}, {pd.Timestamp(row.made_at):%-d %b %Y %H:%M}")
        if may("alert.feedback"):
            c2.button("Undo", key=f"undo-{row.id}", on_click=_undo, args=(row.id, row.model))
quiet = store.silenced_alerts(model=shown_model)
quiet = quiet[quiet["model"].isin(titles)]
st.markdown(f"**{len(quiet)} alert{'s' if len(quiet) != 1 else ''} kept quiet by your feedback**")
st.caption("One for each window in which the usual line would have fired but the moved line did not.")
if not quiet.empty:
    with st.expander("What they would have said"):
        for q in quiet.itertuples():
            st.markdown(
                f"**{q.title}**  \n{q.what}  \nMeasured {q.measure:.3g}: the usual line {q.default_threshold:.3g}, "
                f"moved to {q.used_threshold:.3g}."
            )
