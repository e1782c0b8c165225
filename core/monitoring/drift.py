"""Drift calculator: features, predictions and the target against the reference, through Evidently."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.monitoring.evidently_adapter import MISSING_CATEGORY
from core.monitoring.evidently_adapter import DriftRequest
from core.monitoring.evidently_adapter import DriftScore
from core.monitoring.evidently_adapter import PreparedReference
from core.monitoring.evidently_adapter import drift_scores
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.results import clean
from core.schema import ModelSpec
from core.wording import short

METHOD_WORDS = {
    "wasserstein": "how far values moved, in standard deviations of the training data",
    "jensenshannon": "how different the category shares are (0 same, 1 nothing in common)",
}


def column_kind(spec: ModelSpec, column: str) -> str:
    """`num` or `cat` for a feature of `spec`."""
    return "num" if column in spec.numerical else "cat"


def prediction_column(spec: ModelSpec) -> tuple[str, str]:
    """Which stored output to watch for prediction drift, and its kind."""
    if spec.task == "binary":
        return "_probability", "num"
    if spec.task == "multiclass":
        return "_prediction", "cat"
    return "_prediction", "num"


@dataclass(frozen=True)
class ReferenceHistogram:
    """The reference side of a drill-down chart, computed once per version."""

    kind: str
    labels: tuple[str, ...] = ()
    shares: tuple[float, ...] = ()
    edges: tuple[float, ...] = ()
    mean: float | None = None
    """Numbers: the reference mean, so a window can say whether values went up or down."""


def reference_histogram(values: pd.Series, *, kind: str, bins: int = 20) -> ReferenceHistogram:
    """Category shares, or a 20-bin histogram over the reference's range (as shares)."""
    if kind == "cat":
        shares = values.astype("string").fillna(MISSING_CATEGORY).value_counts(normalize=True)
        return ReferenceHistogram("cat", tuple(str(x) for x in shares.index), tuple(float(v) for v in shares))
    r = pd.to_numeric(values, errors="coerce").dropna().to_numpy()
    if r.size == 0:
        return ReferenceHistogram("num")
    lo, hi = float(r.min()), float(r.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    shares = tuple(np.histogram(r, bins=edges)[0] / r.size)
    return ReferenceHistogram("num", shares=shares, edges=tuple(edges), mean=float(r.mean()))


def histogram(ref: ReferenceHistogram, current: pd.Series) -> dict:
    """Reference against current distribution for the drill-down chart (shares).

    Numbers use the reference's bins; current values beyond them land in the end bins and their share
    is reported as `below` / `above`, so a move out of the training range stays visible; both means
    (unclipped) say which way the values moved.
    """
    if ref.kind == "cat":
        cur = current.astype("string").fillna(MISSING_CATEGORY).value_counts(normalize=True)
        top = list(ref.labels[:15]) + [v for v in cur.index[:5] if v not in ref.labels[:15]]
        ref_share = dict(zip(ref.labels, ref.shares, strict=True))
        return {
            "kind": "cat",
            "labels": [short(x, 60) for x in top],
            "reference": [round(ref_share.get(x, 0.0), 5) for x in top],
            "current": [round(float(cur.get(x, 0.0)), 5) for x in top],
        }
    c = pd.to_numeric(current, errors="coerce").dropna().to_numpy()
    if not ref.edges or c.size == 0:
        return {"kind": "num", "edges": [], "reference": [], "current": []}
    edges = np.asarray(ref.edges)
    below, above = float((c < edges[0]).mean()), float((c > edges[-1]).mean())
    ch = np.histogram(np.clip(c, edges[0], edges[-1]), bins=edges)[0] / c.size
    return {
        "kind": "num",
        "edges": np.round(edges, 6).tolist(),
        "reference": np.round(ref.shares, 5).tolist(),
        "current": np.round(ch, 5).tolist(),
        "below": round(below, 5),
        "above": round(above, 5),
        "reference_mean": clean(ref.mean) if ref.mean is not None else None,
        "current_mean": clean(float(c.mean())),
    }


@dataclass(frozen=True)
class DriftReference:
    """Everything on the reference side of one version's drift checks, prepared once for all windows."""

    features: PreparedReference
    target: PreparedReference | None
    hists: dict[str, ReferenceHistogram]
    target_stats: dict[str, float]


def prepare_drift_reference(
    spec: ModelSpec, features: list[str], reference: pd.DataFrame, thresholds: Thresholds
) -> DriftReference:
    """Sample and convert the reference once; precompute its histograms."""
    pred_col, pred_kind = prediction_column(spec)
    requests = [DriftRequest(c, column_kind(spec, c), threshold=thresholds.drift) for c in features]
    requests.append(DriftRequest(pred_col, pred_kind, threshold=thresholds.prediction_drift.warn))
    hists = {r.column: reference_histogram(reference[r.column], kind=r.kind) for r in requests if r.column in reference}
    ref_target, kind = _target_frame(spec, reference)
    target = None
    stats: dict[str, float] = {}
    if len(ref_target):
        target = PreparedReference(ref_target, [DriftRequest("_label", kind, threshold=thresholds.target_drift.warn)])
        hists["_label"] = reference_histogram(ref_target["_label"], kind=kind)
        if spec.task == "binary":
            pos = float(spec.class_index()[str(spec.positive_class)])
            stats["reference_rate"] = float((reference["_label"].dropna() == pos).mean())
        elif spec.task == "regression":
            stats["reference_mean"] = float(reference["_label"].mean())
    return DriftReference(
        features=PreparedReference(reference, requests), target=target, hists=hists, target_stats=stats
    )


def _target_frame(spec: ModelSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    kind = "num" if spec.task == "regression" else "cat"
    if "_label" not in frame:
        return pd.DataFrame({"_label": []}), kind
    out = frame[["_label"]].dropna()
    if kind == "cat":  # compare class names, not 0.0/1.0
        names = {float(v): k for k, v in spec.class_index().items()}
        out = out.assign(_label=out["_label"].map(names))
    return out, kind


def _result(score: DriftScore, *, check: Check, n_rows: int, status: Status, details: dict, label: str) -> CheckResult:
    if score.missing:
        message = f"{label} has no values in this window, so it cannot be compared."
    else:
        plural = label.startswith("The model's")
        verb = ("have shifted" if plural else "has shifted") if score.drifted else ("look" if plural else "looks")
        verb = verb if score.drifted else f"{verb} like training"
        message = f"{label} {verb}: {score.method} score {score.score:.3f} (drift at {score.threshold:.2f})."
    if score.sampled_rows:
        details = {**details, "sampled_rows": score.sampled_rows}
    return CheckResult(
        check=check,
        metric=f"{score.method}",
        column=score.column,
        method=score.method,
        value=clean(score.score),
        threshold=score.threshold,
        status=status,
        message=message,
        n_rows=n_rows,
        details=details,
    )


def drift_checks(
    *,
    spec: ModelSpec,
    features: list[str],
    reference: pd.DataFrame | DriftReference,
    current: pd.DataFrame,
    thresholds: Thresholds,
    seed: int = 0,
) -> list[CheckResult]:
    """Per-feature drift, the share of drifted features and prediction drift, in one Evidently report."""
    if not isinstance(reference, DriftReference):
        reference = prepare_drift_reference(spec, features, reference, thresholds)
    pred_col, pred_kind = prediction_column(spec)
    requests = [DriftRequest(c, column_kind(spec, c), threshold=thresholds.drift) for c in features]
    requests.append(DriftRequest(pred_col, pred_kind, threshold=thresholds.prediction_drift.warn))
    scores = drift_scores(reference=reference.features, current=current, requests=requests, seed=seed)
    n = len(current)
    out: list[CheckResult] = []
    feature_scores = scores[:-1]
    for s in feature_scores:
        details = histogram(reference.hists[s.column], current[s.column]) if not s.missing else {}
        status = Status.WARN if s.drifted else Status.OK
        out.append(_result(s, check=Check.DRIFT, n_rows=n, status=status, details=details, label=f"`{s.column}`"))
    compared = [s for s in feature_scores if not s.missing]
    drifted = [s.column for s in compared if s.drifted]
    share = len(drifted) / len(compared) if compared else float("nan")
    ranked = sorted(compared, key=lambda s: -(s.score if s.score == s.score else -1))
    out.append(
        CheckResult(
            check=Check.DRIFT_SHARE,
            metric="drift_share",
            value=clean(share),
            threshold=thresholds.drift_share.warn,
            status=thresholds.drift_share.status(share),
            n_rows=n,
            message=f"{len(drifted)} of {len(compared)} features shifted"
            + (f" ({', '.join(drifted[:5])}{', ...' if len(drifted) > 5 else ''})." if drifted else "."),
            details={"drifted": drifted, "top": [{"column": s.column, "score": clean(s.score)} for s in ranked[:5]]},
        )
    )
    p = scores[-1]
    details = histogram(reference.hists[pred_col], current[pred_col]) if not p.missing else {}
    out.append(
        _result(
            p,
            check=Check.PREDICTION_DRIFT,
            n_rows=n,
            details=details,
            label="The model's answers",
            status=thresholds.prediction_drift.status(p.score) if not p.missing else Status.OK,
        )
    )
    return out


def target_drift_check(
    *,
    spec: ModelSpec,
    reference: pd.DataFrame | DriftReference,
    labelled: pd.DataFrame,
    thresholds: Thresholds,
    seed: int = 0,
) -> CheckResult:
    """Drift of the outcome itself (labels that arrived) against the reference target."""
    if not isinstance(reference, DriftReference):
        reference = prepare_drift_reference(spec, [], reference, thresholds)
    cur, kind = _target_frame(spec, labelled)
    if reference.target is None:
        score = DriftScore("_label", kind, "", thresholds.target_drift.warn, float("nan"), False, missing=True)
        details: dict = {}
    else:
        (score,) = drift_scores(
            reference=reference.target,
            current=cur,
            seed=seed,
            requests=[DriftRequest("_label", kind, threshold=thresholds.target_drift.warn)],
        )
        details = histogram(reference.hists["_label"], cur["_label"])
    details.update(reference.target_stats)
    if spec.task == "binary":
        pos = float(spec.class_index()[str(spec.positive_class)])
        details["current_rate"] = clean(float((labelled["_label"] == pos).mean()))
    elif spec.task == "regression":
        details["current_mean"] = clean(float(labelled["_label"].mean()))
    return _result(
        score,
        check=Check.TARGET_DRIFT,
        n_rows=len(labelled),
        details=details,
        label="The outcome",
        status=thresholds.target_drift.status(score.score) if not score.missing else Status.OK,
    )
