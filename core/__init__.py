"""ModelPulse core: training, scoring, storage, monitoring and alerts, with no UI code.

From code, send production traffic and outcomes with::

    import core
    core.log_predictions(model="churn", frame=df)   # features, id, time (and predictions for external models)
    core.log_labels(model="churn", frame=outcomes)  # id and outcome, joined to stored predictions

Both validate exactly like the upload page and write each call in one transaction.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["log_labels", "log_predictions"]


def log_predictions(*, model: str, frame, **kwargs):
    """Store a batch of production rows for `model`; see :func:`core.intake.traffic.log_predictions`."""
    from core.intake.traffic import log_predictions as _log

    return _log(model=model, frame=frame, **kwargs)


def log_labels(*, model: str, frame, **kwargs):
    """Store outcomes that arrived later for `model`; see :func:`core.intake.traffic.log_labels`."""
    from core.intake.traffic import log_labels as _log

    return _log(model=model, frame=frame, **kwargs)
