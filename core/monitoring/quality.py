"""Data quality calculator: missing values, unseen categories, out-of-range numbers, vanished columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.modeling.features import category_strings
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.results import clean
from core.schema import ModelSpec
from core.wording import short


@dataclass(frozen=True)
class ColumnProfile:
    """What a column looked like in the reference data."""

    kind: str
    missing_share: float
    lo: float | None = None
    hi: float | None = None
    categories: frozenset[str] = frozenset()


def profile_reference(spec: ModelSpec, reference: pd.DataFrame, features: list[str]) -> dict[str, ColumnProfile]:
    """Missing share, numeric range and known categories of each feature in the reference data."""
    out = {}
    for col in features:
        series = reference[col]
        missing = float(series.isna().mean()) if len(series) else 0.0
        if col in spec.numerical:
            values = pd.to_numeric(series, errors="coerce").dropna()
            lo = float(values.min()) if len(values) else None
            hi = float(values.max()) if len(values) else None
            out[col] = ColumnProfile("num", missing, lo, hi)
        else:
            out[col] = ColumnProfile("cat", missing, categories=frozenset(category_strings(series).dropna().unique()))
    return out


def quality_checks(
    *, spec: ModelSpec, current: pd.DataFrame, profile: dict[str, ColumnProfile], thresholds: Thresholds
) -> list[CheckResult]:
    """Per feature: missing share (against the reference), unseen categories, values outside the training range."""
    n = len(current)
    out: list[CheckResult] = []
    vanished = []
    for col, prof in profile.items():
        series = current[col] if col in current.columns else pd.Series(np.nan, index=current.index)
        missing = float(series.isna().mean()) if n else 0.0
        if n and missing == 1.0 and prof.missing_share < 0.5:
            vanished.append(col)
        increase = missing - prof.missing_share
        out.append(
            CheckResult(
                check=Check.QUALITY,
                metric="missing_share",
                column=col,
                value=clean(missing),
                reference=prof.missing_share,
                threshold=thresholds.missing_increase.warn,
                n_rows=n,
                status=thresholds.missing_increase.status(increase),
                message=f"`{col}` is empty in {missing:.1%} of rows (training: {prof.missing_share:.1%}).",
            )
        )
        present = series.dropna()
        if prof.kind == "cat":
            unseen_mask = ~category_strings(present).isin(prof.categories)
            share = float(unseen_mask.mean()) if len(present) else 0.0
            examples = [short(e) for e in category_strings(present[unseen_mask]).value_counts().index[:3]]
            out.append(
                CheckResult(
                    check=Check.QUALITY,
                    metric="unseen_share",
                    column=col,
                    value=clean(share),
                    threshold=thresholds.unseen_share.warn,
                    status=thresholds.unseen_share.status(share),
                    n_rows=n,
                    message=f"{share:.1%} of `{col}` values were never seen in training"
                    + (f" (e.g. {', '.join(map(str, examples))})." if examples else "."),
                    details={"examples": [str(e) for e in examples]},
                )
            )
        else:
            values = pd.to_numeric(present, errors="coerce").dropna()
            if prof.lo is None or values.empty:
                share, above, below = 0.0, 0.0, 0.0
            else:
                below = float((values < prof.lo).mean())
                above = float((values > prof.hi).mean())
                share = below + above
            out.append(
                CheckResult(
                    check=Check.QUALITY,
                    metric="out_of_range_share",
                    column=col,
                    value=clean(share),
                    threshold=thresholds.out_of_range_share.warn,
                    status=thresholds.out_of_range_share.status(share),
                    n_rows=n,
                    lower=prof.lo,
                    upper=prof.hi,
                    message=(
                        f"{share:.1%} of `{col}` values lie outside the training range {_fmt(prof.lo)} to "
                        f"{_fmt(prof.hi)}."
                        if prof.lo is not None
                        else f"`{col}` had no values in training, so there is no range to compare with."
                    ),
                    details={"below": clean(below), "above": clean(above)},
                )
            )
    out.append(
        CheckResult(
            check=Check.QUALITY,
            metric="missing_columns",
            value=float(len(vanished)),
            threshold=0.5,
            n_rows=n,
            status=Status.ALERT if vanished else Status.OK,
            message=(
                f"No values at all arrived for {', '.join(f'`{c}`' for c in vanished)}: the column may have been "
                "dropped or renamed upstream."
            )
            if vanished
            else "Every feature column arrived.",
            details={"columns": vanished},
        )
    )
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
