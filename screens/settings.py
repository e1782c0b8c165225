"""Settings: where alerts go, when each model is monitored, quiet periods, what was sent, and the digest."""

from __future__ import annotations

from datetime import datetime
from datetime import time as dtime
from datetime import timedelta

import streamlit as st

from core.config import CHANNEL_FORMATS
from core.config import SEVERITIES
from core.config import make_channel
from core.errors import ModelPulseError
from core.notify import all_channels
from core.notify import digest_message
from core.notify import new_channel_id
from core.notify import send_test
from core.schedule import describe
from core.schedule import preset
from core.schedule import set_schedule
from ui.state import actor
from ui.state import actor_field
from ui.state import change
from ui.state import clear_caches
from ui.state import guard
from ui.state import require_models
from ui.state import scheduler_status
from ui.state import settings

guard()
st.title("Settings")
store, db, specs = require_models(empty="No models yet: add one before choosing where its alerts go.")
cfg = settings()
titles = {s.name: s.title for s in specs}
actor_field("settings_actor", "Your name or email (recorded with what you change)")


def _who() -> str:
    """Who is changing something, read when they click (a callback sees the previous run's variables)."""
    return actor("settings_actor")


def _done(message: str) -> None:
    st.session_state["settings_done"] = message
    clear_caches()


def _guarded(fn, action: str = "delivery.edit", detail: str | None = None) -> None:
    """Make a change as this session's identity; a problem a person can fix is shown as its sentence."""
    try:
        if not _who():
            raise ModelPulseError("Say who you are (a name or email) before changing settings.")
        _done(change(action, fn, detail=detail))
    except ModelPulseError as exc:
        st.session_state["settings_error"] = exc.user_message


if msg := st.session_state.pop("settings_error", None):
    st.error(msg)
if msg := st.session_state.pop("settings_done", None):
    st.success(msg)

st.caption(scheduler_status(store, cfg))
channels_tab, schedules_tab, quiet_tab, sent_tab, digest_tab, kept_tab = st.tabs(
    ["Channels", "Schedules", "Quiet periods", "Deliveries", "Weekly digest", "Data kept"]
)

with channels_tab:
    st.markdown(
        "Each new, reopened or worse alert is sent once to every channel that wants its severity; alerts of one "
        "model found in one run arrive as one message."
    )
    channels = all_channels(store, cfg)
    if not channels:
        st.info("No channels yet: add one below, or write them in `.streamlit/secrets.toml`.")
    for c in channels:
        with st.container(border=True):
            wants = f"{c.min_severity} and up" + (", says when resolved" if c.send_resolved else "")
            wants += ", weekly digest" if c.digest else ""
            kind = "Email" if c.kind == "email" else f"Webhook ({c.format})"
            st.markdown(f"**{c.name}** · {kind} · {c.shown_target}  \n{wants}")
            b1, b2, _ = st.columns([1, 1, 3])

            def _test(channel=c) -> str:
                return send_test(store=store, settings=cfg, channel=channel)

            b1.button(
                "Send a test message", key=f"test-{c.id}", on_click=_guarded, args=(_test, "delivery.test", c.name)
            )
            if c.source == "secrets":
                b2.caption("Set in secrets.toml")
            else:

                def _remove(channel=c) -> str:
                    store.delete_channel(channel.id)
                    return f"Channel {channel.name!r} removed."

                b2.button("Remove", key=f"rm-{c.id}", on_click=_guarded, args=(_remove,))
    with st.form("add_channel", clear_on_submit=True):
        st.markdown("**Add a channel**")
        f1, f2 = st.columns(2)
        name = f1.text_input("Name", placeholder="Founders", key="ch_name")
        kind = f2.selectbox(
            "Kind", list(CHANNEL_FORMATS), format_func={"email": "Email", "webhook": "Webhook"}.get, key="ch_kind"
        )
        target = st.text_input("Email addresses (comma-separated) or webhook URL", key="ch_target")
        f3, f4 = st.columns(2)
        fmt = f3.selectbox("Webhook format", ["slack", "teams", "json"], help="Ignored for email.", key="ch_format")
        lowest = f4.selectbox("Lowest severity sent", SEVERITIES, key="ch_severity")
        resolved = st.checkbox("Also say when an alert is back to normal", value=True)
        weekly = st.checkbox("Also send the weekly digest", value=True)
        if st.form_submit_button("Add channel", key="ch_add"):

            def _add() -> str:
                channel = make_channel(
                    id=new_channel_id(name, kind),
                    name=name,
                    kind=kind,
                    target=target,
                    format=fmt if kind == "webhook" else None,
                    min_severity=lowest,
                    send_resolved=resolved,
                    digest=weekly,
                )
                store.save_channel(channel, by=_who())
                return f"Channel {channel.name!r} added."

            _guarded(_add)
            st.rerun()

