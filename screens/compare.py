"""Compare versions: same traffic, side by side, the difference with its uncertainty, and promotion."""

from __future__ import annotations

import streamlit as st

from core.errors import ModelPulseError
from core.metrics import METRICS
from core.views.charts import compare_chart
from core.views.compare import COMPARABLE
from ui import data
from ui.state import actor
from ui.state import actor_field
from ui.state import change
from ui.state import clear_caches
from ui.state import guard
from ui.state import may
from ui.state import require_models
from ui.widgets import model_picker

guard()
st.title("Compare versions")
store, db, specs = require_models()

spec = model_picker(specs)
versions = data.versions(db, spec.name)
if len(versions) < 2:
    st.info(f"{spec.title} has one version. Train another (`python -m core train --model {spec.name}`) to compare.")
    st.stop()
numbers = [v.version for v in versions]
live = next((v.version for v in versions if v.is_live), numbers[0])
other = next(n for n in numbers if n != live)
c1, c2, c3 = st.columns(3)
a = c1.selectbox(
    "Version A", numbers, index=numbers.index(live), format_func=lambda n: f"v{n}" + (" (live)" if n == live else "")
)
b = c2.selectbox(
    "Version B", numbers, index=numbers.index(other), format_func=lambda n: f"v{n}" + (" (live)" if n == live else "")
)
metrics = list(COMPARABLE[spec.task])
metric = c3.selectbox("Measure", metrics, format_func=lambda m: METRICS[m].label, help=METRICS[metrics[0]].explain)
if a == b:
    st.warning("Pick two different versions.")
    st.stop()

with st.spinner("Comparing on every window both versions scored..."):
    result = data.comparison(db, spec.name, a, b, metric)
if result.windows == 0:
    st.info(result.recommendation)
    st.stop()
info = METRICS[metric]
m1, m2, m3 = st.columns(3)
m1.metric(f"v{a}", f"{result.pooled_a:.3f}", help=f"{info.label} of v{a} over all {result.windows} {spec.window}s.")
m2.metric(
    f"v{b}",
    f"{result.pooled_b:.3f}",
    delta=f"{result.diff:+.3f}",
    delta_color="normal" if info.higher_is_better else "inverse",
    help=f"{info.label} of v{b} on the same rows.",
)
m3.metric(
    "95% interval of the difference",
    f"{result.ci_low:+.3f} to {result.ci_high:+.3f}",
    help=f"Resampling whole {spec.window}s 1,000 times: the middle 95% of the differences. If it spans 0, "
    "the data cannot tell the versions apart.",
)
{True: st.success, False: st.warning, None: st.info}[result.b_is_better](result.recommendation)
st.plotly_chart(compare_chart(result.per_window, a=a, b=b, metric=metric), width="stretch")
st.caption(f"Both versions scored exactly the same traffic: v{a if a == live else b} live, the other in the shadow.")
with st.expander(f"Per {spec.window}"):
    st.dataframe(
        result.per_window.drop(columns=["window_start"]),
        hide_index=True,
        width="stretch",
        column_config={
            "value_a": st.column_config.NumberColumn(f"v{a}", format="%.3f"),
            "value_b": st.column_config.NumberColumn(f"v{b}", format="%.3f"),
            "diff": st.column_config.NumberColumn(f"v{b} - v{a}", format="%+.3f"),
        },
    )

if may("model.promote"):
    st.subheader("Make a version live")
    with st.form("promote"):
        target = st.selectbox(
            "Version to make live",
            numbers,
            index=numbers.index(result.recommended),
            format_func=lambda n: f"v{n}" + (" (live)" if n == live else ""),
            help="Preselected: the version the comparison above supports (the live one unless the other is "
            "really better).",
        )
        actor_field("promote_actor", "Your name or email")
        note = st.text_input("Why (optional)")
        if st.form_submit_button("Make it live", type="primary"):
            try:
                change(
                    "model.promote",
                    lambda: store.set_live(model=spec.name, version=int(target), by=actor("promote_actor"), note=note),
                    model=spec.name,
                    detail=f"v{target} live" + (f": {note}" if note else ""),
                )
            except ModelPulseError as exc:
                st.error(exc.user_message)
            else:
                clear_caches()
                st.success(f"v{target} is now live for {spec.title}. Monitoring switches to it on the next run.")
else:
    st.caption("An editor can make another version live here.")
history = data.promotions(db, spec.name)
if not history.empty:
    st.caption("Who made which version live, and when")
    st.dataframe(history, hide_index=True, width="stretch")
