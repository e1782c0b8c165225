"""Which inputs drive a version's answers: permutation importance on its validation rows.

Shuffle one input's values across a sample of the version's validation rows and score again: the
drop in the task's main metric is how much the model relies on that input. Repeats with different
shuffles give the spread. It is measured once, when a version is registered (or by
`python -m core importance`), on a seeded, capped sample, so it takes seconds and never runs while a
page loads. A version whose importance was never measured works everywhere; pages and alerts then
leave the drivers out.
"""

from __future__ import annotations

import time
from datetime import datetime

import numpy as np
import pandas as pd

from core.errors import DataError
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.metrics import task_metrics
from core.modeling.scoring import TrainedModel
from core.progress import Progress
from core.progress import quiet
from core.schema import ModelSpec
from core.store import FeatureImportance
from core.store import Store
from core.store import VersionImportance

MAX_ROWS = 5_000
"""Rows shuffled per repeat: enough for a stable ranking, few enough to take seconds on a CPU."""
REPEATS = 5
MIN_ROWS = 50
"""Fewer labelled reference rows than this say nothing reliable about any input."""


def _sample(rows: pd.DataFrame, *, max_rows: int, seed: int) -> pd.DataFrame:
    """The labelled validation rows (all labelled reference rows when validation is too small), capped."""
    labelled = rows[rows["_label"].notna()]
    if "_split" in labelled:
        validation = labelled[labelled["_split"] == "validation"]
        labelled = validation if len(validation) >= MIN_ROWS else labelled
    if len(labelled) < MIN_ROWS:
        raise DataError(
            f"Importance needs at least {MIN_ROWS} reference rows with a known outcome; this version has "
            f"{len(labelled):,}."
        )
    if len(labelled) > max_rows:
        pick = np.sort(np.random.default_rng(seed).choice(len(labelled), size=max_rows, replace=False))
        labelled = labelled.iloc[pick]
    return labelled.reset_index(drop=True)


def _scores(model: TrainedModel, frame: pd.DataFrame, y: np.ndarray, *, metric: str, chunks: int) -> np.ndarray:
    """The metric on each of `chunks` equal, consecutive parts of `frame` (one part per shuffle)."""
    preds = model.predict(frame)
    n = len(y)
    out = []
    for k in range(chunks):
        sl = slice(k * n, (k + 1) * n)
        proba = preds.scores if model.spec.task == "multiclass" else preds.probability
        part = None if proba is None else proba[sl]
        out.append(task_metrics(model.spec.task, y, preds.prediction[sl], part)[metric])
    return np.asarray(out, dtype="float64")


def permutation_importance(
    *,
    model: TrainedModel,
    rows: pd.DataFrame,
    version: int,
    repeats: int = REPEATS,
    max_rows: int = MAX_ROWS,
    seed: int = 0,
) -> VersionImportance:
    """How much `model`'s main metric drops when each input is shuffled, on a sample of its reference rows.

    `rows` are reference rows as `Store.read_reference` returns them (`_split`, `_label` codes and the
    features). Importance is the mean drop over `repeats` shuffles, in the metric's own units (ROC AUC
    for yes/no models, accuracy for several classes, RMSE for numbers); spread is its standard deviation.
    Raises a DataError in one sentence when the rows cannot measure it (too few outcomes, one class only).
    """
    spec = model.spec
    metric = PRIMARY[spec.task]
    sample = _sample(rows, max_rows=max_rows, seed=seed)
    y = sample["_label"].to_numpy(dtype="float64")
    base = float(_scores(model, sample, y, metric=metric, chunks=1)[0])
    if not np.isfinite(base):
        raise DataError(
            f"Importance cannot be measured: the {METRICS[metric].label.lower()} of {spec.title} is undefined on its "
            "reference rows (they hold one outcome only)."
        )
    sign = 1.0 if METRICS[metric].higher_is_better else -1.0
    rng = np.random.default_rng(seed)
    n = len(sample)
    # every shuffle of one input is scored in a single call: `repeats` copies of the sample stacked
    stacked = pd.concat([sample] * repeats, ignore_index=True)
    measured = []
    for feature in model.features:
        original = sample[feature].to_numpy()
        shuffled = np.concatenate([original[rng.permutation(n)] for _ in range(repeats)])
        drops = sign * (base - _scores(model, stacked.assign(**{feature: shuffled}), y, metric=metric, chunks=repeats))
        measured.append((feature, float(np.nanmean(drops)), float(np.nanstd(drops))))
    order = sorted(measured, key=lambda m: (-m[1], m[0]))
    return VersionImportance(
        model=spec.name,
        version=int(version),
        metric=metric,
        n_rows=n,
        features=tuple(FeatureImportance(f, imp, spread, rank) for rank, (f, imp, spread) in enumerate(order, 1)),
        computed_at=datetime.now(),
    )


def record_importance(
    store: Store,
    *,
    spec: ModelSpec,
    model: TrainedModel,
    version: int,
    seed: int = 0,
    progress: Progress = quiet,
) -> VersionImportance:
    """Measure `version`'s importance on its stored reference rows and store it (replacing any before).

    Raises a DataError in one sentence when the version's reference rows cannot measure it.
    """
    info = store.get_version(spec.name, version)
    started = time.perf_counter()
    rows = store.read_reference(spec=spec, reference_set=info.reference_set, version=version)
    result = permutation_importance(model=model, rows=rows, version=version, seed=seed)
    store.save_importance(result)
    top = ", ".join(f.feature for f in result.features[:3])
    progress(
        f"  {spec.name} v{version}: importance measured on {result.n_rows:,} rows in "
        f"{time.perf_counter() - started:.1f}s (most: {top})"
    )
    return result
