"""Segments for people: KPIs, quality and drift per group of rows, and the inputs worth splitting by.

Everything here reads the stored per-group statistics (`segment_stats`, `segment_reference`), never the
rows: a page costs the same with ten thousand or ten million predictions. Rates are pooled from counts
over the period asked for (never averaged per window), so the groups of one input add up to the model's
own totals. A group with fewer outcomes than :data:`TOO_FEW` is marked "too few rows" instead of judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from core.metrics import METRICS
from core.monitoring.segments import MISSING
from core.monitoring.segments import OTHER
from core.monitoring.stats import pool
from core.schema import ModelSpec
from core.store import Store
from core.views.kpis import kpi_values
from core.views.kpis import period_start
from core.wording import amount
from core.wording import human
from core.wording import pct
from core.wording import upper_first

TOO_FEW = 30
"""Outcomes a group needs before its rates are shown as a finding."""
QUALITY = {"binary": "recall", "regression": "mae", "multiclass": "accuracy"}
"""The quality figure shown per group: one that counts pool exactly (ROC AUC per small group is noise)."""


def outcome_key(spec: ModelSpec) -> str:
    """The per-group outcome column: the share of positive cases, or the average outcome."""
    return "outcome_rate" if spec.task == "binary" else "mean_outcome"


def _row(spec: ModelSpec, stats: dict) -> dict:
    """KPIs, quality and outcome figures of one group's pooled statistics."""
    values = kpi_values(spec, stats)
    n, lab = stats.get("n", 0), stats.get("n_labelled", 0)
    if spec.task == "binary":
        values["outcome_rate"] = (stats.get("tp", 0) + stats.get("fn", 0)) / lab if lab else math.nan
        values["mean_score"] = stats.get("prob_sum", 0.0) / n if n else math.nan
    elif spec.task == "regression":
        values["mean_outcome"] = stats.get("sum_y", 0.0) / lab if lab else math.nan
        values["mean_score"] = stats.get("sum_pred", 0.0) / n if n else math.nan
    else:
        values["mean_outcome"] = values.get("accuracy", math.nan)
        values["mean_score"] = math.nan
    values["too_few"] = lab < TOO_FEW
    return values


def _order(reference: pd.DataFrame, column: str) -> list[str]:
    """Groups in their planned order (ranges low to high, values by size), pooled and missing last."""
    ref = reference[reference["column"] == column].sort_values("position")
    order = list(ref["segment"])
    return [g for g in order if g not in (OTHER, MISSING)] + [g for g in (OTHER, MISSING) if g in order]


def segment_table(
    store: Store, spec: ModelSpec, *, version: int, column: str, since: pd.Timestamp | None = None
) -> pd.DataFrame:
    """One row per group of `column` over the stored windows (from `since`): rows, share of rows then
    and in validation, outcomes, KPIs, quality, average score then and in validation, `too_few`."""
    stats = store.read_segment_stats(model=spec.name, version=version, column=column)
    reference = store.read_segment_reference(model=spec.name, version=version)
    if since is not None:
        stats = stats[pd.to_datetime(stats["window_start"]) >= pd.Timestamp(since)]
    return _table(spec, stats, reference, column)


def _table(spec: ModelSpec, stats: pd.DataFrame, reference: pd.DataFrame, column: str) -> pd.DataFrame:
    if stats.empty:
        return pd.DataFrame()
    ref = reference[reference["column"] == column].set_index("segment")
    total, ref_total = stats["n_rows"].sum(), ref["n_rows"].sum()
    rows = []
    for segment, part in stats.groupby("segment", sort=False):
        values = _row(spec, pool(list(part["stats"])))
        values |= {"segment": segment, "share": values["n"] / total if total else math.nan}
        if segment in ref.index:
            ref_values = _row(spec, ref.loc[segment, "stats"])
            values["reference_share"] = ref.loc[segment, "n_rows"] / ref_total if ref_total else math.nan
            values["reference_outcome"] = ref_values[outcome_key(spec)]
            values["reference_score"] = ref_values["mean_score"]
        rows.append(values)
    order = {g: i for i, g in enumerate(_order(reference, column))}
    table = pd.DataFrame(rows)
    table = table.assign(_o=table["segment"].map(lambda g: order.get(g, len(order)))).sort_values("_o")
    return table.drop(columns="_o").reset_index(drop=True)


