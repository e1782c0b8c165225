"""Segments: the groups of rows a founder asks about ("month-to-month customers", "flights from EWR").

A :class:`SegmentPlan` says, for one input, which group each row belongs to: its most common values
(the rest pooled as "other values", so a group never holds a handful of rows), or four ranges cut at the
reference data's quartiles for numbers. Plans are made once per version from its reference rows, so
every window of the version splits the same way and a group's numbers line up over time.

Each group gets the same sufficient statistics as a whole window (`core.monitoring.stats`): counts and
sums, so the groups of one input add up exactly to the window and any period pools by adding. The
segment check compares each group's outcomes (yes/no models) or typical error (numbers) with the same
group in the version's validation data, and only a change that is both large and clearly more than
chance counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.modeling.features import category_strings
from core.monitoring.stats import window_stats
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.schema import ModelSpec

OTHER = "other values"
MISSING = "missing"
MAX_VALUES = 8
"""At most this many named groups per input; the rest are pooled."""
MIN_SHARE = 0.02
"""A value needs this share of the reference rows to be its own group."""
MAX_COLUMNS = 40
MAX_BIGGEST = 0.9
"""An input whose largest group holds more than this share of the reference rows does not split them."""
MIN_REFERENCE_ROWS = 200
"""Below this many validation rows the group references come from train and validation together."""
SIGNIFICANCE = 3.0
"""A group's change must be at least this many standard errors from its reference (1 in 740 by chance)."""
FAMILY_CHANCE = 0.002
"""The chance that any group of a same-distribution window fires: a window tests dozens of groups, so the
line in standard errors rises with their number (Bonferroni). Measured before this: at 1,000-row
windows about 60 groups at 3 standard errors made one window in 40 raise a segment alert by chance."""


def significance(groups: int) -> float:
    """The standard errors a group's change needs when `groups` groups are judged in one window."""
    return max(SIGNIFICANCE, float(norm.isf(FAMILY_CHANCE / max(groups, 1))))


@dataclass(frozen=True)
class SegmentPlan:
    """How one input splits rows into groups: named values, or number ranges."""

    column: str
    labels: tuple[str, ...]
    values: tuple[str, ...] = ()
    """Categories: the values with a group of their own (in label order)."""
    edges: tuple[float, ...] = ()
    """Numbers: the cut points between ranges (ascending)."""

    @property
    def numeric(self) -> bool:
        return bool(self.edges)

    def assign(self, series: pd.Series) -> np.ndarray:
        """The group label of every value in `series`."""
        out = np.full(len(series), OTHER, dtype=object)
        if self.numeric:
            x = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
            idx = np.searchsorted(np.asarray(self.edges), x, side="right")
            ok = np.isfinite(x)
            out[ok] = np.asarray(self.labels, dtype=object)[idx[ok]]
            out[~ok] = MISSING
            return out
        text = category_strings(series)
        known = text.isin(self.values).to_numpy()
        out[known] = text[known].to_numpy()
        out[text.isna().to_numpy()] = MISSING
        return out


def _num(x: float) -> str:
    """Cut points as people write them: `9`, `29.5`, `1,700`, `0.35`."""
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"


def plan_segments(spec: ModelSpec, reference: pd.DataFrame, features: list[str]) -> list[SegmentPlan]:
    """A plan for each input (up to :data:`MAX_COLUMNS`) from the version's reference rows; an input
    with one group holding nearly every row (:data:`MAX_BIGGEST`) has none: its groups are the model."""
    return [p for p in _plans(spec, reference, features) if _splits(p, reference)]


def _splits(plan: SegmentPlan, reference: pd.DataFrame) -> bool:
    shares = pd.Series(plan.assign(reference[plan.column])).value_counts(normalize=True)
    return len(shares) > 1 and float(shares.iloc[0]) <= MAX_BIGGEST


