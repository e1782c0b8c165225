"""Cached reads for the pages, keyed on the store path and the ids and dates asked for.

Each function opens nothing itself: it borrows the shared store from `ui.state` and returns plain
data (frames, dataclasses), which `st.cache_data` copies per session. Writes made from the app call
`ui.state.clear_caches()` so the next read sees them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.compare import VersionComparison
from core.compare import compare_versions
from core.health import HealthCard
from core.health import model_health
from core.health import what_changed
from core.kpis import kpi_series
from core.report import board_report
from core.schema import ModelSpec
from core.store import VersionInfo
from ui.state import _open_store

TTL = 60


@st.cache_data(ttl=TTL, show_spinner=False)
def specs(db: str) -> list[ModelSpec]:
    return _open_store(db).list_specs()


@st.cache_data(ttl=TTL, show_spinner=False)
def health(db: str) -> tuple[list[HealthCard], list[str]]:
    store = _open_store(db)
    cards = [model_health(store, spec) for spec in store.list_specs()]
    return cards, what_changed(store, cards)


@st.cache_data(ttl=TTL, show_spinner=False)
def alerts(db: str, model: str | None, state: str | None, severity: str | None) -> pd.DataFrame:
    return _open_store(db).list_alerts(model=model, state=state, severity=severity)


@st.cache_data(ttl=TTL, show_spinner=False)
def alert_history(db: str, alert_id: str) -> pd.DataFrame:
    return _open_store(db).alert_events(alert_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def versions(db: str, model: str) -> list[VersionInfo]:
    return _open_store(db).list_versions(model)


@st.cache_data(ttl=TTL, show_spinner=False)
def results(db: str, model: str, version: int) -> pd.DataFrame:
    return _open_store(db).read_results(model=model, version=version, with_details=True)


@st.cache_data(ttl=TTL, show_spinner=False)
def kpis(db: str, model: str, version: int, period: str) -> pd.DataFrame:
    store = _open_store(db)
    spec = store.get_spec(model)
    return kpi_series(spec, store.read_daily_stats(model=model, version=version), period=period, version=version)


@st.cache_data(ttl=TTL, show_spinner=False)
def comparison(db: str, model: str, a: int, b: int, metric: str) -> VersionComparison:
    store = _open_store(db)
    return compare_versions(store.get_spec(model), store.read_window_stats(model=model), a=a, b=b, metric=metric)


@st.cache_data(ttl=TTL, show_spinner=False)
def promotions(db: str, model: str) -> pd.DataFrame:
    return _open_store(db).promotions(model)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=8)
def report_html(db: str, model: str) -> str:
    store = _open_store(db)
    return board_report(store, store.get_spec(model))
