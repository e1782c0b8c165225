"""A trained model in memory, and how it turns a frame of features into predictions."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd
import torch

from core.errors import DataError
from core.modeling.features import Preprocessor
from core.modeling.features import TargetScaler
from core.modeling.network import TabularNet
from core.predictions import Predictions
from core.schema import ArchConfig
from core.schema import ModelSpec


@dataclass
class TrainedModel:
    """Network plus everything needed to score new rows the way it was trained."""

    spec: ModelSpec
    arch: ArchConfig
    net: TabularNet
    preprocessor: Preprocessor
    target_scaler: TargetScaler | None = None
    threshold: float = 0.5
    metadata: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.preprocessor.numerical + self.preprocessor.categorical

    def predict(self, frame: pd.DataFrame, *, batch_size: int = 65536) -> Predictions:
        """Score `frame` (which must hold this version's feature columns) in inference mode."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataError(f"Cannot score: the data has no column {', '.join(f'`{c}`' for c in missing)}.")
        x_num, x_cat = self.preprocessor.transform(frame)
        self.net.eval()
        outs = []
        with torch.inference_mode():
            for start in range(0, len(frame), batch_size):
                sl = slice(start, start + batch_size)
                outs.append(self.net(torch.from_numpy(x_num[sl]), torch.from_numpy(x_cat[sl])).numpy())
        raw = np.concatenate(outs) if outs else np.zeros((0, self.net.head.out_features), "float32")
        return self.raw_to_predictions(raw)

    def raw_to_predictions(self, raw: np.ndarray) -> Predictions:
        """Map network outputs (logits or scaled values) to predictions in the target's terms."""
        raw = raw.astype("float64")
        if self.spec.task == "binary":
            proba = 1 / (1 + np.exp(-raw[:, 0]))
            return Predictions(prediction=(proba >= self.threshold).astype("float64"), probability=proba)
        if self.spec.task == "multiclass":
            z = raw - raw.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            return Predictions(prediction=p.argmax(axis=1).astype("float64"), probability=p.max(axis=1), scores=p)
        assert self.target_scaler is not None
        return Predictions(prediction=self.target_scaler.inverse(raw[:, 0]), probability=None)
