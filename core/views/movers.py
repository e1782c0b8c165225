"""What changed, ranked by money: the groups of rows whose outcomes moved most between the last two
periods, each said in one sentence with what the move is worth.

A yes/no model's group is worth its extra (or fewer) positive cases times what one of its cases is worth;
a number model's group is worth the change in its error per unit, times its units. Read from the stored
per-group statistics only, so the weekly digest and the board report can ask for it at no cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from core.monitoring.stats import pool
from core.schema import ModelSpec
from core.store import Store
from core.views.kpis import period_start
from core.views.segments import TOO_FEW
from core.wording import amount
from core.wording import group_phrase
from core.wording import money
from core.wording import pct


@dataclass(frozen=True)
class Mover:
    """One group whose outcome moved between two periods, and what that is worth (positive: costs more)."""

    column: str
    segment: str
    before: float
    after: float
    money: float
    period: pd.Timestamp
    previous: pd.Timestamp
    sentence: str


def _figures(spec: ModelSpec, stats: dict) -> tuple[float, float] | None:
    """(outcome, money per unit of change) of one group's statistics, None with too few outcomes."""
    lab = stats.get("n_labelled", 0)
    if lab < TOO_FEW:
        return None
    if spec.task == "binary":
        rate = (stats.get("tp", 0) + stats.get("fn", 0)) / lab
        per_row = stats.get("value_total", 0.0) / stats["n"] if stats.get("n") else 0.0
        return rate, lab * per_row
    if spec.task == "regression":
        qty = stats.get("qty_labelled", 0.0) or lab
        return stats.get("money_error", 0.0) / qty, qty
    return None


def _label(spec: ModelSpec, ts: pd.Timestamp, period: str) -> str:
    return f"{ts:%b %Y}" if period in ("month", "quarter") else f"week of {ts:%-d %b %Y}"


def what_changed(
    store: Store, spec: ModelSpec, *, version: int, period: str | None = None, limit: int = 5, per_column: int = 2
) -> list[Mover]:
    """The groups that moved most between the last two periods (the model's window by default) with
    enough outcomes, largest money first; at most `per_column` groups of one input."""
    period = period or spec.window
    stats = store.read_segment_stats(model=spec.name, version=version)
    if stats.empty or spec.task == "multiclass":
        return []
    keys = period_start(pd.to_datetime(stats["window_start"]), period)
    labelled = stats.groupby(keys)["n_labels"].sum()
    # periods whose outcomes mostly arrived: each input's groups hold every outcome, so divide by inputs
    columns = stats["column"].nunique()
    ready = sorted(k for k, v in labelled.items() if v / max(columns, 1) >= TOO_FEW)
    rows = stats.groupby(keys)["n_rows"].sum()
    if len(ready) > 2 and rows[ready[-1]] < 0.5 * rows[ready[:-1]].median():
        ready = ready[:-1]  # the newest period is still filling up: compare the two before it
    if len(ready) < 2:
        return []
    previous, last = ready[-2], ready[-1]
    movers = []
    for (column, segment), part in stats.groupby(["column", "segment"], sort=False):
        k = keys[part.index]
        now = _figures(spec, pool(list(part[k == last]["stats"])))
        then = _figures(spec, pool(list(part[k == previous]["stats"])))
        if now is None or then is None:
            continue
        worth = (now[0] - then[0]) * now[1]
        if not math.isfinite(worth) or abs(worth) < 1e-9:
            continue
        movers.append(
            Mover(
                column=str(column),
                segment=str(segment),
                before=then[0],
                after=now[0],
                money=worth,
                period=last,
                previous=previous,
                sentence=_sentence(spec, str(column), str(segment), then[0], now[0], worth, previous, last, period),
            )
        )
    movers.sort(key=lambda m: -abs(m.money))
    out, taken = [], {}
    for m in movers:
        if taken.get(m.column, 0) < per_column:
            out.append(m)
            taken[m.column] = taken.get(m.column, 0) + 1
    return out[:limit]


def _sentence(
    spec: ModelSpec,
    column: str,
    segment: str,
    before: float,
    after: float,
    worth: float,
    previous: pd.Timestamp,
    last: pd.Timestamp,
    period: str,
) -> str:
    b, group = spec.business, group_phrase(spec, column, segment)
    span = f"{_label(spec, previous, period)} to {_label(spec, last, period)}"
    way = "rose" if after > before else "fell"
    if spec.task == "binary":
        what = f"{b.positive} {way} from {pct(before)} to {pct(after)}"
        value = f"{money(spec, worth)} of {b.unit}" if b.kind == "revenue_at_risk" else money(spec, worth)
        effect = f"about {value} {'more at risk' if worth > 0 else 'less at risk'}"
    else:
        what = f"the model's typical miss on {b.target_noun} {way} from {amount(spec, before)} to {amount(spec, after)}"
        effect = f"about {money(spec, worth)} {'more lost' if worth > 0 else 'less lost'}"
    text = f"{group}: {what} ({span}), {effect}."
    return text[0].upper() + text[1:]