def _plans(spec: ModelSpec, reference: pd.DataFrame, features: list[str]) -> list[SegmentPlan]:
    plans = []
    for col in features[:MAX_COLUMNS]:
        if col not in reference:
            continue
        series = reference[col]
        numbers = pd.to_numeric(series, errors="coerce").dropna() if col in spec.numerical else None
        if numbers is not None and numbers.nunique() > MAX_VALUES:
            edges = tuple(sorted(set(float(q) for q in numbers.quantile([0.25, 0.5, 0.75]))))
            labels = [f"under {_num(edges[0])}"]
            labels += [f"{_num(a)} to under {_num(b)}" for a, b in zip(edges, edges[1:], strict=False)]
            labels.append(f"{_num(edges[-1])} and over")
            plans.append(SegmentPlan(column=col, labels=tuple(labels), edges=edges))
            continue
        text = category_strings(series).dropna() if numbers is None else numbers.map(_num)
        if text.empty:
            continue
        shares = text.value_counts(normalize=True)
        kept = tuple(str(v) for v in shares[shares >= MIN_SHARE].index[:MAX_VALUES])
        if not kept:
            continue
        if numbers is not None:  # a few distinct numbers (0/1 flags, counts): groups by value, in order
            kept = tuple(sorted(kept, key=float))
            plans.append(_numeric_values(col, numbers, kept))
            continue
        plans.append(SegmentPlan(column=col, labels=(*kept, OTHER, MISSING), values=kept))
    return plans


def _numeric_values(col: str, numbers: pd.Series, kept: tuple[str, ...]) -> SegmentPlan:
    """A plan for a number with few values: one range per kept value (rare values join the one below)."""
    values = sorted(float(v.replace(",", "")) for v in kept)
    edges = tuple(values[1:]) or (values[0] + 0.5,)
    if len(values) == 1:
        labels = (f"under {_num(edges[0])}", f"{_num(edges[0])} and over")
    else:
        labels = tuple(_num(v) for v in values)
    return SegmentPlan(column=col, labels=labels, edges=edges)


def segment_stats(
    spec: ModelSpec, plans: list[SegmentPlan], frame: pd.DataFrame, *, threshold: float
) -> tuple[tuple[str, str, dict], ...]:
    """(column, group, statistics) of every group with rows in `frame`, for every plan."""
    out = []
    for plan in plans:
        if plan.column not in frame:
            continue
        labels = pd.Series(plan.assign(frame[plan.column]), index=frame.index)
        for label, part in frame.groupby(labels, sort=False):
            out.append((plan.column, str(label), window_stats(spec, part, threshold=threshold)))
    return tuple(out)


def segment_base(reference: pd.DataFrame) -> pd.DataFrame:
    """The rows each group is compared with: the version's validation rows (all reference rows when
    validation is small), which the model never learned from."""
    validation = reference[reference["_split"] == "validation"]
    return validation if len(validation) >= MIN_REFERENCE_ROWS else reference


def _rate(stats: dict) -> tuple[float, int] | None:
    lab = int(stats.get("n_labelled", 0))
    if not lab:
        return None
    return (stats.get("tp", 0) + stats.get("fn", 0)) / lab, lab


def _typical_error(stats: dict) -> tuple[float, float, int] | None:
    """(mean absolute error, its variance per row, labelled rows)."""
    lab = int(stats.get("n_labelled", 0))
    if not lab:
        return None
    mae = stats.get("sum_abs_err", 0.0) / lab
    return mae, max(stats.get("sum_sq_err", 0.0) / lab - mae**2, 0.0), lab


def _money_per_row(stats: dict) -> float:
    """What one row of the group is worth when it turns out positive (its average value)."""
    n = stats.get("n", 0)
    return stats.get("value_total", 0.0) / n if n else 0.0


