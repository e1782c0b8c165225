"""Page plumbing: settings, the store a page needs (or a sentence saying what is missing), the inbox
watcher, the router guard and cache clearing. The store handle itself lives in `ui.data`."""

from __future__ import annotations

import logging
import threading
import time

import streamlit as st

from core.config import Settings
from core.config import load_settings
from core.errors import ModelPulseError
from core.errors import StoreMissingError
from core.intake.inbox import process_inbox
from core.store import Store
from core.store.lake import display
from ui import data

log = logging.getLogger("modelpulse")


@st.cache_resource(show_spinner=False)
def start_inbox_watcher(path: str, poll_seconds: int) -> threading.Thread | None:
    """One background thread per store that imports files dropped into the inbox folder (see core.intake.inbox)."""
    if poll_seconds <= 0:
        return None
    store = data.open_store(path)
    cfg = settings()

    def loop() -> None:
        while not store.closed:
            try:
                items = process_inbox(store=store, settings=cfg)
            except ModelPulseError as exc:  # the store went away or a setting is wrong: say so in the log
                log.warning("inbox: %s", exc.user_message)
                items = []
            if items:
                st.cache_data.clear()
                for item in items:
                    log.info("inbox %s: %s", item.path.name, item.message)
            time.sleep(poll_seconds)

    thread = threading.Thread(target=loop, name="modelpulse-inbox", daemon=True)
    thread.start()
    return thread


SCHEDULERS: dict = {}


@st.cache_resource(show_spinner=False)
def start_scheduler(path: str):
    """The app's one scheduler for this store (scheduled monitoring, delivery, the digest; see core.schedule)."""
    from core.schedule import Scheduler

    cfg = settings()
    if cfg.delivery.scheduler != "app":
        return None
    scheduler = Scheduler(store=data.open_store(path), settings=cfg).start()
    SCHEDULERS[path] = scheduler
    return scheduler


ENDPOINTS: dict = {}


@st.cache_resource(show_spinner=False)
def start_endpoint(path: str):
    """The local door through which `python -m core status`, `alerts`, `check`, `report` and `backup` are
    answered while this app holds the store (DuckDB keeps other processes out); see core.upkeep.endpoint."""
    from core.upkeep.endpoint import Endpoint

    if data.open_store(path).shared:
        return None  # every process opens a shared store itself: no door needed
    endpoint = Endpoint(store=data.open_store(path), settings=settings()).start()
    ENDPOINTS[path] = endpoint
    return endpoint


def scheduler_status(store: Store, cfg: Settings) -> str:
    """One line: who runs the schedules and sends for this store."""
    from core.schedule import LEASE

    holder = store.lease_holder(LEASE)
    if cfg.delivery.scheduler != "app":
        where = f"`python -m core watch` ({holder})" if holder else "nothing is running it"
        return f"This app does not run the scheduler (setting scheduler = off); {where}."
    if holder is None:
        return "The scheduler is starting."
    return (
        f"Schedules run and messages are sent by this app's scheduler ({holder}), every {cfg.delivery.poll_seconds} s."
    )


def close_stores() -> None:
    """Close every store the app opened and forget cached data (tests; a store file swapped underneath)."""
    for scheduler in SCHEDULERS.values():
        scheduler.stop(wait=False)
    SCHEDULERS.clear()
    for endpoint in ENDPOINTS.values():
        endpoint.stop()
    ENDPOINTS.clear()
    for store in data.OPEN.values():
        store.close()
    data.OPEN.clear()
    st.cache_resource.clear()
    st.cache_data.clear()


ROUTER_FLAG = "_modelpulse_router"
IDENTITY = "_modelpulse_identity"
OPEN_PAGES = "_modelpulse_open_pages"


def link(page: str, **kwargs) -> None:
    """`st.page_link` to a page this session may open (a share link or a viewer has fewer); else nothing."""
    if page in st.session_state.get(OPEN_PAGES, {page}):
        st.page_link(page, **kwargs)


