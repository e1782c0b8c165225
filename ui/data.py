"""The store handle and cached reads for the pages, keyed on the store path and the ids and dates asked for.

`open_store` keeps one store per database path for the whole server (`st.cache_resource`; the store
hands out a cursor per query, so sessions on different threads do not collide). The read functions
return plain data (frames, dataclasses), which `st.cache_data` copies per session. Writes made from
the app call `ui.state.clear_caches()` so the next read sees them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.schema import ModelSpec
from core.store import Store
from core.store import VersionInfo
from core.views.board import build_board
from core.views.cohorts import Cohorts
from core.views.cohorts import cohort_by_group
from core.views.cohorts import cohort_table
from core.views.compare import VersionComparison
from core.views.compare import compare_versions
from core.views.drivers import ModelDrivers
from core.views.drivers import model_drivers
from core.views.kpis import kpi_series
from core.views.movers import Mover
from core.views.movers import what_changed
from core.views.overview import HealthCard
from core.views.overview import overview
from core.views.report import render_html
from core.views.report_pdf import render_pdf
from core.views.segments import Proposal
from core.views.segments import propose_columns
from core.views.segments import segment_series
from core.views.segments import segment_table

TTL = 60
OPEN: dict[str, Store] = {}


@st.cache_resource(show_spinner=False)
def open_store(path: str) -> Store:
    """The one store object for `path`, shared by every session."""
    # failures raise and are therefore not cached: the next rerun tries again
    store = Store.open(path, create=False, verify=True)  # a damaged store is refused before the app writes
    OPEN[path] = store
    return store


@st.cache_data(ttl=TTL, show_spinner=False)
def pending(db: str, model: str) -> tuple[int, list[str]]:
    """(monitoring windows behind, sentences on versions that cannot score or are not whole) for one model."""
    from core.monitoring.runner import windows_behind
    from core.upkeep.check import version_findings

    store = open_store(db)
    spec = store.get_spec(model)
    problems = [f.sentence for v in store.list_versions(model) for f in version_findings(store, spec, v)]
    return windows_behind(store, spec), problems


@st.cache_data(ttl=TTL, show_spinner=False)
def specs(db: str) -> list[ModelSpec]:
    return open_store(db).list_specs()


@st.cache_data(ttl=TTL, show_spinner=False)
def health(db: str) -> tuple[list[HealthCard], list[str]]:
    return overview(open_store(db))


@st.cache_data(ttl=TTL, show_spinner=False)
def alerts(db: str, model: str | None, state: str | None, severity: str | None) -> pd.DataFrame:
    return open_store(db).list_alerts(model=model, state=state, severity=severity)


@st.cache_data(ttl=TTL, show_spinner=False)
def alert_history(db: str, alert_id: str) -> pd.DataFrame:
    return open_store(db).alert_events(alert_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def versions(db: str, model: str) -> list[VersionInfo]:
    return open_store(db).list_versions(model)


@st.cache_data(ttl=TTL, show_spinner=False)
def results(db: str, model: str, version: int) -> pd.DataFrame:
    return open_store(db).read_results(model=model, version=version, with_details=True)


@st.cache_data(ttl=TTL, show_spinner=False)
def kpis(db: str, model: str, version: int, period: str) -> pd.DataFrame:
    store = open_store(db)
    spec = store.get_spec(model)
    return kpi_series(spec, store.read_daily_stats(model=model, version=version), period=period, version=version)


@st.cache_data(ttl=TTL, show_spinner=False)
def comparison(db: str, model: str, a: int, b: int, metric: str) -> VersionComparison:
    store = open_store(db)
    return compare_versions(store.get_spec(model), store.read_window_stats(model=model), a=a, b=b, metric=metric)


@st.cache_data(ttl=TTL, show_spinner=False)
def promotions(db: str, model: str) -> pd.DataFrame:
    return open_store(db).promotions(model)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=8)
def report_files(db: str, model: str) -> tuple[str, bytes]:
    """The board report of `model` as (HTML, PDF): its sections built once, written both ways."""
    store = open_store(db)
    board = build_board(store, store.get_spec(model))
    return render_html(board), render_pdf(board)


@st.cache_data(ttl=TTL, show_spinner=False)
def drivers(db: str, model: str, version: int) -> ModelDrivers:
    """Which inputs drive `version`'s answers (as stored) and the latest window's change."""
    store = open_store(db)
    return model_drivers(store, store.get_spec(model), version)


@st.cache_data(ttl=TTL, show_spinner=False)
def segment_columns(db: str, model: str, version: int) -> list[str]:
    return open_store(db).segment_columns(model=model, version=version)


@st.cache_data(ttl=TTL, show_spinner=False)
def segment_proposals(db: str, model: str, version: int) -> list[Proposal]:
    store = open_store(db)
    return propose_columns(store, store.get_spec(model), version=version)


@st.cache_data(ttl=TTL, show_spinner=False)
def segments(db: str, model: str, version: int, column: str, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per group over all stored windows, one row per period and group) of `column`."""
    store = open_store(db)
    spec = store.get_spec(model)
    return (
        segment_table(store, spec, version=version, column=column),
        segment_series(store, spec, version=version, column=column, period=period),
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def cohorts(db: str, model: str, version: int) -> Cohorts:
    store = open_store(db)
    return cohort_table(store, store.get_spec(model), version=version)


@st.cache_data(ttl=TTL, show_spinner=False)
def cohort_grid(db: str, model: str, version: int, column: str) -> pd.DataFrame:
    store = open_store(db)
    return cohort_by_group(store, store.get_spec(model), version=version, column=column)


@st.cache_data(ttl=TTL, show_spinner=False)
def movers(db: str, model: str, version: int, period: str) -> list[Mover]:
    store = open_store(db)
    return what_changed(store, store.get_spec(model), version=version, period=period)


@st.cache_data(show_spinner=False, max_entries=8)
def evidently_report(db: str, model: str, version: int, start: str, stamp: str) -> bytes:
    """Evidently's own report of one window as HTML bytes, built once per window and `stamp` (its rows and
    outcomes), so a new outcome builds it again and nothing else does."""
    from core.monitoring.evidently_window import window_report  # Evidently loads only when a report is asked for

    return window_report(open_store(db), model=model, version=version, start=start)