def _judge(spec: ModelSpec, stats: dict, ref: dict, need: int) -> dict | None:
    """A group's change against its reference: value, reference, metric, measure, z and money; None when
    either side has too few outcomes."""
    if spec.task == "binary":
        now, then = _rate(stats), _rate(ref)
        if now is None or then is None or now[1] < need or then[1] < need:
            return None
        (rate, lab), (ref_rate, ref_lab) = now, then
        change = rate - ref_rate
        spread = math.sqrt(max(ref_rate * (1 - ref_rate), 1e-6) * (1 / lab + 1 / ref_lab))
        extra = max(change, 0.0) * lab
        return {
            "metric": "outcome_rate",
            "value": rate,
            "reference": ref_rate,
            "measure": change,
            "n": lab,
            "z": change / spread,
            "extra": extra,
            "money": extra * _money_per_row(stats),
        }
    now_e, then_e = _typical_error(stats), _typical_error(ref)
    if now_e is None or then_e is None or now_e[2] < need or then_e[2] < need or then_e[0] <= 0:
        return None
    (mae, var, lab), (ref_mae, ref_var, ref_lab) = now_e, then_e
    change = mae - ref_mae
    spread = math.sqrt(var / lab + ref_var / ref_lab) or 1e-9
    return {
        "metric": "typical_error",
        "value": mae,
        "reference": ref_mae,
        "measure": change / ref_mae,
        "n": lab,
        "z": change / spread,
        "money": max(change, 0.0) * stats.get("qty_labelled", lab),
    }


def segment_checks(
    *,
    spec: ModelSpec,
    plans: list[SegmentPlan],
    current: pd.DataFrame,
    reference: pd.DataFrame,
    current_stats: tuple[tuple[str, str, dict], ...],
    reference_stats: dict[tuple[str, str], dict],
    thresholds: Thresholds,
    threshold: float,
) -> list[CheckResult]:
    """One result per group with enough outcomes: its outcome rate (yes/no) or typical error (numbers)
    against the same group's reference rows, with the money the change is worth in `details`.

    Groups overlap (month-to-month customers are spread over every payment method), so one real change
    moves many groups. Changed groups are taken strongest first; each next one is judged again on the
    rows outside the groups already taken, in the window and in the reference, and counts only if it still
    moved: the others are recorded as explained by the group that moved (`details["explained_by"]`).
    """
    band, need = thresholds.segment_shift, thresholds.segment_min_labels
    if spec.task == "multiclass":
        return []
    plan_of = {p.column: p for p in plans}
    judged = []
    for column, label, stats in current_stats:
        ref = reference_stats.get((column, label))
        verdict = _judge(spec, stats, ref, need) if ref is not None else None
        if verdict is not None:
            judged.append((column, label, verdict))
    line = significance(len(judged))

    def moved(v: dict) -> bool:
        return v["z"] >= line and band.status(v["measure"]) != Status.OK

    taken: list[tuple[str, str]] = []
    outside_now = np.ones(len(current), dtype=bool)
    outside_ref = np.ones(len(reference), dtype=bool)
    results = []
    for column, label, verdict in sorted(judged, key=lambda t: -t[2]["z"]):
        explained_by = None
        if moved(verdict) and taken:
            plan = plan_of[column]
            now_rows = current[outside_now & (plan.assign(current[column]) == label)]
            ref_rows = reference[outside_ref & (plan.assign(reference[column]) == label)]
            again = _judge(
                spec,
                window_stats(spec, now_rows, threshold=threshold),
                window_stats(spec, ref_rows, threshold=threshold),
                need,
            )
            if again is None or not moved(again):
                explained_by = [f"{c} = {g}" for c, g in taken]
        significant = verdict["z"] >= line and explained_by is None
        if moved(verdict) and explained_by is None:
            taken.append((column, label))
            plan = plan_of[column]
            outside_now &= plan.assign(current[column]) != label
            outside_ref &= plan.assign(reference[column]) != label
        details = {
            "segment": label,
            "z": verdict["z"],
            "line": line,
            "significant": bool(significant),
            "money": verdict["money"],
            **({"extra": verdict["extra"]} if "extra" in verdict else {}),
            **({"explained_by": explained_by} if explained_by else {}),
        }
        value, ref_value, z = verdict["value"], verdict["reference"], verdict["z"]
        results.append(
            CheckResult(
                check=Check.SEGMENT,
                metric=verdict["metric"],
                column=column,
                value=float(value),
                reference=float(ref_value),
                threshold=band.warn,
                status=band.status(verdict["measure"]) if significant else Status.OK,
                n_rows=int(verdict["n"]),
                message=f"{column} = {label}: {value:.3g} against {ref_value:.3g} ({z:+.1f} standard errors)"
                + (f", explained by {explained_by[0]}." if explained_by else "."),
                details=details,
            )
        )
    return results
