"""Cost per event (binary): each positive case (a late flight) costs a fixed amount. Demo: flight delays."""

from __future__ import annotations

from core.business.base import KPI
from core.business.base import BusinessKind
from core.business.base import extra_missed
from core.business.base import register
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.wording import format_value
from core.wording import money
from core.wording import plural
from core.wording import share_without
from core.wording import upper_first


@register
class CostPerEvent(BusinessKind):
    """Every positive outcome costs `value_per_positive`; the model's worth is the events it sees coming."""

    name = "cost_per_event"
    tasks = ("binary",)
    choice = "Each 'yes' costs a fixed amount"

    def kpis(self, spec: ModelSpec) -> list[KPI]:
        b = spec.business
        # worded from the model's own outcome: a founder's yes/no model is not about flights
        share = share_without(entity=b.entity, positive=b.positive)
        if b.negative:
            share = f"{upper_first(b.negative)} share"
        return [
            KPI(
                "on_time_share",
                share,
                "share",
                f"Share of {b.entity}s that were not among the {b.positive}.",
                higher_is_better=True,
                headline=True,
            ),
            KPI(
                "event_cost",
                f"Cost of {b.positive}",
                "money",
                f"{upper_first(b.positive)} times {b.currency}{b.value_per_positive:,.0f} each.",
                higher_is_better=False,
            ),
            KPI(
                "flagged",
                f"{upper_first(b.entity)}s flagged",
                "count",
                f"{upper_first(b.entity)}s the model expected among the {b.positive}.",
            ),
            KPI(
                "caught",
                f"{upper_first(b.positive)} foreseen",
                "count",
                f"{upper_first(b.positive)} the model saw coming.",
                higher_is_better=True,
            ),
            KPI(
                "missed_cost",
                f"Cost of {b.positive} missed",
                "money",
                f"{upper_first(b.positive)} the model did not predict, times the cost of each.",
                higher_is_better=False,
            ),
        ]

    def values(self, spec: ModelSpec, stats: dict, business: BusinessConfig) -> dict[str, float]:
        lab = stats.get("n_labelled", 0)
        tp, fn = stats.get("tp", 0), stats.get("fn", 0)
        positives = tp + fn
        return {
            "flagged": stats.get("flagged", 0),
            "on_time_share": 1 - positives / lab if lab else float("nan"),
            "event_cost": positives * business.value_per_positive,
            "caught": tp,
            "missed_cost": fn * business.value_per_positive,
        }

    def exposure(self, spec: ModelSpec, stats: dict, when: str) -> tuple[str, float | None]:
        b = spec.business
        value = stats.get("expected_value_at_risk", 0.0)
        rows = plural(stats.get("n", 0), b.entity)
        return (
            f"About {money(spec, value)} is at stake {when}: the model expects about "
            f"{int(round(stats.get('prob_sum', 0))):,} {b.positive} among the {rows}, at "
            f"{money(spec, b.value_per_positive)} each, and those calls are now less sure."
        ), value

    def loss(self, spec: ModelSpec, stats: dict, when: str, ref_value: float | None) -> tuple[str, float | None]:
        b = spec.business
        each = b.value_per_positive
        extra = extra_missed(stats, ref_value)
        if extra is not None:
            n, low, high = extra
            return (
                f"It missed about {n:,.0f} more {b.positive} {when} than it usually does: about "
                f"{money(spec, n * each)} (likely between {money(spec, low * each)} and {money(spec, high * each)}) "
                f"at {money(spec, each)} each."
            ), n * each
        n = stats.get("fn", 0)
        return (
            f"It missed {n:,} {b.positive} {when}, about {money(spec, n * each)} at stake at {money(spec, each)} each."
        ), n * each

    def gain(self, spec: ModelSpec, stats_a: dict, stats_b: dict) -> tuple[float | None, str]:
        b = spec.business
        gain = (stats_a.get("fn", 0) - stats_b.get("fn", 0)) * b.value_per_positive
        return gain, f"saved on {b.positive} seen coming"

    def gain_sentence(self, spec: ModelSpec, gain: float, b: int) -> str:
        amount = format_value("money", abs(gain), spec.business.currency)
        fewer = "more" if gain > 0 else "fewer"
        return f"Had v{b} been live, it would have seen {fewer} {spec.business.positive} coming, worth about {amount}."
