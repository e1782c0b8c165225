"""The one module of `core` that imports Evidently (0.7.x).

It builds an explicit `DataDefinition` from our own column lists (never Evidently's inference,
which calls integer columns with few values categorical), asks for drift with explicit methods as
`ValueDrift` metrics in one `Report`, and turns the snapshot into :class:`DriftScore` values found by
metric type and column, never by list position. Every score is normalised to drifted yes/no:
p-value methods drift when the score is below the threshold, distance methods when at or above it.
It also gives Evidently's own quality metrics under our names (:func:`quality_figures`) and Evidently's
own report of a window as one HTML page (:func:`window_report_html`).

Evidently pitfalls guarded here: an all-empty current column raises inside Evidently, and a column
missing from current data is silently dropped, so both are caught before the run and reported as
`missing`; a constant numeric reference makes normed Wasserstein divide by zero, so such a column is
compared as categories instead.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass

import pandas as pd

os.environ.setdefault("DO_NOT_TRACK", "1")  # Evidently sends usage telemetry unless told not to

from evidently import BinaryClassification  # noqa: E402
from evidently import DataDefinition  # noqa: E402
from evidently import Dataset  # noqa: E402
from evidently import MulticlassClassification  # noqa: E402
from evidently import Regression  # noqa: E402
from evidently import Report  # noqa: E402
from evidently.core.metric_types import render_widgets  # noqa: E402
from evidently.core.report import Snapshot  # noqa: E402
from evidently.legacy.renderers.html_widgets import group_widget  # noqa: E402
from evidently.metrics import MAE  # noqa: E402
from evidently.metrics import MAPE  # noqa: E402
from evidently.metrics import RMSE  # noqa: E402
from evidently.metrics import Accuracy  # noqa: E402
from evidently.metrics import F1Score  # noqa: E402
from evidently.metrics import LogLoss  # noqa: E402
from evidently.metrics import Precision  # noqa: E402
from evidently.metrics import R2Score  # noqa: E402
from evidently.metrics import Recall  # noqa: E402
from evidently.metrics import RocAuc  # noqa: E402
from evidently.metrics import ValueDrift  # noqa: E402
from evidently.presets import ClassificationPreset  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402
from evidently.presets import RegressionPreset  # noqa: E402

log = logging.getLogger(__name__)

# method -> True when a LOWER score means drift (p-values), False for distances
P_VALUE_METHODS = {
    "ks": True,
    "chisquare": True,
    "z": True,
    "fisher_exact": True,
    "g_test": True,
    "cramer_von_mises": True,
    "anderson": True,
    "mannw": True,
    "epps_singleton": True,
    "t_test": True,
    "empirical_mmd": True,
}
DISTANCE_METHODS = {"wasserstein", "jensenshannon", "psi", "kl_div", "hellinger", "energy_distance", "TVD"}

DEFAULT_NUM_METHOD = "wasserstein"  # normed by the reference's standard deviation: an effect size
DEFAULT_CAT_METHOD = "jensenshannon"  # 0 = same shares, 1 = nothing in common
DEFAULT_THRESHOLD = 0.1
SAMPLE_CAP = 200_000
"""Rows per side above which drift is computed on a seeded uniform sample. A distance measured on
200,000 rows differs from the full-data value by far less than the 0.1 threshold (bench/RESULTS.md
reports the largest difference seen), while Evidently's cost grows with every row."""

MISSING_CATEGORY = "(missing)"


class _Clock:
    """Seconds spent inside Evidently's `Report.run`, so benchmarks can split our overhead from its compute."""

    seconds: float = 0.0
    runs: int = 0


EVIDENTLY_CLOCK = _Clock()


@dataclass(frozen=True)
class DriftRequest:
    """One column to compare and how."""

    column: str
    kind: str  # "num" or "cat"
    method: str | None = None
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class DriftScore:
    """Evidently's drift score for one column, normalised."""

    column: str
    kind: str
    method: str
    threshold: float
    score: float
    drifted: bool
    missing: bool = False
    sampled_rows: int | None = None


