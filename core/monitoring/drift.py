"""Drift calculator: features, predictions and the target against the reference, through Evidently."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.monitoring.binned import BinnedReference
from core.monitoring.binned import CountedWindow
from core.monitoring.binned import Summary
from core.monitoring.binned import binned_scores
from core.monitoring.binned import frame_summary
from core.monitoring.binned import prepare_binned
from core.monitoring.chance import numeric_p_value
from core.monitoring.chance import shift_p_value
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
    return chart(ref, frame_summary(current=current, kind=ref.kind, edges=ref.edges))


def chart(ref: ReferenceHistogram, cur: Summary) -> dict:
    """The drill-down chart's figures from the current side's summary (from rows or from stored counts)."""
    if ref.kind == "cat":
        assert cur.shares is not None
        top = list(ref.labels[:15]) + [v for v in cur.shares.index[:5] if v not in ref.labels[:15]]
        ref_share = dict(zip(ref.labels, ref.shares, strict=True))
        return {
            "kind": "cat",
            "labels": [short(x, 60) for x in top],
            "reference": [round(ref_share.get(x, 0.0), 5) for x in top],
            "current": [round(float(cur.shares.get(x, 0.0)), 5) for x in top],
        }
    if not ref.edges or cur.n == 0 or cur.counts is None:
        return {"kind": "num", "edges": [], "reference": [], "current": []}
    edges = np.asarray(ref.edges)
    return {
        "kind": "num",
        "edges": np.round(edges, 6).tolist(),
        "reference": np.round(ref.shares, 5).tolist(),
        "current": np.round(cur.counts / cur.n, 5).tolist(),
        "below": round(cur.below / cur.n, 5),
        "above": round(cur.above / cur.n, 5),
        "reference_mean": clean(ref.mean) if ref.mean is not None else None,
        "current_mean": clean(cur.mean),
    }


def counted_chart(ref: ReferenceHistogram, counted: CountedWindow, column: str) -> dict:
    """The drill-down chart of a counted window: both sides binned by the store's cells (`binned`)."""
    prepared = counted.reference.columns.get(column)
    if prepared is not None and prepared.shares:
        ref = dataclasses.replace(ref, shares=prepared.shares)
    return chart(ref, counted.summary(column, kind=ref.kind, edges=ref.edges))


@dataclass(frozen=True)
class DriftReference:
    """Everything on the reference side of one version's drift checks, prepared once for all windows."""

    features: PreparedReference
    target: PreparedReference | None
    hists: dict[str, ReferenceHistogram]
    target_stats: dict[str, float]
    category_counts: dict[str, pd.Series] = dataclasses.field(default_factory=dict)
    """Category inputs: the compared reference rows per value, for the chance test (`core.monitoring.chance`)."""


def drift_requests(spec: ModelSpec, features: list[str], thresholds: Thresholds) -> list[DriftRequest]:
    """Every feature, then the model's answers: what a window's drift check compares."""
    pred_col, pred_kind = prediction_column(spec)
    requests = [DriftRequest(c, column_kind(spec, c), threshold=thresholds.drift) for c in features]
    return [*requests, DriftRequest(pred_col, pred_kind, threshold=thresholds.prediction_drift.warn)]


def target_request(spec: ModelSpec, thresholds: Thresholds) -> DriftRequest:
    """What the outcome's drift check compares."""
    kind = "num" if spec.task == "regression" else "cat"
    return DriftRequest("_label", kind, threshold=thresholds.target_drift.warn)


def prepare_binned_reference(
    spec: ModelSpec, features: list[str], reference: pd.DataFrame, thresholds: Thresholds
) -> BinnedReference:
    """The reference side of count-based drift (`core.monitoring.binned`): features, answers and outcome."""
    requests = [*drift_requests(spec, features, thresholds), target_request(spec, thresholds)]
    return prepare_binned(reference, requests, names={float(v): k for k, v in spec.class_index().items()})


