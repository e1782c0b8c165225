"""The quality yardstick: scikit-learn's HistGradientBoosting trained on the same split as the network."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.metrics import task_metrics
from core.modeling.features import calendar_values
from core.modeling.features import encode_target
from core.schema import ModelSpec


def fit_baseline(
    *,
    spec: ModelSpec,
    features: list[str],
    train: pd.DataFrame,
    calendar: list[str] = (),
    valid: pd.DataFrame,
    test: pd.DataFrame | None,
    seed: int,
) -> dict[str, dict[str, float]]:
    """Train scikit-learn's HistGradientBoosting on the same split as a quality yardstick.

    Early stopping uses the validation frame: we pick the number of boosting rounds that scored best
    on it, so both models see exactly the same rows for the same purpose.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.ensemble import HistGradientBoostingRegressor

    cats = [c for c in spec.categorical if c in features]
    # a number input empty in every training row tells the trees nothing, and sklearn's binning cannot take it
    nums = [
        c
        for c in spec.numerical
        if c in features and np.isfinite(pd.to_numeric(train[c], errors="coerce").astype("float64")).any()
    ]
    levels = {c: train[c].astype("string").value_counts().index[:250].tolist() for c in cats}

    def prep(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[nums].apply(pd.to_numeric, errors="coerce").astype("float64")
        if calendar:  # the same calendar quantities the network gets, as plain numbers (trees cut them anyway)
            times = calendar_values(frame["_ts"] if "_ts" in frame else frame[spec.timestamp])
            for name in calendar:
                out[f"calendar_{name}"] = times[name]
        for c in cats:
            out[c] = pd.Categorical(frame[c].astype("string"), categories=levels[c])
        return out

    params = dict(
        max_iter=500, learning_rate=0.05, early_stopping=False, random_state=seed, categorical_features="from_dtype"
    )
    if spec.is_classification:
        model = HistGradientBoostingClassifier(**params)
    else:
        model = HistGradientBoostingRegressor(**params)
    y_tr = encode_target(spec, train[spec.target])
    x_tr, x_va = prep(train), prep(valid)
    y_va = encode_target(spec, valid[spec.target])
    model.fit(x_tr, y_tr)
    # choose the round count on validation loss, then refit with it (same rows, same seed)
    best_iter, best_loss = model.n_iter_, float("inf")
    if spec.is_classification:
        stages = model.staged_predict_proba(x_va)
        for i, p in enumerate(stages, start=1):
            idx = y_va.astype(int)
            loss = float(-np.mean(np.log(np.clip(p[np.arange(len(idx)), idx], 1e-15, 1))))
            if loss < best_loss:
                best_iter, best_loss = i, loss
    else:
        for i, p in enumerate(model.staged_predict(x_va), start=1):
            loss = float(np.mean((p - y_va) ** 2))
            if loss < best_loss:
                best_iter, best_loss = i, loss
    model.set_params(max_iter=best_iter)
    model.fit(x_tr, y_tr)

    def score(frame: pd.DataFrame) -> dict[str, float]:
        x, y = prep(frame), encode_target(spec, frame[spec.target])
        if spec.task == "regression":
            return task_metrics("regression", y, model.predict(x), None)
        p = model.predict_proba(x)
        proba = p[:, 1] if spec.task == "binary" else p
        return task_metrics(spec.task, y, p.argmax(axis=1).astype(float), proba)

    result = {"train": score(train), "validation": score(valid), "iterations": {"value": float(best_iter)}}
    if test is not None and len(test):
        result["test"] = score(test)
    return result
