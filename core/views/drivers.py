"""What the Model health page says about drivers: which inputs the version relies on (a bar chart and a
sentence), and which of them drove the latest window's change (the sentence the alerts use).

Importance is read as stored (measured when the version was registered); the one way to measure it
from a page, :func:`measure_importance`, is for an editor's button.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from core.modeling.importance import record_importance
from core.modeling.registry import load_version
from core.monitoring.drivers import drivers_sentence
from core.monitoring.drivers import importance_sentence
from core.monitoring.windows import make_window
from core.results import Check
from core.schema import ModelSpec
from core.store import Store
from core.store import VersionImportance
from core.views.charts import BLUE
from core.views.charts import LAYOUT
from core.wording import human

SHOWN = 12
"""Inputs drawn in the chart; the rest matter less and would only crowd it."""


@dataclass(frozen=True)
class ModelDrivers:
    """The drivers of one version, as the page shows them."""

    importance: VersionImportance | None
    """None when the version's importance was never measured."""
    answers: str
    """What the answers depend on most, in one sentence (empty without importance)."""
    latest: str
    """Which inputs drove the latest window's change, in one sentence (empty when it cannot be said)."""
    window_label: str
    """The latest window with drift results (`week of 5 Jun 2017`), or empty."""
    measurable: bool
    """False for a version with no ModelPulse network (its answers come from outside)."""


def model_drivers(store: Store, spec: ModelSpec, version: int) -> ModelDrivers:
    """The stored importance of `version` and the drivers of its latest monitored window."""
    importance = store.read_importance(model=spec.name, version=version)
    measurable = bool(store.get_version(spec.name, version).weights_path)
    drift = store.read_results(model=spec.name, version=version, check=str(Check.DRIFT), with_details=True)
    drift = drift[(drift["scope"] == "full") & drift["window_start"].notna()]
    if drift.empty:
        return ModelDrivers(importance, importance_sentence(importance), "", "", measurable)
    last = drift["window_start"].max()
    window = drift[drift["window_start"] == last]
    label = make_window(pd.Timestamp(last), spec.window).label(spec.window)
    latest = drivers_sentence(spec=spec, window=window, importance=importance)
    return ModelDrivers(importance, importance_sentence(importance), latest, label, measurable)


def importance_chart(importance: VersionImportance) -> go.Figure:
    """Each input's share of what the inputs explain, largest on top, with how sure each number is."""
    frame = importance.frame().head(SHOWN).iloc[::-1]
    total = float(sum(max(f.importance, 0.0) for f in importance.features)) or 1.0
    fig = go.Figure(
        go.Bar(
            x=frame["share"],
            y=[human(f) for f in frame["feature"]],
            orientation="h",
            marker_color=BLUE,
            error_x=dict(type="data", array=(frame["spread"] / total).tolist(), color="#64748b", thickness=1),
            hovertemplate="%{y}: %{x:.0%} of what the inputs explain<extra></extra>",
        )
    )
    fig.update_layout(
        title="How much the model relies on each input",
        xaxis_title="Share of what the inputs explain",
        xaxis_tickformat=".0%",
        height=max(260, 30 * len(frame) + 110),
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


def measure_importance(store: Store, spec: ModelSpec, version: int, *, seed: int) -> VersionImportance:
    """Measure and store `version`'s importance now (seconds); raises a ModelPulseError in one sentence."""
    model = load_version(store, model=spec.name, version=version)
    return record_importance(store, spec=spec, model=model, version=version, seed=seed)
