"""The segment rule: one group of rows moved ("customers with contract Month-to-month now leave at 61%,
up from 42%"), named with the money it is worth, while the model's overall numbers may still look fine.

It reads the segment check (`core.monitoring.segments`): per window, every group whose outcome rate
(yes/no models) or typical error (numbers) is past the line against the same group in validation, and
clearly beyond chance. The alert names the group that moved most; other groups that moved in the same
window are counted, not named, so a planted change in one group names that group and no other.
"""

from __future__ import annotations

import json

from core.alerts.rule import AlertRule
from core.alerts.rule import Firing
from core.alerts.rule import rule
from core.results import Check
from core.wording import amount
from core.wording import group_phrase
from core.wording import money
from core.wording import pct
from core.wording import plural


@rule
class SegmentRule(AlertRule):
    """A group of rows (one value or range of one input) moved against the same group in validation."""

    key = "segment"
    check = Check.SEGMENT
    per_column = True
    band = ("segment_shift", "warn")
    rows_needed = "none"  # the check only stores groups that had enough outcomes
    tasks = ("binary", "regression")
    title = "a group of cases moved"
    action = (
        "Ask the team what changed for this group (prices, a campaign, a partner, a process). If it lasts, "
        "retrain on recent data so the model learns it."
    )

    def measure_of(self, row) -> float | None:  # noqa: ANN001 - a stored result row
        """The rise in points (yes/no) or the relative rise in typical error, only when beyond chance."""
        details = _details(row)
        value, ref = row["value"], row["reference"]
        if not details.get("significant") or value is None or ref is None or value != value or ref != ref:
            return None
        if row["metric"] == "outcome_rate":
            return float(value) - float(ref)
        return (float(value) - float(ref)) / abs(float(ref)) if ref else None

    def _group(self, f: Firing) -> str:
        return group_phrase(f.spec, str(f.row["column"]), str(f.details.get("segment", "")))

    def title_for(self, f: Firing) -> str:
        return f"{self._group(f)} changed"

    def what(self, f: Firing) -> str:
        spec, b, group = f.spec, f.spec.business, self._group(f)
        others = max(len(f.details.get("columns", [])) - 1, 0)
        more = f" {plural(others, 'other group')} moved in the same window too." if others else ""
        if f.row["metric"] == "outcome_rate":
            return (
                f"The share of {b.positive} among {group} rose from {pct(f.reference)} to {pct(f.value)} {f.when}."
                + more
            )
        return (
            f"The model missed {b.target_noun} by {amount(spec, f.value)} on a typical one of the {group} {f.when}, "
            f"against {amount(spec, f.reference)} in testing." + more
        )

    def cost(self, f: Firing) -> tuple[str, float | None]:
        spec, b, value = f.spec, f.spec.business, float(f.details.get("money", 0.0) or 0.0)
        group = self._group(f)
        if f.row["metric"] == "outcome_rate":
            extra = float(f.details.get("extra", 0.0) or 0.0)
            worth = f"{money(spec, value)} of {b.unit}" if b.kind == "revenue_at_risk" else money(spec, value)
            return (
                f"About {plural(extra, f'more {b.entity}')} than usual among {group}: about {worth} at risk {f.when}."
            ), value
        return f"The extra error on {group} cost about {money(spec, value)} {f.when}.", value


def _details(row) -> dict:  # noqa: ANN001
    raw = row.get("details")
    return json.loads(raw) if isinstance(raw, str) else {}
