"""Which inputs drove a change: each input's drift in a window, weighted by how much the model relies on it.

A drift score alone says an input moved; the version's permutation importance
(:mod:`core.modeling.importance`) says whether the model cares. Their product, as a share of the sum
over the drifted inputs, is each input's part of the change that matters to the model's answers. The direction
is read from the window's stored drift details: numbers went higher or lower than the reference mean,
a category grew. Alerts (`core.alerts.rules`) and the Model health page say the same sentence.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.results import Check
from core.schema import ModelSpec
from core.store import VersionImportance
from core.wording import human
from core.wording import short

MOST = 0.5
"""The inputs named must together make up at least this share of the change (at most three are named)."""
BARELY = 0.05
"""Below this share of the model's reliance, an input that moved hardly changes its answers."""


@dataclass(frozen=True)
class Driver:
    """One input's part in a window's change."""

    column: str
    drift: float
    """Its drift score in the window (0: like the reference)."""
    weight: float
    """Its share of the version's importance (0..1)."""
    share: float
    """Its share of the importance-weighted change (0..1, summing to 1 over the drivers)."""
    direction: str
    """Which way it moved, in words: `higher lead time`, `more bookings with market segment Online`."""


def _details(value: object) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(value) if isinstance(value, str) else {}


def _bin_mean(edges: list, shares: list) -> float | None:
    """The mean of a stored histogram (bin centres weighted by their shares): a fallback for older windows."""
    if not edges or not shares or sum(shares) <= 0:
        return None
    e = np.asarray(edges, dtype="float64")
    return float(np.average((e[:-1] + e[1:]) / 2, weights=np.asarray(shares, dtype="float64")))


def direction(spec: ModelSpec, column: str, details: dict) -> str:
    """Which way `column` moved in a window, in words, from its stored drift details."""
    name = human(column)
    if details.get("kind") == "cat":
        labels, ref, cur = details.get("labels", []), details.get("reference", []), details.get("current", [])
        if labels and len(ref) == len(labels) == len(cur):
            gains = [c - r for r, c in zip(ref, cur, strict=True)]
            best = int(np.argmax(gains))
            if gains[best] > 0:
                return f"more {spec.business.entity}s with {name} {short(labels[best], 30)}"
        return f"a different mix of {name}"
    before, now = details.get("reference_mean"), details.get("current_mean")
    if before is None or now is None:
        before = _bin_mean(details.get("edges", []), details.get("reference", []))
        now = _bin_mean(details.get("edges", []), details.get("current", []))
    if before is None or now is None or math.isclose(before, now, rel_tol=1e-9, abs_tol=1e-12):
        return f"a different spread of {name}"
    return f"{'higher' if now > before else 'lower'} {name}"


def drift_drivers(*, spec: ModelSpec, window: pd.DataFrame, importance: VersionImportance) -> list[Driver]:
    """Each drifted input's part in one window's change, largest first; empty when nothing the model relies on
    drifted.

    `window` holds the window's stored results (`Store.read_results(..., with_details=True)`); its
    per-input drift rows are read. Only inputs flagged as drifted count: below the drift line a score is
    mostly sampling noise, which must not be blamed for anything.
    """
    rows = window[(window["check"] == str(Check.DRIFT)) & window["value"].notna() & window["column"].notna()]
    rows = rows[rows["status"] != "ok"]
    weights = importance.weights()
    parts = [
        (str(r["column"]), float(r["value"]), weights.get(str(r["column"]), 0.0), _details(r.get("details")))
        for _, r in rows.iterrows()
    ]
    total = sum(d * w for _, d, w, _ in parts)
    if total <= 0:
        return []
    out = [
        Driver(column=c, drift=d, weight=w, share=d * w / total, direction=direction(spec, c, det))
        for c, d, w, det in parts
        if d * w > 0
    ]
    return sorted(out, key=lambda x: (-x.share, x.column))


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"


def drivers_sentence(*, spec: ModelSpec, window: pd.DataFrame, importance: VersionImportance | None) -> str:
    """One sentence naming the inputs that drove a window's change, or empty when it cannot be said.

    `Most of the change comes from higher lead time and more bookings with market segment Online.`
    Empty without importance (the version was never measured) or without drift results for the window.
    """
    if importance is None or window is None or window.empty:
        return ""
    drift = window[(window["check"] == str(Check.DRIFT)) & window["value"].notna()]
    if drift.empty:
        return ""
    moved = drift[drift["status"] != "ok"]
    if moved.empty:
        return "No input moved far from the data the model learned from."
    weights = importance.weights()
    if all(weights.get(str(c), 0.0) < BARELY for c in moved["column"]):
        names = _listed([human(str(c)) for c in moved.sort_values("value", ascending=False)["column"][:3]])
        return f"The inputs that moved ({names}) barely affect the model's answers."
    drivers = drift_drivers(spec=spec, window=window, importance=importance)
    if not drivers:
        return ""
    named, covered = [], 0.0
    for d in drivers[:3]:
        named.append(d)
        covered += d.share
        if covered >= MOST:
            break
    words = _listed([d.direction for d in named])
    if covered >= 0.8:
        return f"Almost all of the change comes from {words}."
    if covered >= MOST:
        return f"Most of the change comes from {words}."
    return f"The largest parts of the change come from {words}."


def importance_sentence(importance: VersionImportance | None) -> str:
    """What the model's answers depend on most, in one sentence; empty when it was never measured."""
    if importance is None:
        return ""
    weights = importance.weights()
    top = [f for f in importance.features if weights.get(f.feature, 0.0) > 0][:3]
    if not top:
        return "Shuffling any one input barely changes the model's answers, so no single input drives them."
    share = sum(weights[f.feature] for f in top)
    names = _listed([human(f.feature) for f in top])
    if len(top) == 1:
        return f"The model's answers depend most on {names} ({share:.0%} of what its inputs explain)."
    return f"The model's answers depend most on {names}: together {share:.0%} of what its inputs explain."