def is_drifted(method: str, score: float, threshold: float) -> bool:
    """Normalise a score to drifted yes/no whatever the method's direction."""
    if math.isnan(score):
        return False
    if method in P_VALUE_METHODS:
        return score < threshold
    return score >= threshold


def _sample(frame: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    if len(frame) <= cap:
        return frame
    return frame.sample(n=cap, random_state=seed)


def _convert(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    out = {}
    for column, kind in kinds.items():
        if kind == "cat":
            out[column] = frame[column].astype("string").fillna(MISSING_CATEGORY).astype(str).to_numpy()
        else:
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy()
    return pd.DataFrame(out, index=frame.index)


class PreparedReference:
    """A reference frame sampled once and converted to the types Evidently gets, reused for every window.

    Numeric columns whose reference is constant are prepared as categories too, because normed
    Wasserstein divides by the reference's standard deviation.
    """

    def __init__(
        self, reference: pd.DataFrame, requests: list[DriftRequest], *, sample_cap: int = SAMPLE_CAP, seed: int = 0
    ) -> None:
        self.rows = len(reference)
        present = [r for r in requests if r.column in reference.columns]
        sample = _sample(reference[[r.column for r in present]], sample_cap, seed)
        kinds = {r.column: r.kind for r in present}
        self.frame = _convert(sample, kinds)
        self.empty = {
            c
            for c in kinds
            if self.frame[c].isna().all() or (kinds[c] == "cat" and (self.frame[c] == MISSING_CATEGORY).all())
        }
        self.constant = {
            c
            for c, k in kinds.items()
            if k == "num" and c not in self.empty and float(self.frame[c].std(skipna=True) or 0) == 0.0
        }
        for c in self.constant:
            self.frame[c] = sample[c].astype("string").fillna(MISSING_CATEGORY).astype(str).to_numpy()


def drift_scores(
    *,
    reference: pd.DataFrame | PreparedReference,
    current: pd.DataFrame,
    requests: list[DriftRequest],
    sample_cap: int = SAMPLE_CAP,
    seed: int = 0,
) -> list[DriftScore]:
    """Compare each requested column of `current` with `reference` in one Evidently report.

    Pass a :class:`PreparedReference` when the same reference serves many windows.
    """
    prepared = (
        reference
        if isinstance(reference, PreparedReference)
        else PreparedReference(reference, requests, sample_cap=sample_cap, seed=seed)
    )
    wanted = [r for r in requests if r.column in current.columns and r.column in prepared.frame.columns]
    # pick columns, then sample, then convert: converting a million-row frame first costs more than the drift
    cur_all = _convert(
        _sample(current[[r.column for r in wanted]], sample_cap, seed + 1), {r.column: r.kind for r in wanted}
    )
    runnable: list[DriftRequest] = []
    out: dict[str, DriftScore] = {}
    for r in requests:
        method = r.method or (DEFAULT_NUM_METHOD if r.kind == "num" else DEFAULT_CAT_METHOD)
        missing = r not in wanted or r.column in prepared.empty
        if not missing:
            col = cur_all[r.column]
            missing = bool(col.isna().all()) if r.kind == "num" else bool((col == MISSING_CATEGORY).all())
        if missing:
            out[r.column] = DriftScore(r.column, r.kind, method, r.threshold, float("nan"), False, missing=True)
            continue
        if r.kind == "num" and r.column in prepared.constant:
            cur_all[r.column] = (
                current.loc[cur_all.index, r.column].astype("string").fillna(MISSING_CATEGORY).astype(str)
            )
            runnable.append(DriftRequest(r.column, "cat", DEFAULT_CAT_METHOD, r.threshold))
            continue
        runnable.append(DriftRequest(r.column, r.kind, method, r.threshold))
    if runnable:
        cols = [r.column for r in runnable]
        ref, cur = prepared.frame[cols], cur_all[cols]
        definition = DataDefinition(
            numerical_columns=[r.column for r in runnable if r.kind == "num"],
            categorical_columns=[r.column for r in runnable if r.kind == "cat"],
        )
        metrics = [ValueDrift(column=r.column, method=r.method, threshold=r.threshold) for r in runnable]
        started = time.perf_counter()
        snapshot = Report(metrics).run(
            Dataset.from_pandas(cur, data_definition=definition), Dataset.from_pandas(ref, data_definition=definition)
        )
        values = _drift_values(snapshot.dict())
        EVIDENTLY_CLOCK.seconds += time.perf_counter() - started
        EVIDENTLY_CLOCK.runs += 1
        sampled = max(len(ref), len(cur)) if max(prepared.rows, len(current)) > sample_cap else None
        for r in runnable:
            score = float(values.get(r.column, float("nan")))
            out[r.column] = DriftScore(
                r.column,
                r.kind,
                str(r.method),
                r.threshold,
                score,
                is_drifted(str(r.method), score, r.threshold),
                sampled_rows=sampled,
            )
    return [out[r.column] for r in requests]


def _drift_values(snapshot: dict) -> dict[str, float]:
    """Map column -> ValueDrift value, found by the metric's config type and column."""
    found = {}
    for metric in snapshot.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            value = metric.get("value")
            found[config["column"]] = float(value) if value is not None else float("nan")
    return found


# ---------------------------------------------------------------------------- quality and whole reports
QUALITY_METRICS = {
    "binary": {
        "accuracy": Accuracy,
        "precision": Precision,
        "recall": Recall,
        "f1": F1Score,
        "roc_auc": RocAuc,
        "log_loss": LogLoss,
    },
    "multiclass": {"accuracy": Accuracy},
    "regression": {"mae": MAE, "rmse": RMSE, "mape": MAPE, "r2": R2Score},
}
"""Our metric names and Evidently's metric for each (multiclass: accuracy only, from the answered labels)."""


def _quality_frame(task: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, DataDefinition]:
    """The rows whose outcome arrived, as Evidently's task definition takes them: target and answer."""
    rows = frame[frame["_label"].notna()]
    if task == "regression":
        data = pd.DataFrame(
            {"target": rows["_label"].to_numpy(float), "prediction": rows["_prediction"].to_numpy(float)}
        )
        task_def: dict = {"regression": [Regression(target="target", prediction="prediction")]}
        return data, DataDefinition(numerical_columns=["target", "prediction"], **task_def)
    target = rows["_label"].to_numpy().astype("int64")
    if task == "binary":  # labels follow from the probability at 0.5, as ours do
        data = pd.DataFrame({"target": target, "prediction": rows["_probability"].to_numpy(float)})
        task_def = {
            "classification": [BinaryClassification(target="target", prediction_probas="prediction", pos_label=1)]
        }
        return data, DataDefinition(numerical_columns=["prediction"], categorical_columns=["target"], **task_def)
    data = pd.DataFrame({"target": target, "prediction": rows["_prediction"].to_numpy().astype("int64")})
    task_def = {"classification": [MulticlassClassification(target="target", prediction_labels="prediction")]}
    return data, DataDefinition(categorical_columns=["target", "prediction"], **task_def)


def quality_figures(*, task: str, frame: pd.DataFrame) -> dict[str, float]:
    """Evidently's own quality metrics on the rows of `frame` whose outcome arrived, under our metric names.

    `frame` is in the store's layout (`_label` class index or value, `_prediction`, `_probability`).
    Evidently's MAPE is in percent and is returned as a share, as ours is; MAE and MAPE are their means.
    """
    data, definition = _quality_frame(task, frame)
    wanted = dict(QUALITY_METRICS[task])
    if task != "regression" and data["target"].nunique() < 2:
        wanted.pop("roc_auc", None)  # Evidently raises on one class; ours says it cannot be computed (NaN)
    snapshot = Report([metric() for metric in wanted.values()]).run(
        Dataset.from_pandas(data, data_definition=definition), None
    )
    by_type = {str(m["config"]["type"]).rsplit(":", 1)[-1]: m["value"] for m in snapshot.dict()["metrics"]}
    out = {name: float("nan") for name in QUALITY_METRICS[task]}
    for name, metric in wanted.items():
        value = by_type.get(metric.__name__)
        value = value["mean"] if isinstance(value, dict) else value
        out[name] = float("nan") if value is None else float(value) / (100.0 if name == "mape" else 1.0)
    return out


def _drift_frame(frame: pd.DataFrame, numerical: list[str], categorical: list[str], answer: str) -> pd.DataFrame:
    out = {c: pd.to_numeric(frame[c], errors="coerce").astype("float64").to_numpy() for c in numerical}
    for c in categorical:
        out[c] = frame[c].astype("string").fillna(MISSING_CATEGORY).astype(str).to_numpy()
    out["answer"] = pd.to_numeric(frame[answer], errors="coerce").astype("float64").to_numpy()
    return pd.DataFrame(out)


def window_report_html(
    *,
    task: str,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: list[str],
    categorical: list[str],
    threshold: float = DEFAULT_THRESHOLD,
    title: str = "",
    sample_cap: int = SAMPLE_CAP,
    seed: int = 0,
) -> str:
    """Evidently's own report of one window as one self-contained HTML page (its script and font inline,
    nothing fetched from the web): `DataDriftPreset` over the inputs and the model's answers with the
    methods and threshold we use, then `ClassificationPreset` / `RegressionPreset` on the rows whose
    outcome arrived, each side against the version's reference rows (store layout). Sides above
    `sample_cap` rows are sampled (seeded), and the page says so.
    """
    answer = "_probability" if task == "binary" else "_prediction"
    ref, cur = _sample(reference, sample_cap, seed), _sample(current, sample_cap, seed + 1)
    ref_d, cur_d = (_drift_frame(f, numerical, categorical, answer) for f in (ref, cur))
    usable = [c for c in ref_d if ref_d[c].notna().any() and cur_d[c].notna().any()]
    answers = ["answer"] if task != "multiclass" else []  # a class index is a category
    numbers = [c for c in [*numerical, *answers] if c in usable and ref_d[c].std() > 0]
    categories = [c for c in usable if c not in numbers]  # constant numbers too, as the drift checks compare them
    for c in categories:
        for side in (ref_d, cur_d):
            side[c] = side[c].astype("string").fillna(MISSING_CATEGORY).astype(str)
    definition = DataDefinition(numerical_columns=numbers, categorical_columns=categories)
    drift = Report(
        [
            DataDriftPreset(
                columns=usable, num_method=DEFAULT_NUM_METHOD, cat_method=DEFAULT_CAT_METHOD, threshold=threshold
            )
        ]
    ).run(
        Dataset.from_pandas(cur_d, data_definition=definition), Dataset.from_pandas(ref_d, data_definition=definition)
    )
    sampled = max(len(reference), len(current)) > sample_cap
    note = f" (each side sampled to {sample_cap:,} rows)" if sampled else ""
    groups = [
        group_widget(
            title=f"{title}Drift: {len(cur):,} rows against {len(ref):,} reference rows{note}", widgets=drift._widgets
        )
    ]
    quality = _quality_report(task, ref, cur)
    if quality is not None:
        groups.append(
            group_widget(title=f"{title}Model quality on the rows whose outcome arrived", widgets=quality._widgets)
        )
    return render_widgets(groups, as_iframe=False)


def _quality_report(task: str, reference: pd.DataFrame, current: pd.DataFrame) -> Snapshot | None:
    """Evidently's quality preset on the labelled rows, or its single metrics where the preset cannot run
    (it raises when the window's outcomes are all one class); None without labelled rows."""
    ref, definition = _quality_frame(task, reference)
    cur, _ = _quality_frame(task, current)
    if cur.empty or ref.empty:
        return None
    data = Dataset.from_pandas(cur, data_definition=definition), Dataset.from_pandas(ref, data_definition=definition)
    preset = RegressionPreset() if task == "regression" else ClassificationPreset()
    try:
        return Report([preset]).run(*data)
    except (KeyError, ValueError) as exc:
        log.info("Evidently's quality preset cannot run on this window (%s); using its single metrics", exc)
    metrics = [m() for name, m in QUALITY_METRICS[task].items() if name != "roc_auc" or cur["target"].nunique() > 1]
    return Report(metrics).run(*data)
