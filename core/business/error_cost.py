"""Error cost (regression of anything but a price): every unit the prediction misses by costs a fixed
amount. Example: predicting tomorrow's bike rentals, where each bike short or idle costs $2."""

from __future__ import annotations

from core.business.base import KPI
from core.business.base import BusinessKind
from core.business.base import register
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.wording import amount
from core.wording import format_value
from core.wording import money
from core.wording import plural


@register
class ErrorCost(BusinessKind):
    """Money lost is the absolute error, in the target's unit, times `value_per_unit`."""

    name = "error_cost"
    tasks = ("regression",)
    choice = "Each unit of error costs a fixed amount"
    target_units = ("count", "rate", "score")

    def kpis(self, spec: ModelSpec) -> list[KPI]:
        b = spec.business
        each = f"{b.currency}{b.value_per_unit:,.2f}"
        return [
            KPI(
                "error_cost",
                "Cost of errors",
                "money",
                f"How far the predicted {b.target_noun} missed, added up, times {each} per unit of error.",
                higher_is_better=False,
                headline=True,
            ),
            KPI(
                "too_low_cost",
                "Cost of predicting too low",
                "money",
                "The part of the cost from predictions below the real value.",
                higher_is_better=False,
            ),
            KPI(
                "too_high_cost",
                "Cost of predicting too high",
                "money",
                "The part of the cost from predictions above the real value.",
                higher_is_better=False,
            ),
        ]

    def values(self, spec: ModelSpec, stats: dict, business: BusinessConfig) -> dict[str, float]:
        each = business.value_per_unit
        return {
            "error_cost": stats.get("money_error", 0.0) * each,
            "too_low_cost": stats.get("money_under", 0.0) * each,
            "too_high_cost": stats.get("money_over", 0.0) * each,
        }

    def exposure(self, spec: ModelSpec, stats: dict, when: str) -> tuple[str, float | None]:
        b = spec.business
        n = stats.get("n", 0)
        return (
            f"The model made {plural(n, b.target_noun + ' estimate')} {when} from data unlike what it learned "
            f"from; every unit it misses by costs {money(spec, b.value_per_unit)}."
        ), None

    def loss(self, spec: ModelSpec, stats: dict, when: str, ref_value: float | None) -> tuple[str, float | None]:
        b = spec.business
        units = stats.get("money_error", 0.0)
        cost = units * b.value_per_unit
        n = stats.get("n_labelled", 0) or 1
        extra = (units - (ref_value or 0.0) * n) * b.value_per_unit if ref_value else None
        if extra is not None and extra > 0:
            return (
                f"Its misses {when} cost about {money(spec, cost)}, {money(spec, extra)} more than its usual miss "
                f"would have, at {money(spec, b.value_per_unit)} per unit."
            ), extra
        return f"Its misses {when} added up to {amount(spec, units)}, about {money(spec, cost)}.", cost

    def gain(self, spec: ModelSpec, stats_a: dict, stats_b: dict) -> tuple[float | None, str]:
        each = spec.business.value_per_unit
        return (stats_a.get("money_error", 0.0) - stats_b.get("money_error", 0.0)) * each, "lower cost of errors"

    def gain_sentence(self, spec: ModelSpec, gain: float, b: int) -> str:
        worth = format_value("money", abs(gain), spec.business.currency)
        return f"Had v{b} been live, its errors would have cost about {worth} {'less' if gain > 0 else 'more'}."
