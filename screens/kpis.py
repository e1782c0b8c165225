"""Business KPIs: the numbers the founder watches, on the same time axis as the model's quality."""

from __future__ import annotations

import streamlit as st

from core.business.settings import update_business
from core.errors import ModelPulseError
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.views.charts import kpi_chart
from core.views.kpis import kpis_for
from core.wording import format_value
from ui import data
from ui.state import change
from ui.state import clear_caches
from ui.state import guard
from ui.state import may
from ui.state import require_models
from ui.widgets import model_picker

guard()
st.title("Business KPIs")
store, db, specs = require_models()

c1, c2 = st.columns([3, 2])
with c1:
    spec = model_picker(specs)
periods = ["window", "month", "quarter"] if spec.window != "month" else ["month", "quarter"]
period = c2.radio(
    "Group by",
    periods,
    horizontal=True,
    format_func=lambda p: f"{spec.window} (monitoring window)" if p == "window" else p,
    help="Longer periods add up the rows inside them; they never average weekly ratios.",
)
versions = data.versions(db, spec.name)
live = next((v.version for v in versions if v.is_live), None)
if live is None:
    st.info(f"{spec.title} has no live version yet.")
    st.stop()
series = data.kpis(db, spec.name, live, period)
if series.empty:
    st.info("No monitored traffic yet. KPIs appear once predictions are stored and monitoring has run.")
    st.stop()

b = spec.business
if st.session_state.pop("kpi_saved", None) == spec.name:
    st.success("Saved. The KPIs below use the new money values.")
kpis = kpis_for(spec)
metric = PRIMARY[spec.task]
full = series[series["complete"]] if series["complete"].any() else series
cols = st.columns(len(kpis[:4]) + 1)
for col, k in zip(cols, kpis[:4], strict=False):
    last, prev = full[k.key].iloc[-1], (full[k.key].iloc[-2] if len(full) > 1 else None)
    delta = None
    if prev not in (None, 0) and prev == prev and last == last:
        delta = f"{(last - prev) / abs(prev):+.0%}"
    color = "off" if k.higher_is_better is None else ("normal" if k.higher_is_better else "inverse")
    col.metric(k.label, format_value(k.unit, last, b.currency), delta=delta, delta_color=color, help=k.help)
cols[-1].metric(METRICS[metric].label, format_value("score", full[metric].iloc[-1]), help=METRICS[metric].explain)
unit = period if period != "window" else spec.window
st.caption(
    f"Latest full {unit}, starting {full['period'].iloc[-1]:%-d %b %Y}; change against the one before. "
    f"A hollow point is a {unit} still filling up."
)

st.plotly_chart(kpi_chart(series, kpis=kpis, metric=metric, currency=b.currency), width="stretch")
st.caption(
    "Money on the left axis, counts and shares on the right; the model's quality below on the same dates, "
    "so you can see when one moves the other."
)
if b.assumption:
    st.caption(f"**Money assumption:** {b.assumption}")

table = series[["period", *dict.fromkeys([*(k.key for k in kpis), metric, "n", "n_labelled"])]].copy()
table = table.rename(
    columns={
        **{k.key: k.label for k in kpis},
        metric: METRICS[metric].label,
        "n": "predictions",
        "n_labelled": "outcomes in",
    }
)
with st.expander("The numbers behind the chart"):
    st.dataframe(table, hide_index=True, width="stretch")

if may("money.edit"):
    with st.expander("Edit KPI definitions and money values", icon=":material/edit:"):
        with st.form("money"):
            currency = st.text_input("Currency symbol", value=b.currency, max_chars=4)
            value_per_positive, retention = b.value_per_positive, b.retention_rate
            if spec.task == "binary":
                value_per_positive = st.number_input(
                    f"Money per {b.positive.removesuffix('s')} (when no column gives it)",
                    min_value=0.0,
                    value=float(b.value_per_positive),
                    step=50.0,
                )
                retention = st.slider(
                    "Share of flagged cases you can save",
                    0.0,
                    1.0,
                    float(b.retention_rate),
                    0.05,
                    help="Used for 'saved': flagged cases who would have left, times this share.",
                )
            assumption = st.text_area("Assumption shown with the numbers", value=b.assumption)
            if st.form_submit_button("Save"):
                try:
                    change(
                        "money.edit",
                        lambda: update_business(
                            store,
                            model=spec.name,
                            currency=currency,
                            value_per_positive=value_per_positive,
                            retention_rate=retention,
                            assumption=assumption,
                        ),
                        model=spec.name,
                        detail=f"currency {currency}, value per case {value_per_positive}, saved share {retention}",
                    )
                except ModelPulseError as exc:
                    st.error(exc.user_message)
                else:
                    clear_caches()
                    st.session_state["kpi_saved"] = spec.name
                    st.rerun()
