"""Model health: quality over time, drift down to one feature, data quality and overfitting."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.errors import ModelPulseError
from core.metrics import BY_TASK
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.modeling.yardstick import standing_warning
from core.monitoring.windows import make_window
from core.schema import ModelSpec
from core.views.charts import distribution_chart
from core.views.charts import drift_heatmap
from core.views.charts import overfitting_chart
from core.views.charts import performance_chart
from core.views.drivers import importance_chart
from core.views.drivers import measure_importance
from ui import data
from ui.state import change
from ui.state import clear_caches
from ui.state import guard
from ui.state import may
from ui.state import require_models
from ui.state import settings
from ui.widgets import glossary
from ui.widgets import model_picker
from ui.widgets import pending_notice


def evidently_download(
    *, db: str, spec: ModelSpec, version: int, windowed: pd.DataFrame, window: pd.Timestamp, label: str
) -> None:
    """'Open this window in Evidently': Evidently's own report of the window, built on the click (with a
    spinner) and kept per window, then offered as one HTML file."""
    rows = windowed[(windowed["window_start"] == window) & (windowed["check"] == "volume")]["n_rows"]
    labelled = windowed[(windowed["window_start"] == window) & (windowed["check"] == "performance")]["n_rows"]
    stamp = f"{int(rows.max()) if len(rows) else 0}-{int(labelled.max()) if len(labelled) else 0}"
    key = f"evidently-{spec.name}-{version}-{pd.Timestamp(window).date()}-{stamp}"
    if st.button(
        "Open this window in Evidently",
        key=f"{key}-build",
        help="Evidently's own report of this window (drift, then model quality) against the training data, "
        "as one HTML file that opens offline.",
    ):
        st.session_state[key] = True
    if not st.session_state.get(key):
        return
    with st.spinner("Evidently is building its report of this window..."):
        html = data.evidently_report(db, spec.name, version, str(pd.Timestamp(window)), stamp)
    st.download_button(
        f"Download Evidently's report of {label} (HTML, {len(html) / 1e6:.1f} MB)",
        data=html,
        file_name=f"evidently-{spec.name}-v{version}-{pd.Timestamp(window).date()}.html",
        mime="text/html",
        key=f"{key}-download",
        icon=":material/download:",
    )


guard()
st.title("Model health")
store, db, specs = require_models()

c1, c2 = st.columns([3, 1])
with c1:
    spec = model_picker(specs)
versions = data.versions(db, spec.name)
if not versions:
    st.info(f"{spec.title} has no version yet. Train one or import predictions first.")
    st.stop()
live = next((v.version for v in versions if v.is_live), versions[-1].version)
labels = {v.version: f"v{v.version}{' (live)' if v.is_live else ' (shadow)'}" for v in versions}
version = c2.selectbox(
    "Version",
    list(labels),
    index=list(labels).index(live),
    format_func=labels.get,
    help="The live version's answers are used; other versions score the same traffic in the shadow.",
)
results = data.results(db, spec.name, version)
st.caption(spec.description)
pending_notice(db, spec)
shortfall = standing_warning(spec, next(v.metadata for v in versions if v.version == version))
if shortfall:
    st.warning(shortfall, icon=":material/warning:")
glossary()


def drivers_section() -> None:
    """Which inputs drive the version's answers, and the latest window's change (stored ahead of time)."""
    st.subheader("What drives the model's answers")
    drivers = data.drivers(db, spec.name, version)
    if drivers.importance is not None:
        st.markdown(drivers.answers)
        st.plotly_chart(importance_chart(drivers.importance), width="stretch")
        st.caption(
            "Each bar is how much worse the model gets when that input's values are shuffled among "
            f"{drivers.importance.n_rows:,} validation rows: the more it relies on an input, the more it loses. "
            "The thin line shows how much that varied between shuffles."
        )
        if drivers.latest:
            st.markdown(f"**Latest window ({drivers.window_label}).** {drivers.latest}")
    elif not drivers.measurable:
        st.info(f"v{version} gets its answers from outside ModelPulse, so which inputs drive them cannot be measured.")
    else:
        st.info(
            f"Which inputs drive v{version}'s answers has not been measured yet. Run "
            f"`python -m core importance --model {spec.name} --version {version}`"
            + (", or measure it here (it takes seconds)." if may("model.train") else ".")
        )
        if may("model.train") and st.button("Measure it now", key=f"importance_{spec.name}_{version}"):
            with st.spinner("Shuffling each input in turn to see how much the answers change..."):
                try:
                    change(
                        "model.train",
                        lambda: measure_importance(store, spec, version, seed=settings().seed),
                        model=spec.name,
                        detail=f"measured which inputs drive v{version}",
                    )
                except ModelPulseError as exc:
                    st.error(exc.user_message)
                else:
                    clear_caches()
                    st.rerun()


if results.empty or results["window_start"].isna().all():
    st.info("No monitoring results yet for this version. Run `python -m core monitor` once predictions are stored.")
    st.stop()

windowed = results[results["window_start"].notna()]
tab_perf, tab_drift, tab_quality, tab_fit, tab_drivers = st.tabs(
    ["Quality over time", "Drift", "Data quality", "Overfitting", "What drives it"]
)
with tab_drivers:
    drivers_section()

with tab_perf:
    metrics = list(BY_TASK[spec.task])
    metric = st.selectbox(
        "Measure",
        metrics,
        index=metrics.index(PRIMARY[spec.task]),
        format_func=lambda m: METRICS[m].label,
        help="Pick the quality measure to plot.",
    )
    has_quality = windowed[
        windowed["check"].isin(["performance", "estimated_performance"])
        & (windowed["metric"] == metric)
        & windowed["value"].notna()
    ]
    if has_quality.empty:
        needed = "outcomes" if spec.task != "binary" else "outcomes (or, for an estimate, enough past outcomes)"
        st.info(
            f"No {METRICS[metric].label.lower()} to draw yet: it is measured once {needed} arrive for a window. "
            f"Send them with the upload page's *Outcomes that arrived* or `python -m core ingest FILE --model "
            f"{spec.name} --labels`."
        )
    else:
        st.plotly_chart(performance_chart(windowed, metric=metric), width="stretch")
    st.caption(
        f"{METRICS[metric].explain} The grey band is the normal range around the validation value; "
        "below the red line an alert fires. Dashed orange is estimated from the model's confidence where "
        "outcomes had not arrived, with its usual error shaded."
    )
    est = windowed[(windowed["check"] == "estimated_performance") & (windowed["metric"] == metric)]
    if not est.empty:
        last = est.iloc[-1]
        details = json.loads(last["details"]) if isinstance(last["details"], str) else {}
        st.info(f"Latest estimate: {last['message']}")
        if details.get("reasons"):
            st.caption("Why to be careful: " + " ".join(details["reasons"]))

with tab_drift:
    if spec.window == "month":
        st.caption("Each column is a month; each row an input. Darker means the input moved further from training.")
    st.plotly_chart(drift_heatmap(windowed), width="stretch")
    st.caption(
        "A dot marks a shift of 0.1 or more, which counts as drift. Pick an input and a window to compare "
        "its values with training."
    )
    drift = windowed[windowed["check"] == "drift"]
    if not drift.empty:
        d1, d2 = st.columns(2)
        feature_order = drift.groupby("column")["value"].max().sort_values(ascending=False).index.tolist()
        feature = d1.selectbox("Input", feature_order, help="Inputs sorted by their largest shift.")
        starts = sorted(drift["window_start"].unique(), reverse=True)
        wlabel = {pd.Timestamp(w): make_window(w, spec.window).label(spec.window) for w in starts}
        default = drift[drift["column"] == feature].sort_values("value", ascending=False)["window_start"].iloc[0]
        window = d2.selectbox(
            "Window",
            list(wlabel),
            index=list(wlabel).index(pd.Timestamp(default)),
            format_func=wlabel.get,
            help="Defaults to the window where this input moved most.",
        )
        row = drift[(drift["column"] == feature) & (drift["window_start"] == window)]
        if not row.empty:
            st.plotly_chart(
                distribution_chart(row.iloc[0]["details"], column=feature, window_label=wlabel[window]),
                width="stretch",
            )
            st.caption(row.iloc[0]["message"])
        evidently_download(db=db, spec=spec, version=version, windowed=windowed, window=window, label=wlabel[window])
        other = windowed[windowed["check"].isin(["prediction_drift", "target_drift"])]
        if not other.empty:
            st.markdown("**The model's answers and the real outcomes**")
            show = other[["window_start", "check", "value", "threshold", "status", "message"]].copy()
            show["check"] = show["check"].map({"prediction_drift": "answers", "target_drift": "outcomes"})
            st.dataframe(
                show.sort_values("window_start", ascending=False),
                hide_index=True,
                width="stretch",
                column_config={
                    "value": st.column_config.NumberColumn("shift", format="%.3f", help="0.1 or more counts as drift.")
                },
            )

with tab_quality:
    quality = windowed[windowed["check"] == "quality"]
    if quality.empty:
        st.info("No data-quality results for this version (quality is checked for the live version).")
    else:
        starts = sorted(quality["window_start"].unique(), reverse=True)
        wlabel = {pd.Timestamp(w): make_window(w, spec.window).label(spec.window) for w in starts}
        window = st.selectbox("Window ", list(wlabel), format_func=wlabel.get, key="quality-window")
        q = quality[(quality["window_start"] == window) & quality["column"].notna()]
        table = q.pivot_table(index="column", columns="metric", values="value", aggfunc="first").reset_index()
        worst = q.groupby("column")["status"].agg(
            lambda s: "alert" if "alert" in set(s) else "warn" if "warn" in set(s) else "ok"
        )
        table["status"] = table["column"].map(worst)
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "missing_share": st.column_config.ProgressColumn(
                    "Empty",
                    format="percent",
                    min_value=0,
                    max_value=1,
                    help="Share of rows where this input was empty.",
                ),
                "unseen_share": st.column_config.ProgressColumn(
                    "New categories",
                    format="percent",
                    min_value=0,
                    max_value=1,
                    help="Share of values never seen in training.",
                ),
                "out_of_range_share": st.column_config.ProgressColumn(
                    "Out of range",
                    format="percent",
                    min_value=0,
                    max_value=1,
                    help="Share of numbers outside the training range.",
                ),
            },
        )
        missing = quality[(quality["window_start"] == window) & (quality["metric"] == "missing_columns")]
        if not missing.empty:
            st.caption(missing.iloc[0]["message"])

with tab_fit:
    metric = PRIMARY[spec.task]
    gap = results[(results["check"] == "overfitting") & (results["metric"] == "train_validation")]
    perf = windowed[(windowed["check"] == "performance") & (windowed["metric"] == metric) & windowed["value"].notna()]
    recent = perf.tail(4)
    production = float(recent["value"].mean()) if len(recent) else None
    train = float(gap.iloc[0]["reference"]) if not gap.empty else None
    validation = (
        float(gap.iloc[0]["upper"]) if not gap.empty else (float(perf.iloc[0]["reference"]) if len(perf) else None)
    )
    st.plotly_chart(
        overfitting_chart(metric=metric, train=train, validation=validation, production=production),
        width="stretch",
    )
    st.caption(
        "A model that does much better on the data it learned from than on unseen data has learned it by "
        "heart (overfitting). Production is the mean of the last four windows with outcomes."
    )
    if not gap.empty:
        (st.warning if gap.iloc[0]["status"] in ("warn", "alert") else st.success)(gap.iloc[0]["message"])
    vp = windowed[(windowed["check"] == "overfitting") & (windowed["metric"] == "validation_production")]
    if not vp.empty:
        st.dataframe(
            vp[["window_start", "value", "status", "message"]].rename(columns={"value": "gap"}),
            hide_index=True,
            width="stretch",
            column_config={
                "gap": st.column_config.NumberColumn(
                    format="percent", help="How much worse production was than validation (negative: better)."
                )
            },
        )
