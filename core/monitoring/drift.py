"""Drift calculator: features, predictions and the target against the reference, through Evidently."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.evidently_adapter import MISSING_CATEGORY
from core.evidently_adapter import DriftRequest
from core.evidently_adapter import DriftScore
from core.evidently_adapter import drift_scores
from core.monitoring.result import Check
from core.monitoring.result import CheckResult
from core.monitoring.result import Status
from core.monitoring.result import clean
from core.monitoring.thresholds import Thresholds
from core.schema import ModelSpec

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


def histogram(reference: pd.Series, current: pd.Series, *, kind: str, bins: int = 20) -> dict:
    """Reference and current distributions for the drill-down chart (shares; bins span both)."""
    if kind == "cat":
        ref = reference.astype("string").fillna(MISSING_CATEGORY)
        cur = current.astype("string").fillna(MISSING_CATEGORY)
        top = ref.value_counts().index[:15].tolist()
        top += [v for v in cur.value_counts().index[:5] if v not in top]
        ref_share = ref.value_counts(normalize=True).reindex(top, fill_value=0)
        cur_share = cur.value_counts(normalize=True).reindex(top, fill_value=0)
        return {
            "kind": "cat",
            "labels": [str(x) for x in top],
            "reference": ref_share.round(5).tolist(),
            "current": cur_share.round(5).tolist(),
        }
    r = pd.to_numeric(reference, errors="coerce").dropna().to_numpy()
    c = pd.to_numeric(current, errors="coerce").dropna().to_numpy()
    if r.size == 0 or c.size == 0:
        return {"kind": "num", "edges": [], "reference": [], "current": []}
    lo, hi = float(min(r.min(), c.min())), float(max(r.max(), c.max()))
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    rh = np.histogram(r, bins=edges)[0] / r.size
    ch = np.histogram(c, bins=edges)[0] / c.size
    return {
        "kind": "num",
        "edges": np.round(edges, 6).tolist(),
        "reference": np.round(rh, 5).tolist(),
        "current": np.round(ch, 5).tolist(),
    }


def _result(score: DriftScore, *, check: Check, n_rows: int, status: Status, details: dict, label: str) -> CheckResult:
    if score.missing:
        message = f"{label} has no values in this window, so it cannot be compared."
    else:
        verb = "has shifted" if score.drifted else "looks like training"
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
    reference: pd.DataFrame,
    current: pd.DataFrame,
    thresholds: Thresholds,
    seed: int = 0,
) -> list[CheckResult]:
    """Per-feature drift, the share of drifted features and prediction drift, in one Evidently report."""
    pred_col, pred_kind = prediction_column(spec)
    requests = [DriftRequest(c, column_kind(spec, c), threshold=thresholds.drift) for c in features]
    requests.append(DriftRequest(pred_col, pred_kind, threshold=thresholds.prediction_drift.warn))
    scores = drift_scores(reference=reference, current=current, requests=requests, seed=seed)
    n = len(current)
    out: list[CheckResult] = []
    feature_scores = scores[:-1]
    for s in feature_scores:
        details = histogram(reference[s.column], current[s.column], kind=s.kind) if not s.missing else {}
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
    details = histogram(reference[pred_col], current[pred_col], kind=pred_kind) if not p.missing else {}
    out.append(
        _result(
            p,
            check=Check.PREDICTION_DRIFT,
            n_rows=n,
            details=details,
            label="The model's predictions",
            status=thresholds.prediction_drift.status(p.score) if not p.missing else Status.OK,
        )
    )
    return out


def target_drift_check(
    *, spec: ModelSpec, reference: pd.DataFrame, labelled: pd.DataFrame, thresholds: Thresholds, seed: int = 0
) -> CheckResult:
    """Drift of the outcome itself (labels that arrived) against the reference target."""
    kind = "num" if spec.task == "regression" else "cat"
    ref = reference[["_label"]].dropna()
    cur = labelled[["_label"]]
    if kind == "cat":  # compare class names, not 0.0/1.0
        names = {float(v): k for k, v in spec.class_index().items()}
        ref = ref.assign(_label=ref["_label"].map(names))
        cur = cur.assign(_label=cur["_label"].map(names))
    (score,) = drift_scores(
        reference=ref,
        current=cur,
        seed=seed,
        requests=[DriftRequest("_label", kind, threshold=thresholds.target_drift.warn)],
    )
    details = histogram(ref["_label"], cur["_label"], kind=kind)
    if spec.task == "binary":
        pos = float(spec.class_index()[str(spec.positive_class)])
        details["reference_rate"] = clean(float((reference["_label"].dropna() == pos).mean()))
        details["current_rate"] = clean(float((labelled["_label"] == pos).mean()))
    elif spec.task == "regression":
        details["reference_mean"] = clean(float(reference["_label"].mean()))
        details["current_mean"] = clean(float(labelled["_label"].mean()))
    return _result(
        score,
        check=Check.TARGET_DRIFT,
        n_rows=len(labelled),
        details=details,
        label="The outcome",
        status=thresholds.target_drift.status(score.score) if not score.missing else Status.OK,
    )
