"""Pricing error (regression): every unit a prediction misses by costs itself, times the quantity
booked. Demo: hotel room prices (nights booked)."""

from __future__ import annotations

from core.business.base import KPI
from core.business.base import BusinessKind
from core.business.base import register
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.wording import format_value
from core.wording import money
from core.wording import plural


@register
class PricingError(BusinessKind):
    """Money lost is the absolute error times `quantity_column` (1 when no column is set)."""

    name = "pricing_error"
    tasks = ("regression",)
    choice = "The target is a price: each unit of error, times a quantity, is money"
    target_units = ("money",)

    def kpis(self, spec: ModelSpec) -> list[KPI]:
        b = spec.business
        return [
            KPI(
                "pricing_error",
                "Pricing error",
                "money",
                f"The total amount by which predicted {b.target_noun}s missed, times the quantity booked.",
                higher_is_better=False,
                headline=True,
            ),
            KPI(
                "revenue",
                "Revenue",
                "money",
                f"Actual {b.target_noun} times quantity, for outcomes that arrived.",
                higher_is_better=True,
            ),
            KPI(
                "under_priced",
                "Left on the table",
                "money",
                f"How much lower than the real {b.target_noun} the model priced (money not charged).",
                higher_is_better=False,
            ),
            KPI(
                "over_priced",
                "Priced too high",
                "money",
                f"How much higher than the real {b.target_noun} the model priced (sales at risk).",
                higher_is_better=False,
            ),
            KPI(
                "error_per_unit",
                "Error per unit sold",
                "money",
                "Pricing error divided by the quantity sold at known prices.",
                higher_is_better=False,
            ),
        ]

    def values(self, spec: ModelSpec, stats: dict, business: BusinessConfig) -> dict[str, float]:
        qty = stats.get("qty_labelled", 0.0)
        return {
            "pricing_error": stats.get("money_error", 0.0),
            "revenue": stats.get("revenue", 0.0),
            "under_priced": stats.get("money_under", 0.0),
            "over_priced": stats.get("money_over", 0.0),
            "error_per_unit": float(stats.get("money_error", 0.0)) / float(qty) if qty else float("nan"),
        }

    def exposure(self, spec: ModelSpec, stats: dict, when: str) -> tuple[str, float | None]:
        value = stats.get("sum_pred_money", 0.0)
        rows = plural(stats.get("n", 0), spec.business.entity)
        return (
            f"The model priced {rows} {when}, about {money(spec, value)} at stake, without having seen cases "
            "like these."
        ), value

    def loss(self, spec: ModelSpec, stats: dict, when: str, ref_value: float | None) -> tuple[str, float | None]:
        err = stats.get("money_error", 0.0)
        qty = stats.get("qty_labelled", 0.0) or 1.0
        extra = err - (ref_value or 0.0) * qty if ref_value else None
        text = (
            f"Prices were off by about {money(spec, err)} in total {when}, or {money(spec, err / qty)} per unit sold."
        )
        if extra and extra > 0:
            text = (
                f"Prices were off by about {money(spec, err)} {when}. That is {money(spec, extra)} more "
                "than the model's usual miss."
            )
        return text, err

    def gain(self, spec: ModelSpec, stats_a: dict, stats_b: dict) -> tuple[float | None, str]:
        return stats_a.get("money_error", 0.0) - stats_b.get("money_error", 0.0), "less pricing error"

    def gain_sentence(self, spec: ModelSpec, gain: float, b: int) -> str:
        amount = format_value("money", abs(gain), spec.business.currency)
        return f"Had v{b} been live, pricing error would have been about {amount} {'lower' if gain > 0 else 'higher'}."
