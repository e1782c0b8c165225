"""What a model answered for a batch of rows: the one type the modeling, intake and store layers share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Predictions:
    """Model output for a batch of rows.

    `prediction` holds the class index (classification) or value (regression); `probability` the
    positive-class probability (binary) or the winning class's probability (multiclass); `scores`
    one probability per class for multiclass, else None.
    """

    prediction: np.ndarray
    probability: np.ndarray | None
    scores: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.prediction)