def identity():
    """Who this session is (set by the router on every run)."""
    from core.access import LOCAL

    return st.session_state.get(IDENTITY) or LOCAL


def who() -> str:
    """The name the store records for this session's changes."""
    return identity().label


def actor_field(key: str, label: str = "Your name or email (recorded with what you do)") -> None:
    """With sign-in off, a box for a name to record changes under; signed in, the identity is used."""
    if identity().via == "local":
        st.text_input(label, key=key, placeholder="e.g. maya@startup.com")


def actor(key: str) -> str:
    """The name a change is recorded under, read when the button is clicked (see `actor_field`)."""
    if identity().via == "local":
        return str(st.session_state.get(key, "")).strip()
    return identity().label


def change(action: str, fn, *, model: str | None = None, detail: str | None = None, together: bool = True):
    """Make a change as this session's identity: refused with a sentence when its role may not."""
    from core.access import act

    return act(data.open_store(settings().store), identity(), action, fn, model=model, detail=detail, together=together)


def require_role(action: str, *, model: str | None = None) -> None:
    """Refuse (with a sentence, logged) when this session's role may not make `action`."""
    from core.access import require

    require(data.OPEN.get(settings().store), identity(), action, model=model)


def audit(action: str, *, model: str | None = None, detail: str | None = None) -> None:
    """Log a change this session made (for long changes made in steps, after `require_role`)."""
    store = data.open_store(settings().store)
    me = identity()
    store.audit.record(actor=me.label, role=me.role, action=action, model=model, detail=detail)


def may(action: str) -> bool:
    """True when this session's role may make `action` (pages hide what it may not)."""
    from core.access import allowed

    return allowed(identity(), action)


def guard() -> None:
    """Send a page that was opened without the router back through `app.py` (and its login gate).

    Streamlit treats a `screens/` folder beside the main script as its old multipage mode until the
    router has run once: the very first deep link after a server start (`/alerts`) would run the page
    file directly, skipping the login gate. Every page calls this first.
    """
    if not st.session_state.get(ROUTER_FLAG):
        st.switch_page("app.py")


def settings() -> Settings:
    """Settings from the environment and .streamlit/secrets.toml (cheap; read every run)."""
    return load_settings()


def store(*, create: bool = False) -> Store | None:
    """The shared store, or None (after telling the user what to do) when there is none yet.

    With `create=True` a missing store file is created first (the upload page's first model).
    """
    cfg = settings()
    try:
        if create and not Store.exists(cfg.store):
            Store.at(cfg, create=True).close()
        store = data.open_store(cfg.store)
        start_inbox_watcher(cfg.store, cfg.inbox_poll)
        start_scheduler(cfg.store)
        start_endpoint(cfg.store)
        return store
    except StoreMissingError:
        st.info(
            f"There is no ModelPulse store yet at `{display(cfg.store)}`. Run `make run` (it seeds the demo) or "
            "`python -m core demo`, or bring your own data."
        )
        link("screens/upload.py", label="Upload your own data", icon=":material/upload:")
        return None
    except ModelPulseError as exc:
        st.error(exc.user_message)
        return None


def has_store() -> bool:
    """Whether the configured store exists (the one this process opened, or a file or lake there now)."""
    cfg = settings()
    opened = data.OPEN.get(cfg.store)
    return (opened is not None and not opened.closed) or Store.exists(cfg.store)


def require_store() -> Store:
    """The store, or stop the page after explaining what is missing."""
    s = store()
    if s is None:
        st.stop()
    return s


def require_models(*, empty: str = "No models yet. Load the demo or bring your own data first."):
    """(store, db path, model specs) for a page that needs at least one model; otherwise say so and stop."""
    s = require_store()
    db = settings().store
    specs = [s for s in data.specs(db) if identity().may_see(s.name)]
    if not specs:
        st.info(empty)
        link("screens/upload.py", label="Bring your own data", icon=":material/upload:")
        st.stop()
    return s, db, specs


def clear_caches() -> None:
    """Forget cached query results after a write made from the app."""
    st.cache_data.clear()
