"""How long-running work reports progress: one sentence at a time to a function the caller chooses."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]
"""Receives one plain sentence per step (`print` in the CLI, `st.status(...).write` on a page)."""


def quiet(_: str) -> None:
    """A progress function that says nothing (tests, background jobs)."""
