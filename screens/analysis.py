"""Business analysis: the business by group (which customers, which routes, which bookings), by the month
cases started, and what changed most this period, in money. Every figure comes from stored per-group
statistics, so the page costs the same at any number of stored predictions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.metrics import METRICS
from core.views.cohorts import cohort_sentence
from core.views.cohorts import heading
from core.views.segment_charts import cohort_chart
from core.views.segment_charts import cohort_heatmap
from core.views.segment_charts import group_bars
from core.views.segment_charts import group_series_chart
from core.views.segments import QUALITY
from core.views.segments import TOO_FEW
from core.views.segments import outcome_key
from core.wording import format_value
from core.wording import human
from core.wording import upper_first
from ui import data
from ui.state import guard
from ui.state import require_models
from ui.widgets import model_picker

guard()
st.title("Business analysis")
store, db, specs = require_models()
spec = model_picker(specs)
b = spec.business
live = next((v.version for v in data.versions(db, spec.name) if v.is_live), None)
columns = data.segment_columns(db, spec.name, live) if live is not None else []
if live is None or not columns:
    st.info(
        f"{spec.title} has no groups to show yet: they are worked out when monitoring runs on its traffic. "
        "Run monitoring from Model health (or `python -m core monitor`)."
    )
    st.page_link("screens/health.py", label="Go to Model health", icon=":material/query_stats:")
    st.stop()

binary = spec.task == "binary"
key = outcome_key(spec)
outcome_label = f"Share of {b.positive}" if binary else f"Average {b.target_noun}"
quality = QUALITY[spec.task]


def shown(value: float) -> str:
    if binary:
        return format_value("share", value)
    return format_value("money" if b.target_unit == "money" else "score", value, b.currency)


by_group, by_month, changed = st.tabs(["By group", heading(spec), "What changed"])

with by_group:
    proposals = data.segment_proposals(db, spec.name, live)
    if proposals:
        st.markdown("**Worth a look first**\n\n" + "\n".join(f"- {p.sentence}" for p in proposals))
    default = proposals[0].column if proposals else columns[0]
    c1, c2 = st.columns([2, 2])
    column = c1.selectbox("Split by", columns, index=columns.index(default), format_func=human, key="seg_column")
    period = c2.radio(
        "Over time by",
        ["window", "month", "quarter"] if spec.window != "month" else ["month", "quarter"],
        horizontal=True,
        key="seg_period",
        format_func=lambda p: f"{spec.window} (monitoring window)" if p == "window" else p,
    )
    table, series = data.segments(db, spec.name, live, column, period)
    if table.empty:
        st.info(f"No traffic has been split by {human(column)} yet.")
    else:
        few = table[table["too_few"]]
        st.plotly_chart(
            group_bars(
                table,
                key=key,
                reference="reference_outcome",
                label=f"{outcome_label}, now and in validation",
                percent=binary,
            ),
            width="stretch",
        )
        view = pd.DataFrame(
            {
                upper_first(human(column)): table["segment"],
                f"{upper_first(b.entity)}s": table["n"],
                "Share of traffic": table["share"],
                "Share in validation": table.get("reference_share"),
                outcome_label: table[key].where(~table["too_few"]),
                "In validation": table.get("reference_outcome"),
                METRICS[quality].label: table[quality].where(~table["too_few"]),
                "Note": table["too_few"].map({True: f"too few rows (under {TOO_FEW} outcomes)", False: ""}),
            }
        )
        pct = st.column_config.NumberColumn(format="percent")
        st.dataframe(
            view,
            hide_index=True,
            width="stretch",
            column_config={
                "Share of traffic": pct,
                "Share in validation": pct,
                outcome_label: pct if binary else st.column_config.NumberColumn(format="%.1f"),
                "In validation": pct if binary else st.column_config.NumberColumn(format="%.1f"),
                METRICS[quality].label: st.column_config.NumberColumn(format="%.3f"),
            },
        )
        st.caption(
            f"The groups add up to the model's own totals: {int(table['n'].sum()):,} {b.entity}s, "
            f"{int(table['n_labelled'].sum()):,} with a known outcome. Rates come from counts over every "
            f"{spec.window}, never averages of {spec.window}ly rates. Values too rare to judge alone are pooled as "
            "'other values'. 'Share of traffic' against validation shows how the mix moved (drift by group)."
        )
        if len(few):
            st.caption(f"{len(few)} group(s) have too few outcomes to judge yet and are left blank.")
        st.plotly_chart(
            group_series_chart(series, key=key, label=f"{outcome_label} per {period}", percent=binary),
            width="stretch",
        )

with by_month:
    cohorts = data.cohorts(db, spec.name, live)
    if cohorts.table.empty:
        st.info("No monitored traffic yet.")
    else:
        sentence = cohort_sentence(spec, cohorts)
        if sentence:
            st.markdown(f"**{sentence}**")
        t = cohorts.table
        st.plotly_chart(
            cohort_chart(t, outcome=cohorts.outcome, outcome_label=outcome_label, percent=binary), width="stretch"
        )
        month_view = {
            f"Month they {b.time_event}": t["month"].dt.strftime("%B %Y"),
            f"{upper_first(b.entity)}s": t["n"],
            "With a known outcome": t["n_labelled"],
            outcome_label: [
                "no outcomes yet" if lab == 0 else "too few to say" if few else shown(v)
                for v, lab, few in zip(t[cohorts.outcome], t["n_labelled"], t["too_few"], strict=True)
            ],
        }
        if binary:
            month_view["The model expected"] = t["expected_rate"]
        if cohorts.money:
            money_label = (
                (f"{upper_first(b.unit)} lost" if b.kind == "revenue_at_risk" else f"Cost of {b.positive}")
                if binary
                else f"Cost of wrong {b.target_noun}s"
            )
            month_view[money_label] = t[cohorts.money].map(lambda v: format_value("money", v, b.currency))
        st.dataframe(
            pd.DataFrame(month_view),
            hide_index=True,
            width="stretch",
            column_config={
                "The model expected": st.column_config.NumberColumn(format="percent"),
            },
        )
        grid_column = st.selectbox(
            "Split each month by", columns, index=columns.index(default), format_func=human, key="cohort_column"
        )
        grid = data.cohort_grid(db, spec.name, live, grid_column)
        if not grid.empty:
            st.plotly_chart(cohort_heatmap(grid, label=outcome_label, percent=binary), width="stretch")
            st.caption("Blank cells have too few outcomes to judge.")

with changed:
    span = st.radio(
        "Compare the last two",
        [spec.window, "month"] if spec.window != "month" else ["month", "quarter"],
        horizontal=True,
        key="moved_period",
        format_func=lambda p: f"{p}s",
    )
    moved = data.movers(db, spec.name, live, span)
    if not moved:
        st.info(f"Two {span}s with enough known outcomes are needed before anything can be compared.")
    else:
        st.markdown(f"**The groups that moved most, largest money first** ({len(moved)} shown)")
        for m in moved:
            icon = ":material/trending_up:" if m.money > 0 else ":material/trending_down:"
            st.markdown(f"{icon} {m.sentence}")
        st.caption(
            "Groups overlap (a customer has a contract and a payment method), so the same change can show "
            "under two inputs; at most two groups of one input are listed."
        )
