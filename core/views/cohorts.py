"""Groups by start month ("cohorts", a word the page never needs): for each month, the cases whose time
falls in it (customers who signed up in March 2018), how many there were, how their outcomes turned out,
what the model expected and what they were worth.

Read from the stored daily statistics of the live version (and, per group of one input, from the stored
per-group statistics), so the table costs the same at any number of stored rows. Rates are pooled from
counts within each month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from core.monitoring.stats import pool
from core.schema import ModelSpec
from core.store import Store
from core.views.kpis import kpi_values
from core.views.kpis import period_start
from core.views.segments import TOO_FEW
from core.wording import amount
from core.wording import money
from core.wording import pct
from core.wording import upper_first
from core.wording import who_or_that


@dataclass(frozen=True)
class Cohorts:
    """One row per start month, and the two columns a person reads first."""

    table: pd.DataFrame
    outcome: str
    """The column of the outcome (`outcome_rate` for yes/no models, `mean_outcome` for numbers)."""
    money: str | None
    """The money column shown (`value_lost`: what the positive cases took or cost; `money_error`: what
    wrong numbers cost), None when the model has no money."""


def heading(spec: ModelSpec) -> str:
    """`Customers by the month they signed up`."""
    b = spec.business
    return f"{upper_first(b.entity)}s by the month they {b.time_event}"


def _figures(spec: ModelSpec, stats: dict) -> dict:
    values = kpi_values(spec, stats)
    n, lab = stats.get("n", 0), stats.get("n_labelled", 0)
    values |= {"n": n, "n_labelled": lab, "too_few": lab < TOO_FEW}
    if spec.task == "binary":
        values["outcome_rate"] = (stats.get("tp", 0) + stats.get("fn", 0)) / lab if lab else math.nan
        values["expected_rate"] = stats.get("prob_sum", 0.0) / n if n else math.nan
        values["value_total"] = stats.get("value_total", 0.0)
        values["value_lost"] = stats.get("value_positive", 0.0)
    elif spec.task == "regression":
        values["mean_outcome"] = stats.get("sum_y", 0.0) / lab if lab else math.nan
        values["expected_outcome"] = stats.get("sum_pred", 0.0) / n if n else math.nan
        values["money_error"] = stats.get("money_error", 0.0)
    else:
        values["mean_outcome"] = values.get("accuracy", math.nan)
    return values


def cohort_table(store: Store, spec: ModelSpec, *, version: int) -> Cohorts:
    """Start months of `version`'s stored traffic, oldest first."""
    daily = store.read_daily_stats(model=spec.name, version=version)
    outcome = "outcome_rate" if spec.task == "binary" else "mean_outcome"
    has_money = spec.business.kind != "none"
    money_col = ("value_lost" if spec.task == "binary" else "money_error") if has_money else None
    if daily.empty:
        return Cohorts(pd.DataFrame(), outcome, money_col)
    months = period_start(daily["day"], "month")
    rows = [_figures(spec, pool(list(part["stats"]))) | {"month": m} for m, part in daily.groupby(months)]
    return Cohorts(pd.DataFrame(rows).sort_values("month").reset_index(drop=True), outcome, money_col)


def cohort_by_group(store: Store, spec: ModelSpec, *, version: int, column: str) -> pd.DataFrame:
    """Start month x group of `column`: the outcome of each (a grid for a heat map), NaN where too few.

    Windows are placed in the month they start in (a week that straddles two months counts in the first)."""
    stats = store.read_segment_stats(model=spec.name, version=version, column=column)
    if stats.empty:
        return pd.DataFrame()
    outcome = "outcome_rate" if spec.task == "binary" else "mean_outcome"
    months = period_start(pd.to_datetime(stats["window_start"]), "month")
    cells = []
    for (m, segment), part in stats.groupby([months, stats["segment"]]):
        f = _figures(spec, pool(list(part["stats"])))
        cells.append({"month": m, "segment": segment, "value": math.nan if f["too_few"] else f[outcome]})
    return pd.DataFrame(cells).pivot(index="month", columns="segment", values="value").sort_index()


def cohort_sentence(spec: ModelSpec, cohorts: Cohorts) -> str | None:
    """The newest month with enough outcomes against the oldest one, in one sentence (None without two)."""
    t = cohorts.table
    if t.empty:
        return None
    ok = t[~t["too_few"] & t[cohorts.outcome].notna()]
    if len(ok) < 2:
        return None
    first, last = ok.iloc[0], ok.iloc[-1]
    b = spec.business
    rel = who_or_that(b.entity)
    who = f"{b.entity}s {rel} {b.time_event}"
    if spec.task == "binary":
        sentence = (
            f"Of {who} in {last['month']:%B %Y}, {pct(last['outcome_rate'])} were {b.positive}; "
            f"of those {rel} {b.time_event} in {first['month']:%B %Y}, {pct(first['outcome_rate'])}."
        )
    else:
        sentence = (
            f"{upper_first(who)} in {last['month']:%B %Y} averaged {amount(spec, last['mean_outcome'])} "
            f"in {b.target_noun}, against {amount(spec, first['mean_outcome'])} in {first['month']:%B %Y}."
        )
    if b.kind == "revenue_at_risk":
        sentence += f" The newest month holds {money(spec, last['value_total'])} of {b.unit}."
    return sentence[0].upper() + sentence[1:]
