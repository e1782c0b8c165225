"""Revenue at risk (binary): each positive case (a customer who leaves) takes its value with it; a
flagged one that is kept saves `retention_rate` of that. Demo: customer churn."""

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
from core.wording import upper_first


@register
class RevenueAtRisk(BusinessKind):
    """Money at stake per case comes from a column (or a fixed value); flagging and keeping saves a share."""

    name = "revenue_at_risk"
    tasks = ("binary",)
    choice = "Each 'yes' loses the value in a column"

    def kpis(self, spec: ModelSpec) -> list[KPI]:
        b = spec.business
        unit = b.unit
        return [
            KPI(
                "revenue_at_risk",
                f"{upper_first(unit)} at risk",
                "money",
                f"The {unit} of scored {b.entity}s, weighted by how likely the model thinks each is to be among the "
                f"{b.positive}.",
                higher_is_better=False,
                headline=True,
            ),
            KPI(
                "flagged",
                f"{upper_first(b.entity)}s flagged",
                "count",
                f"{upper_first(b.entity)}s the model flagged as likely to be among the {b.positive}.",
            ),
            KPI(
                "lost",
                f"{upper_first(unit)} lost",
                "money",
                f"The {unit} of the {b.positive} (known once outcomes arrive).",
                higher_is_better=False,
            ),
            KPI(
                "saved",
                f"{upper_first(unit)} saved",
                "money",
                f"If {b.retention_rate:.0%} of the flagged {b.positive} are kept, this much {unit} stays.",
                higher_is_better=True,
            ),
            KPI(
                "missed",
                f"{upper_first(unit)} missed",
                "money",
                f"The {unit} of {b.positive} the model did not flag.",
                higher_is_better=False,
            ),
            KPI(
                "positive_rate",
                f"Share of {b.positive}",
                "share",
                f"Of {b.entity}s with a known outcome, the share among the {b.positive}.",
                higher_is_better=False,
            ),
        ]

    def values(self, spec: ModelSpec, stats: dict, business: BusinessConfig) -> dict[str, float]:
        lab = stats.get("n_labelled", 0)
        positives = stats.get("tp", 0) + stats.get("fn", 0)
        return {
            "flagged": stats.get("flagged", 0),
            "revenue_at_risk": stats.get("expected_value_at_risk", 0.0),
            "lost": stats.get("value_positive", 0.0),
            "saved": stats.get("value_tp", 0.0) * business.retention_rate,
            "missed": stats.get("value_fn", 0.0),
            "positive_rate": positives / lab if lab else float("nan"),
        }

    def exposure(self, spec: ModelSpec, stats: dict, when: str) -> tuple[str, float | None]:
        b = spec.business
        value = stats.get("expected_value_at_risk", 0.0)
        rows = plural(stats.get("n", 0), b.entity)
        return (
            f"The {rows} scored {when} hold about {money(spec, value)} of {b.unit} at stake, weighted by how likely "
            f"each is to be among the {b.positive}, and the model now judges them less surely."
        ), value

    def loss(self, spec: ModelSpec, stats: dict, when: str, ref_value: float | None) -> tuple[str, float | None]:
        b = spec.business
        extra = extra_missed(stats, ref_value)
        positives = stats.get("tp", 0) + stats.get("fn", 0)
        if extra is not None and positives:
            each = stats.get("value_positive", 0.0) / positives
            n, low, high = extra
            return (
                f"About {n:,} more of the {b.positive} went unflagged {when} than the model usually misses: "
                f"about {money(spec, n * each)} of {b.unit} (likely between {money(spec, low * each)} and "
                f"{money(spec, high * each)})."
            ), n * each
        lost = stats.get("value_fn", 0.0)
        return (
            f"{stats.get('fn', 0):,} of the {b.positive} {when} were not flagged: about {money(spec, lost)} of "
            f"{b.unit} was at stake."
        ), lost

    def gain(self, spec: ModelSpec, stats_a: dict, stats_b: dict) -> tuple[float | None, str]:
        b = spec.business
        return (stats_b.get("value_tp", 0.0) - stats_a.get("value_tp", 0.0)) * b.retention_rate, f"{b.unit} kept"

    def gain_sentence(self, spec: ModelSpec, gain: float, b: int) -> str:
        amount = format_value("money", abs(gain), spec.business.currency)
        more = "more" if gain > 0 else "less"
        return f"Had v{b} been live, about {amount} {more} {spec.business.unit} would have been kept."
