"""Overview: is anything wrong, what does it cost, what to do. One card per model."""

from __future__ import annotations

import streamlit as st

from core.views.charts import sparkline
from core.views.overview import fleet_verdict
from ui import data
from ui.state import guard
from ui.state import identity
from ui.state import link
from ui.state import require_store
from ui.state import settings
from ui.widgets import BADGE

guard()
st.subheader("Model health overview", anchor=False)
store = require_store()
db = settings().store
cards, changes = data.health(db)
seen = [c for c in cards if identity().may_see(c.model)]  # a share link shows its one model
changes = [line for line in changes if any(line.startswith(f"**{c.title}**") for c in seen)]
cards = seen
if not cards:
    st.info("The store holds no models yet. Run `python -m core demo` for the demo, or bring your own data.")
    link("screens/upload.py", label="Upload your own data", icon=":material/upload:")
    st.stop()

tone, verdict = fleet_verdict(cards)
getattr(st, tone)(verdict)
st.caption("**What changed in the latest full window:**  \n" + "  \n".join(changes))
behind = {c.title: data.pending(db, c.model)[0] for c in cards}
if any(behind.values()):
    st.warning(
        "Monitoring is behind for "
        + ", ".join(f"{n} window{'s' if n != 1 else ''} of {title}" for title, n in behind.items() if n)
        + ": the figures below may be out of date until the next run (Model health can run it now).",
        icon=":material/update:",
    )

columns = st.columns(min(len(cards), 3))
for i, card in enumerate(cards):
    with columns[i % len(columns)].container(border=True):
        st.markdown(f"**{card.title}** {BADGE[card.status]}")
        left, right = st.columns(2)
        delta_color = "off"
        if card.kpi_delta_good is not None and card.kpi_delta:
            rising = not card.kpi_delta.startswith("-")
            delta_color = "normal" if card.kpi_delta_good == rising else "inverse"
        left.metric(
            card.kpi_label,
            card.kpi_value,
            delta=card.kpi_delta,
            delta_color=delta_color,
            help=f"{card.kpi_help} Latest full {card.window_label}.",
        )
        perf_title = f"{card.perf_label}{' (estimated)' if card.perf_is_estimate else ''}"
        right.metric(
            perf_title,
            card.perf_value,
            help=f"{card.perf_help} At validation: {card.perf_reference}; {card.perf_note}.",
        )
        st.markdown(f"{card.reason}  \n**To do:** {card.action}")
        if len(card.kpi_trend) > 2:
            st.plotly_chart(
                sparkline(card.kpi_trend, good_up=None), config={"displayModeBar": False}, key=f"spark-{card.model}"
            )
        st.caption(
            f"{card.open_alerts} open alert{'s' if card.open_alerts != 1 else ''} ({card.critical_alerts} critical) · "
            f"live v{card.live_version} · {card.predictions:,} predictions · outcomes in for {card.label_coverage:.0%}"
        )
        a, b = st.columns(2)
        with a:
            link(
                "screens/alerts.py", label="Alerts", icon=":material/notifications:", query_params={"model": card.model}
            )
        with b:
            link(
                "screens/health.py",
                label="Model health",
                icon=":material/query_stats:",
                query_params={"model": card.model},
            )
