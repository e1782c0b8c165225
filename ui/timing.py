"""Opt-in server-side timing of every script run (for `bench/load.py` and the load test).

With `MODELPULSE_TIMING_LOG=<path>` set, each run of `app.py` appends one JSON line to that file:

    {"page": "Alerts", "seconds": 0.412, "session": "<streamlit session id>", "at": 1764612345.6, "end": "ok"}

`seconds` runs from the router's start to the end of the page (`time.perf_counter()`), including a
run cut short by `st.stop()` or by a newer rerun (`end` is then `stop` or `rerun`; `error` when the
page raised). `at` is the wall-clock time the run ended. Unset, `start()` returns None and `timed`
does nothing else: no clock read, no file, no lock.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "MODELPULSE_TIMING_LOG"
_LOCK = threading.Lock()


def start() -> float | None:
    """The run's start (perf_counter seconds), or None when timing is off."""
    return time.perf_counter() if os.environ.get(ENV) else None


def _session() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _end(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    name = type(exc).__name__
    if name == "StopException":
        return "stop"
    if name == "RerunException":
        return "rerun"
    return "error"


def record(page: str, started: float, end: str = "ok") -> None:
    """Append one line for a run of `page` that began at `started` (a `start()` value)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = {
        "page": page,
        "seconds": round(time.perf_counter() - started, 6),
        "session": _session(),
        "at": round(time.time(), 3),
        "end": end,
    }
    data = (json.dumps(line) + "\n").encode()
    with _LOCK:  # one write per line on an O_APPEND descriptor: lines from other threads never interleave
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


@contextmanager
def timed(page, started: float | None) -> Iterator[None]:
    """Around `page.run()` in the router: record the run under the page's title when `started` is not None."""
    if started is None:
        yield
        return
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        record(str(getattr(page, "title", page)), started, _end(error))
