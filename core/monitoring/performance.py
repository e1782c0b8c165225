"""Performance calculator: realised quality on labelled rows, against the validation value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.metrics import BY_TASK
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.metrics import task_metrics
from core.monitoring.chance import quality_p_values
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.results import clean
from core.schema import ModelSpec


def labelled_arrays(spec: ModelSpec, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(labels, predictions, probabilities) of the rows whose label arrived."""
    rows = frame[frame["_label"].notna()]
    y = rows["_label"].to_numpy(dtype="float64")
    pred = rows["_prediction"].to_numpy(dtype="float64")
    if spec.task == "binary":
        return y, pred, rows["_probability"].to_numpy(dtype="float64")
    if spec.task == "multiclass":
        return y, pred, np.vstack(rows["_scores"].to_numpy()) if len(rows) else np.zeros((0, len(spec.classes)))
    return y, pred, None


def relative_loss(metric: str, value: float, reference: float) -> float:
    """How much worse `value` is than `reference`, as a share of the reference (negative: better)."""
    if reference is None or not np.isfinite(reference) or reference == 0 or not np.isfinite(value):
        return float("nan")
    if METRICS[metric].higher_is_better:
        return (reference - value) / abs(reference)
    return (value - reference) / abs(reference)


def performance_checks(
    *,
    spec: ModelSpec,
    frame: pd.DataFrame,
    reference_metrics: dict[str, float],
    thresholds: Thresholds,
) -> list[CheckResult]:
    """Every metric of the task on the labelled rows, each against its validation value with a tolerance."""
    y, pred, proba = labelled_arrays(spec, frame)
    n = len(y)
    primary = PRIMARY[spec.task]
    if n < thresholds.min_labels:
        return [
            CheckResult(
                check=Check.PERFORMANCE,
                metric=primary,
                value=None,
                status=Status.NO_LABELS,
                n_rows=n,
                message=f"Only {n} of {len(frame)} outcomes have arrived; at least {thresholds.min_labels} are needed "
                "to measure quality.",
            )
        ]
    if spec.is_classification and len(np.unique(y)) < 2:
        only = {v: k for k, v in spec.class_index().items()}.get(float(y[0]), y[0])
        note = f"every arrived outcome is `{only}`, so ranking quality cannot be measured"
    else:
        note = ""
    values = task_metrics(spec.task, y, pred, proba)
    losses = {m: relative_loss(m, values.get(m, float("nan")), reference_metrics.get(m)) for m in BY_TASK[spec.task]}
    flagged = {m: reference_metrics[m] for m in losses if thresholds.performance_drop.status(losses[m]) != Status.OK}
    chance = (
        quality_p_values(task=spec.task, labels=y, predictions=pred, probabilities=proba, references=flagged)
        if flagged and n <= thresholds.performance_chance_rows
        else {}
    )
    out = []
    for metric in BY_TASK[spec.task]:
        value = values.get(metric, float("nan"))
        ref = reference_metrics.get(metric)
        loss = losses[metric]
        status = thresholds.performance_drop.status(loss)
        details = {"relative_loss": clean(loss), "primary": metric == primary}
        info = METRICS[metric]
        if not np.isfinite(value):
            message = f"{info.label} cannot be computed on this window" + (f": {note}." if note else ".")
        else:
            direction = "worse" if loss > 0 else "better"
            message = f"{info.label} {value:.3f} on {n:,} labelled rows"
            if ref is not None and np.isfinite(loss):
                message += f", {abs(loss):.0%} {direction} than at validation ({ref:.3f})"
                if metric in chance:
                    details["chance_p"] = clean(chance[metric])
                if chance.get(metric, 0.0) >= thresholds.performance_chance:
                    # a small window's metric strays this far from a model that did not change (see chance.py)
                    status, details["chance"] = Status.OK, True
                    message += f", but with {n:,} labelled rows a difference that size is the luck of the draw"
                message += "."
            else:
                message += "."
        out.append(
            CheckResult(
                check=Check.PERFORMANCE,
                metric=metric,
                value=clean(value),
                reference=clean(ref),
                threshold=thresholds.performance_drop.warn,
                status=status,
                n_rows=n,
                message=message,
                details=details,
            )
        )
    for key in values:
        if "[" in key:  # multiclass per-class scores: shown in drill-down, not alerted on
            cls = spec.classes[int(key.split("[")[1].rstrip("]"))]
            out.append(
                CheckResult(
                    check=Check.PERFORMANCE,
                    metric=key.split("[")[0] + f"[{cls}]",
                    value=clean(values[key]),
                    status=Status.OK,
                    n_rows=n,
                    message=f"{key.split('[')[0]} for class `{cls}`.",
                )
            )
    return out


def gap_check(
    *,
    metric: str,
    better: float,
    worse: float,
    thresholds: Thresholds,
    kind: str,
    n_rows: int,
    yardstick: tuple[float, float] | None = None,
    luck: bool = False,
) -> CheckResult:
    """Overfitting gap between two stages (train -> validation, or validation -> production).

    With `yardstick` (HistGradientBoosting's train and validation values on the same split) the gap is
    judged against the yardstick's own gap: only what the network loses beyond it counts, since some
    gap is what the data itself gives. `luck`: the performance check put the production value down to the
    luck of the draw, so the gap is not judged either.
    """
    loss = relative_loss(metric, worse, better)
    info = METRICS[metric]
    first, second = ("training", "validation") if kind == "train_validation" else ("validation", "production")
    judged, details = loss, {}
    message = (
        (
            f"{info.label}: {better:.3f} on {first} data, {worse:.3f} on {second} data "
            f"({abs(loss):.0%} {'worse' if loss > 0 else 'better'})."
        )
        if np.isfinite(loss)
        else f"{info.label} gap between {first} and {second} cannot be computed."
    )
    if yardstick is not None and np.isfinite(loss):
        allowance = relative_loss(metric, yardstick[1], yardstick[0])
        if np.isfinite(allowance):
            judged = loss - max(allowance, 0.0)
            details = {"gap": clean(loss), "yardstick_gap": clean(allowance)}
            verdict = (
                "so the network learned its training data no more by heart than the yardstick"
                if judged < thresholds.overfit_gap.warn
                else f"so the network loses {judged:.0%} more than the yardstick"
            )
            loses = f"loses {allowance:.0%}" if round(allowance * 100) >= 1 else "loses almost nothing"
            message += f" A gradient-boosting yardstick on the same split {loses} on new data, {verdict}."
    status = thresholds.overfit_gap.status(judged)
    if luck and status != Status.OK:
        status, details = Status.OK, {**details, "chance": True}
        message += f" With {n_rows:,} labelled rows a gap that size is the luck of the draw."
    return CheckResult(
        check=Check.OVERFITTING,
        metric=kind,
        column=metric,
        value=clean(judged),
        threshold=thresholds.overfit_gap.warn,
        status=status,
        reference=clean(better),
        upper=clean(worse),
        n_rows=n_rows,
        message=message,
        details=details,
    )
