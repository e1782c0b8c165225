"""Evidently's own default presets, run the way a user of Evidently would: the peer the monitoring
benchmark measures ModelPulse against. Benchmark-only, so it lives here and not in `core`."""

from __future__ import annotations

import pandas as pd
from evidently import BinaryClassification
from evidently import DataDefinition
from evidently import Dataset
from evidently import Regression
from evidently import Report
from evidently.presets import ClassificationPreset
from evidently.presets import DataDriftPreset
from evidently.presets import RegressionPreset

from core.monitoring.evidently_adapter import is_drifted


def default_presets(
    *,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: list[str],
    categorical: list[str],
    task: str,
    target: str | None = None,
    prediction: str | None = None,
    probability: str | None = None,
) -> dict:
    """Run Evidently's default `DataDriftPreset` plus the task's preset, as a user of Evidently would.

    Used by the benchmark as the peer to beat; returns per-column drift verdicts and the raw snapshot.
    """
    extra_num = [probability] if probability else []
    cols = numerical + categorical + [c for c in (target, prediction, probability) if c]
    kwargs: dict = {}
    if task == "binary" and target:
        kwargs["classification"] = [
            BinaryClassification(
                target=target, prediction_labels=prediction, prediction_probas=probability, pos_label=1
            )
        ]
    elif task == "regression" and target:
        kwargs["regression"] = [Regression(target=target, prediction=prediction)]
    definition = DataDefinition(
        numerical_columns=numerical + extra_num + ([target, prediction] if task == "regression" else []),
        categorical_columns=categorical + ([target, prediction] if task == "binary" else []),
        **kwargs,
    )
    presets = [DataDriftPreset(columns=numerical + categorical)]
    if target:
        presets.append(ClassificationPreset() if task == "binary" else RegressionPreset())
    snapshot = Report(presets).run(
        Dataset.from_pandas(current[cols], data_definition=definition),
        Dataset.from_pandas(reference[cols], data_definition=definition),
    )
    data = snapshot.dict()
    verdicts = {}
    for metric in data["metrics"]:
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            method = config.get("method") or ""
            threshold = config.get("threshold")
            score = float(metric["value"])
            verdicts[config["column"]] = {
                "method": method,
                "threshold": threshold,
                "score": score,
                "drifted": is_drifted(method, score, float(threshold)),
            }
    return {"drift": verdicts, "snapshot": data}
