"""Training: a skorch-style fit loop, and `train_with_yardstick`, which fits the network and the
HistGradientBoosting yardstick (`baseline.py`) on the same split and reports both.

`fit_model` runs `fit_loop -> run_epoch -> train_step / validation_step`. Early stopping and
progress reporting are callbacks (`callbacks.py`), not branches in the loop. State learned by
fitting ends in `_`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.errors import TrainingError
from core.metrics import task_metrics
from core.modeling.baseline import fit_baseline
from core.modeling.callbacks import Callback
from core.modeling.callbacks import EarlyStopping
from core.modeling.callbacks import EpochFn
from core.modeling.callbacks import EpochProgress
from core.modeling.callbacks import History
from core.modeling.callbacks import LearningRateOnPlateau
from core.modeling.callbacks import TimeBudget
from core.modeling.features import Preprocessor
from core.modeling.features import TargetScaler
from core.modeling.features import encode_target
from core.modeling.network import TabularNet
from core.modeling.scoring import TrainedModel
from core.schema import ArchConfig
from core.schema import ModelSpec


def use_threads(n: int) -> None:
    """Let torch use `n` CPU threads for training and scoring in this process."""
    torch.set_num_threads(n)


class Trainer:
    """Fits one :class:`TabularNet` on prepared arrays."""

    def __init__(self, *, net: TabularNet, task: str, arch: ArchConfig, seed: int, callbacks: Sequence[Callback]):
        self.net = net
        self.task = task
        self.arch = arch
        self.seed = seed
        self.callbacks = list(callbacks)
        if task == "binary":
            self.loss_fn: nn.Module = nn.BCEWithLogitsLoss()
        elif task == "multiclass":
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            self.loss_fn = nn.MSELoss()

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "multiclass":
            return self.loss_fn(out, y)
        return self.loss_fn(out[:, 0], y)

    def train_step(self, xn: torch.Tensor, xc: torch.Tensor, y: torch.Tensor) -> float:
        self.net.train()
        self.optimizer_.zero_grad()
        loss = self._loss(self.net(xn, xc), y)
        loss.backward()
        self.optimizer_.step()
        return float(loss.item())

    def validation_step(self, xn: torch.Tensor, xc: torch.Tensor, y: torch.Tensor) -> float:
        self.net.eval()
        with torch.inference_mode():
            return float(self._loss(self.net(xn, xc), y).item())

    def run_epoch(self, train: tuple[torch.Tensor, ...], valid: tuple[torch.Tensor, ...]) -> tuple[float, float]:
        n = train[0].shape[0]
        order = torch.randperm(n, generator=self.generator_)
        total = 0.0
        bs = self.arch.batch_size
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            if idx.numel() < 2 and self.arch.batch_norm:
                continue  # batch norm cannot train on one row
            total += self.train_step(*(t[idx] for t in train)) * idx.numel()
        return total / n, self.validation_step(*valid)

    def fit(self, train: tuple[torch.Tensor, ...], valid: tuple[torch.Tensor, ...]) -> Trainer:
        """Run the fit loop until `max_epochs` or a callback asks to stop."""
        self.generator_ = torch.Generator().manual_seed(self.seed)
        self.optimizer_ = torch.optim.AdamW(self.net.parameters(), lr=self.arch.lr, weight_decay=self.arch.weight_decay)
        self.history_ = History()
        self.best_epoch_ = self.arch.max_epochs
        for cb in self.callbacks:
            cb.on_train_begin(self)
        self.stopped_by_ = "the epoch limit"
        for epoch in range(1, self.arch.max_epochs + 1):
            train_loss, valid_loss = self.run_epoch(train, valid)
            lr = self.optimizer_.param_groups[0]["lr"]
            self.history_.record(epoch=epoch, train_loss=train_loss, valid_loss=valid_loss, lr=lr)
            stops = [cb for cb in self.callbacks if cb.on_epoch_end(self)]
            if stops:
                self.stopped_by_ = stops[0].reason
                break
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self


def _check_trainable(spec: ModelSpec, y_train: np.ndarray, y_valid: np.ndarray) -> None:
    if len(y_train) < 50 or len(y_valid) < 20:
        raise TrainingError(
            f"Training needs at least 50 training rows and 20 validation rows; got {len(y_train)} and {len(y_valid)}."
        )
    if spec.is_classification and len(np.unique(y_train)) < 2:
        raise TrainingError(f"The training rows of `{spec.target}` hold only one class, so there is nothing to learn.")
    if not spec.is_classification and (not np.isfinite(y_train).all() or not np.isfinite(y_valid).all()):
        raise TrainingError(f"Target `{spec.target}` has missing or non-numeric values in the training window.")


def fit_model(
    *,
    spec: ModelSpec,
    arch: ArchConfig,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    seed: int,
    progress: EpochFn | None = None,
) -> tuple[TrainedModel, Trainer]:
    """Fit a network on `train`, early-stopping on `valid`; both frames hold features and the target."""
    features = list(arch.features) if arch.features is not None else spec.features
    numerical = [c for c in spec.numerical if c in features]
    categorical = [c for c in spec.categorical if c in features]
    y_train = encode_target(spec, train[spec.target])
    y_valid = encode_target(spec, valid[spec.target])
    _check_trainable(spec, y_train, y_valid)

    torch.manual_seed(seed)
    pre = Preprocessor(
        numerical=numerical,
        categorical=categorical,
        min_count=arch.min_category_count,
        time_column=spec.timestamp,
        calendar=arch.calendar,
        cyclic=arch.cyclic,
    ).fit(train)
    scaler = None
    if spec.task == "regression":
        scaler = TargetScaler.fit(y_train, log=arch.log_target)
        y_train, y_valid = scaler.forward(y_train), scaler.forward(y_valid)
    out_dim = len(spec.classes) if spec.task == "multiclass" else 1
    net = TabularNet.for_arch(arch, n_numeric=pre.n_numeric_inputs, cardinalities=pre.cardinalities, out_dim=out_dim)

    def tensors(frame: pd.DataFrame, y: np.ndarray) -> tuple[torch.Tensor, ...]:
        xn, xc = pre.transform(frame)
        yt = torch.from_numpy(y.astype("int64")) if spec.task == "multiclass" else torch.from_numpy(y.astype("float32"))
        return torch.from_numpy(xn), torch.from_numpy(xc), yt

    callbacks: list[Callback] = [EarlyStopping(patience=arch.patience)]
    if arch.lr_schedule == "plateau":
        callbacks.append(LearningRateOnPlateau())
    if arch.time_budget_s is not None:
        callbacks.append(TimeBudget(seconds=arch.time_budget_s))
    if progress is not None:
        callbacks.append(EpochProgress(progress))
    started = time.perf_counter()
    trainer = Trainer(net=net, task=spec.task, arch=arch, seed=seed, callbacks=callbacks)
    trainer.fit(tensors(train, y_train), tensors(valid, y_valid))
    model = TrainedModel(spec=spec, arch=arch, net=net, preprocessor=pre, target_scaler=scaler)
    model.metadata = {
        "training_seconds": round(time.perf_counter() - started, 2),
        "epochs": len(trainer.history_),
        "best_epoch": trainer.best_epoch_,
        "stopped_by": trainer.stopped_by_,
        "seed": seed,
        "history": trainer.history_.rows,
    }
    return model, trainer


def evaluate(model: TrainedModel, frame: pd.DataFrame) -> dict[str, float]:
    """The task's metrics of `model` on a labelled frame."""
    y = encode_target(model.spec, frame[model.spec.target])
    out = model.predict(frame)
    proba = out.scores if model.spec.task == "multiclass" else out.probability
    return task_metrics(model.spec.task, y, out.prediction, proba)


def train_with_yardstick(
    *,
    spec: ModelSpec,
    arch: ArchConfig,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame | None,
    seed: int,
    progress: EpochFn | None = None,
) -> tuple[TrainedModel, dict]:
    """Fit the network, score it on every split, and fit HistGradientBoosting on the same split beside it.

    Returns the model and the training report saved in its metadata: metrics per split, the yardstick's
    metrics, the data window and row count of each split, and the features used.
    """
    model, _ = fit_model(spec=spec, arch=arch, train=train, valid=valid, seed=seed, progress=progress)
    parts = {"train": train, "validation": valid}
    if test is not None and len(test):
        parts["test"] = test
    baseline = fit_baseline(
        spec=spec,
        features=model.features,
        calendar=model.preprocessor.calendar_,
        train=train,
        valid=valid,
        test=parts.get("test"),
        seed=seed,
    )
    report = {
        "metrics": {s: evaluate(model, p) for s, p in parts.items()},
        "baseline": {"name": "HistGradientBoosting", **baseline},
        "data_window": {s: [str(p[spec.timestamp].min()), str(p[spec.timestamp].max())] for s, p in parts.items()},
        "rows": {s: len(p) for s, p in parts.items()},
        "features": model.features,
    }
    return model, report
