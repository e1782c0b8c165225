"""Chosen kill points for the crash trials (tests/test_crash_trials.py, bench/crash.py).

Each save in ModelPulse passes a named point. When the environment variable `MODELPULSE_KILL_AT` names
that point (optionally `name#n` for its n-th pass), the process SIGKILLs itself there: the harshest
stop, with no cleanup, exactly at the moment a trial wants to test. Unset, a point costs one lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "MODELPULSE_KILL_AT"
POINTS = {
    "model.files_written": "a version's weights and metadata are on disk, its transaction not yet committed",
    "version.before_commit": "a version, its reference rows and its shadow scores are written, not committed",
    "batch.before_commit": "a batch of rows, predictions and labels is written, not committed",
    "batch.committed": "a batch is committed, its monitoring not yet run",
    "window.saved": "one monitoring window's results are committed, the rest of the run not yet",
    "window.claimed": "a fanned-out worker claimed a monitoring window and has not computed it yet",
    "scores.before_commit": "a version's late scores are written, not committed",
    "demo.model_replayed": "a demo model's production year is replayed, its transaction not yet committed",
}
"""Every kill point and the moment it stands for."""

_passes: dict[str, int] = {}


def point(name: str) -> None:
    """Pass the kill point `name` (one of :data:`POINTS`); kills this process when asked to."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    target, _, nth = wanted.partition("#")
    if target != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