with schedules_tab:
    st.markdown(
        f"Monitoring always runs when data arrives. A schedule also runs it at set times ({cfg.delivery.timezone}), "
        "so alerts go out even when nobody opens the app."
    )
    current = store.schedules()
    for spec in specs:
        with st.container(border=True):
            line = current.get(spec.name, (None, None))[0]
            st.markdown(f"**{spec.title}**: " + (f"monitored {describe(line)}" if line else "no schedule"))
            c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
            fields = (line or "").split()
            now_every = (
                "off" if not line else "hourly" if fields[1] == "*" else "daily" if fields[4] == "*" else "weekly"
            )
            choices = ["off", "hourly", "daily", "weekly"]
            c1.selectbox("Every", choices, index=choices.index(now_every), key=f"every-{spec.name}")
            c2.time_input("At", value=dtime(7, 0), key=f"at-{spec.name}", step=900)
            day = c3.selectbox(
                "Day (weekly)", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], key=f"day-{spec.name}"
            )

            def _schedule(model=spec.name) -> str:
                # read the widgets at click time: a callback's arguments are those of the previous run
                every, at, day = (st.session_state[f"{k}-{model}"] for k in ("every", "at", "day"))
                cron = None if every == "off" else preset(every, at=f"{at:%H:%M}", day=day)
                return set_schedule(store=store, settings=cfg, model=model, cron=cron, by=_who())

            c4.button("Save", key=f"save-{spec.name}", on_click=_guarded, args=(_schedule,))
    runs = store.list_runs(limit=20)
    if not runs.empty:
        st.markdown("**Recent scheduled runs**")
        st.dataframe(runs, hide_index=True, width="stretch")

with quiet_tab:
    st.markdown("A muted model still raises alerts in the app; nothing about it is sent until the date.")
    mutes = store.list_mutes()
    active = mutes[mutes["until"] > datetime.now()] if not mutes.empty else mutes
    for m in active.to_dict("records"):
        c1, c2 = st.columns([4, 1])
        reason = f" ({m['reason']})" if m["reason"] else ""
        name = titles.get(m["model"], m["model"])
        c1.markdown(f"**{name}** muted until {m['until']:%d %b %Y %H:%M} by {m['muted_by']}{reason}")

        def _unmute(model=m["model"]) -> str:
            store.unmute_model(model)
            return f"Messages about {titles.get(model, model)} go out again."

        c2.button("Unmute", key=f"unmute-{m['model']}", on_click=_guarded, args=(_unmute,))
    with st.form("mute"):
        q1, q2 = st.columns(2)
        model = q1.selectbox("Model", list(titles), format_func=titles.get, key="mute_model")
        until = q2.date_input("Until", value=datetime.now().date() + timedelta(days=7), key="mute_until")
        reason = st.text_input(
            "Why (optional)", placeholder="Launch week: we know the traffic looks odd", key="mute_reason"
        )
        if st.form_submit_button("Mute", key="mute_go"):

            def _mute() -> str:
                end = datetime.combine(until, dtime(0, 0))
                if end <= datetime.now():
                    raise ModelPulseError("Pick a date after today.")
                store.mute_model(model=model, until=end, by=_who(), reason=reason or None)
                return f"No messages about {titles[model]} until {end:%d %b %Y}."

            _guarded(_mute)
            st.rerun()

with sent_tab:
    sent = store.list_deliveries(limit=50)
    if sent.empty:
        st.info("Nothing sent yet. Messages appear here when an alert opens, comes back or gets worse.")
    else:
        shown = sent.rename(
            columns={"created_at": "owed at", "channel_name": "channel", "recipient": "to", "last_error": "problem"}
        )
        st.dataframe(
            shown[["owed at", "status", "to", "subject", "attempts", "problem", "sent_at", "channel", "kind", "model"]],
            hide_index=True,
            width="stretch",
        )
        failed = sent[sent["status"] == "failed"]
        for row in failed.head(5).to_dict("records"):

            def _retry(mid=row["id"]) -> str:
                store.retry_message(mid, now=datetime.now())
                return "It will be sent again within a minute."

            st.button(f"Send again: {row['subject'][:60]}", key=f"retry-{row['id']}", on_click=_guarded, args=(_retry,))

with digest_tab:
    st.markdown(
        "Every Monday morning each digest channel gets this: every model's health, the week's alerts and the business "
        "numbers. Here is exactly what it would say now."
    )
    preview = digest_message(store, cfg)
    st.markdown(f"**Subject:** {preview.subject}")
    st.html(preview.html)

with kept_tab:
    st.markdown(
        "How long each model's rows and outcomes are kept. Older ones are deleted at the next monitoring run; "
        "the monitoring results, daily business numbers and alerts of those weeks and months are kept. Admins only."
    )
    for spec in specs:
        days = store.retention.retention_days(spec.name)
        c1, c2, c3 = st.columns([3, 2, 1])
        c1.markdown(f"**{spec.title}**: " + (f"rows kept {days} days" if days else "everything kept"))
        c2.number_input(
            "Days (0 keeps everything)", min_value=0, max_value=36500, value=days or 0, key=f"keep-{spec.name}"
        )

        def _keep(model=spec.name) -> str:
            n = int(st.session_state[f"keep-{model}"])
            store.retention.set_retention(model=model, days=n or None, by=_who())
            return f"{titles[model]} keeps " + (f"{n} days of rows and outcomes." if n else "everything.")

        c3.button("Save", key=f"keep-save-{spec.name}", on_click=_guarded, args=(_keep, "model.retention"))