def prepare_drift_reference(
    spec: ModelSpec, features: list[str], reference: pd.DataFrame, thresholds: Thresholds
) -> DriftReference:
    """Sample and convert the reference once; precompute its histograms."""
    requests = drift_requests(spec, features, thresholds)
    hists = {r.column: reference_histogram(reference[r.column], kind=r.kind) for r in requests if r.column in reference}
    ref_target, kind = _target_frame(spec, reference)
    target = None
    stats: dict[str, float] = {}
    if len(ref_target):
        target = PreparedReference(ref_target, [target_request(spec, thresholds)])
        hists["_label"] = reference_histogram(ref_target["_label"], kind=kind)
        if spec.task == "binary":
            pos = float(spec.class_index()[str(spec.positive_class)])
            stats["reference_rate"] = float((reference["_label"].dropna() == pos).mean())
        elif spec.task == "regression":
            stats["reference_mean"] = float(reference["_label"].mean())
    features = PreparedReference(reference, requests)
    counts = {
        r.column: features.frame[r.column].value_counts()
        for r in requests[:-1]  # inputs only: answers and outcomes have a few values, no sampling floor
        if r.kind == "cat" and r.column in features.frame and r.column not in features.empty
    }
    return DriftReference(features=features, target=target, hists=hists, target_stats=stats, category_counts=counts)


def _target_frame(spec: ModelSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    kind = "num" if spec.task == "regression" else "cat"
    if "_label" not in frame:
        return pd.DataFrame({"_label": []}), kind
    out = frame[["_label"]].dropna()
    if kind == "cat":  # compare class names, not 0.0/1.0
        names = {float(v): k for k, v in spec.class_index().items()}
        out = out.assign(_label=out["_label"].map(names))
    return out, kind


def _judge_chance(
    score: DriftScore,
    status: Status,
    details: dict,
    p: float | None,
    *,
    thresholds: Thresholds,
    values: int | None = None,
) -> tuple[DriftScore, Status, dict]:
    """A verdict after the chance test (`core.monitoring.chance`): with a p at or over `drift_chance` the shift
    is the luck of the draw, so the score is not drift and the check is ok; `values` (a category's count of
    values) goes into the details for the message. p None: not tested, nothing changes."""
    if p is None:
        return score, status, details
    details = {**details, "chance_p": clean(p), **({"values": values} if values is not None else {})}
    if p >= thresholds.drift_chance:
        return dataclasses.replace(score, drifted=False), Status.OK, {**details, "chance": True}
    return score, status, details


def _result(score: DriftScore, *, check: Check, n_rows: int, status: Status, details: dict, label: str) -> CheckResult:
    if score.missing:
        message = f"{label} has no values in this window, so it cannot be compared."
    elif "chance" in details:
        spread = f" spread over {details['values']:,} values" if "values" in details else ""
        plural = label.startswith("The model's")
        message = (
            f"{label} {'look' if plural else 'looks'} like training: {'their' if plural else 'its'} {score.method} "
            f"score {score.score:.3f} is over the {score.threshold:.2f} line, but with {n_rows:,} rows{spread} "
            "a difference that size is the luck of the draw."
        )
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
    counted: CountedWindow | None = None,
) -> list[CheckResult]:
    """Per-feature drift, the share of drifted features and prediction drift, in one Evidently report.

    With `counted` (a big window's counts from the store) the scores and charts come from those counts
    and `current` is not read.
    """
    if not isinstance(reference, DriftReference):
        reference = prepare_drift_reference(spec, features, reference, thresholds)
    pred_col, _ = prediction_column(spec)
    requests = drift_requests(spec, features, thresholds)
    if counted is not None:
        scores = binned_scores(reference=counted.reference, counts=counted.counts, requests=requests)
        n = counted.counts.rows
    else:
        scores = drift_scores(reference=reference.features, current=current, requests=requests, seed=seed)
        n = len(current)

    def details(column: str) -> dict:
        ref = reference.hists[column]
        if counted is None:
            return histogram(ref, current[column])
        return counted_chart(ref, counted, column)

    def chance(s: DriftScore, *, over: bool) -> float | None:
        """The chance test's p of a column over its line (None: not tested; `core.monitoring.chance`)."""
        if not over or s.missing:
            return None
        ref = reference.category_counts.get(s.column)
        if s.kind == "cat" and ref is not None:
            if counted is not None:
                return shift_p_value(ref, counted.category_counts(s.column))
            return shift_p_value(ref, current[s.column].astype("string").fillna(MISSING_CATEGORY).value_counts())
        prepared = reference.features.frame
        small = counted is None and n <= thresholds.drift_chance_rows
        if s.kind == "num" and small and s.column in prepared and s.column not in reference.features.empty:
            return numeric_p_value(prepared[s.column], current[s.column])
        return None

    def values(column: str) -> int | None:
        counts = reference.category_counts.get(column)
        return int(len(counts)) if counts is not None else None

    out: list[CheckResult] = []
    feature_scores = scores[:-1]
    for i, s in enumerate(feature_scores):
        d = details(s.column) if not s.missing else {}
        status = Status.WARN if s.drifted else Status.OK
        s, status, d = _judge_chance(
            s, status, d, chance(s, over=s.drifted), thresholds=thresholds, values=values(s.column)
        )
        feature_scores[i] = s
        out.append(_result(s, check=Check.DRIFT, n_rows=n, status=status, details=d, label=f"`{s.column}`"))
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
    answers = scores[-1]
    d = details(pred_col) if not answers.missing else {}
    status = thresholds.prediction_drift.status(answers.score) if not answers.missing else Status.OK
    answers, status, d = _judge_chance(
        answers, status, d, chance(answers, over=status != Status.OK), thresholds=thresholds, values=values(pred_col)
    )
    out.append(
        _result(answers, check=Check.PREDICTION_DRIFT, n_rows=n, details=d, label="The model's answers", status=status)
    )
    return out


