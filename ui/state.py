"""Cached handles the pages share: settings, the store connection and loaded models.

`st.cache_resource` keeps one store per database path for the whole server (the store hands out
a cursor per query, so sessions on different threads do not collide); `st.cache_data` keeps
read-only query results for a short while, keyed on the model, version and dates asked for.
"""

from __future__ import annotations

import streamlit as st

from core.config import Settings
from core.config import load_settings
from core.errors import ModelPulseError
from core.errors import StoreMissingError
from core.store import Store


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    # failures raise and are therefore not cached: the next rerun tries again
    return Store.open(path, create=False)


ROUTER_FLAG = "_modelpulse_router"


def guard() -> None:
    """Send a page that was opened without the router back through `app.py` (and its login gate).

    Streamlit treats a `pages/` folder beside the main script as its old multipage mode until the
    router has run once: the very first deep link after a server start (`/alerts`) would run the page
    file directly, skipping the login gate. Every page calls this first.
    """
    if not st.session_state.get(ROUTER_FLAG):
        st.switch_page("app.py")


def settings() -> Settings:
    """Settings from the environment and .streamlit/secrets.toml (cheap; read every run)."""
    return load_settings()


def store() -> Store | None:
    """The shared store, or None (after telling the user what to do) when there is none yet."""
    cfg = settings()
    try:
        return _open_store(str(cfg.db_path))
    except StoreMissingError:
        st.info(
            f"There is no ModelPulse store yet at `{cfg.db_path}`. Run `make run` (it seeds the demo) or "
            "`python -m core demo`."
        )
        return None
    except ModelPulseError as exc:
        st.error(exc.user_message)
        return None


def require_store() -> Store:
    """The store, or stop the page after explaining what is missing."""
    s = store()
    if s is None:
        st.stop()
    return s


def clear_caches() -> None:
    """Forget cached query results after a write made from the app."""
    st.cache_data.clear()