def segment_series(store: Store, spec: ModelSpec, *, version: int, column: str, period: str) -> pd.DataFrame:
    """One row per (period, group) of `column`: the same figures as :func:`segment_table`, pooled per
    period (`window` keeps the monitoring windows)."""
    stats = store.read_segment_stats(model=spec.name, version=version, column=column)
    if stats.empty:
        return pd.DataFrame()
    starts = pd.to_datetime(stats["window_start"])
    keys = starts if period == "window" else period_start(starts, period)
    rows = []
    for (key, segment), part in stats.groupby([keys, stats["segment"]], sort=True):
        rows.append(_row(spec, pool(list(part["stats"]))) | {"period": key, "segment": segment})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Proposal:
    """An input worth splitting by, with how much its groups differ and that in one sentence."""

    column: str
    score: float
    sentence: str


def _spread(spec: ModelSpec, table: pd.DataFrame, key: str) -> float:
    """How far the groups' `key` lies from the whole, weighted by size (0 when groups do not differ)."""
    ok = table[~table["too_few"] & table[key].notna()]
    if len(ok) < 2:
        return 0.0
    w = ok["n_labelled"].astype(float)
    mean = float((ok[key] * w).sum() / w.sum())
    spread = math.sqrt(float((w * (ok[key] - mean) ** 2).sum() / w.sum()))
    return spread / abs(mean) if mean else spread


def propose_columns(store: Store, spec: ModelSpec, *, version: int, limit: int = 3) -> list[Proposal]:
    """The inputs whose groups differ most in outcomes or in the model's quality, with a sentence each.

    The model's own choice of inputs to analyse by (`ModelSpec.segments`) comes first when it has data."""
    stats = store.read_segment_stats(model=spec.name, version=version)
    reference = store.read_segment_reference(model=spec.name, version=version)
    key, quality = outcome_key(spec), QUALITY[spec.task]
    found = []
    for column, part in stats.groupby("column", sort=True):
        table = _table(spec, part, reference, str(column))
        if table.empty or quality not in table:
            continue
        score = _spread(spec, table, key) + 0.5 * _spread(spec, table, quality)
        if score <= 0:
            continue
        found.append(
            Proposal(column=str(column), score=score, sentence=_proposal_sentence(spec, str(column), table, key))
        )
    found.sort(key=lambda p: (p.column not in spec.segments, -p.score))
    return found[:limit]


def _proposal_sentence(spec: ModelSpec, column: str, table: pd.DataFrame, key: str) -> str:
    ok = table[~table["too_few"] & table[key].notna()].sort_values(key)
    low, high = ok.iloc[0], ok.iloc[-1]
    fmt = pct if spec.task == "binary" else (lambda v: amount(spec, v))
    what = spec.business.positive if spec.task == "binary" else f"the average {spec.business.target_noun}"
    return (
        f"{upper_first(human(column))} splits {spec.business.entity}s most: {what} run from {fmt(low[key])} "
        f"({_short(low['segment'])}) to {fmt(high[key])} ({_short(high['segment'])})."
    )


def _short(segment: str) -> str:
    return segment if len(segment) <= 30 else segment[:29] + "…"


def quality_label(spec: ModelSpec) -> str:
    """What the per-group quality figure is called on the page."""
    return METRICS[QUALITY[spec.task]].label


def segment_sentences(store: Store, spec: ModelSpec, *, version: int, limit: int = 2) -> list[str]:
    """For the board report: how the inputs that matter most split the business, one sentence each."""
    return [p.sentence for p in propose_columns(store, spec, version=version, limit=limit)]