def target_drift_check(
    *,
    spec: ModelSpec,
    reference: pd.DataFrame | DriftReference,
    labelled: pd.DataFrame,
    thresholds: Thresholds,
    seed: int = 0,
    counted: CountedWindow | None = None,
) -> CheckResult:
    """Drift of the outcome itself (labels that arrived) against the reference target.

    With `counted` the outcome's counts from the store are compared and `labelled` is not read.
    """
    if not isinstance(reference, DriftReference):
        reference = prepare_drift_reference(spec, [], reference, thresholds)
    request = target_request(spec, thresholds)
    kind = request.kind
    if reference.target is None:
        score = DriftScore("_label", kind, "", thresholds.target_drift.warn, float("nan"), False, missing=True)
        details: dict = {}
    elif counted is not None:
        (score,) = binned_scores(reference=counted.reference, counts=counted.counts, requests=[request])
        ref = reference.hists["_label"]
        details = counted_chart(ref, counted, "_label") if not score.missing else {}
    else:
        cur, _ = _target_frame(spec, labelled)
        (score,) = drift_scores(reference=reference.target, current=cur, seed=seed, requests=[request])
        details = histogram(reference.hists["_label"], cur["_label"])
    details.update(reference.target_stats)
    if counted is not None:
        n_labelled = counted.counts.labelled
        details.update(counted.outcome_figures(spec.task, spec.class_index(), spec.positive_class))
    else:
        n_labelled = len(labelled)
        details.update(_outcome_figures(spec, labelled))
    status = thresholds.target_drift.status(score.score) if not score.missing else Status.OK
    p = None
    if status != Status.OK and reference.target is not None:
        # a few hundred outcomes move the share of positives past the line by chance alone (`core.monitoring.chance`)
        if kind == "cat" and counted is not None:
            p = shift_p_value(counted.reference.columns["_label"].counts, counted.category_counts("_label"))
        elif kind == "cat":
            p = shift_p_value(reference.target.frame["_label"].value_counts(), cur["_label"].value_counts())
        elif counted is None and n_labelled <= thresholds.drift_chance_rows:
            p = numeric_p_value(reference.target.frame["_label"], cur["_label"])
    score, status, details = _judge_chance(score, status, details, p, thresholds=thresholds)
    return _result(
        score, check=Check.TARGET_DRIFT, n_rows=n_labelled, details=details, label="The outcome", status=status
    )


def _outcome_figures(spec: ModelSpec, labelled: pd.DataFrame) -> dict:
    if spec.task == "binary":
        pos = float(spec.class_index()[str(spec.positive_class)])
        return {"current_rate": clean(float((labelled["_label"] == pos).mean()))}
    if spec.task == "regression":
        return {"current_mean": clean(float(labelled["_label"].mean()))}
    return {}
