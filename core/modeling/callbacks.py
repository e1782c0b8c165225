"""Training hooks in skorch's style: early stopping and progress are callbacks, not branches in the loop.

A callback overrides the no-op hooks it needs; `on_epoch_end` may return True to stop training.
State a callback learns while fitting ends in `_`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

import torch
from torch import nn

from core.schema import ArchConfig

EpochFn = Callable[[int, int, float, float], None]
"""Receives `(epoch, max_epochs, train_loss, valid_loss)` after every epoch."""


@dataclass
class History:
    """Per-epoch training record, queryable like skorch's history."""

    rows: list[dict] = field(default_factory=list)

    def record(self, **values: float) -> None:
        self.rows.append(values)

    def column(self, key: str) -> list[float]:
        return [r[key] for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


class Trainer(Protocol):
    """What a hook may read and set on the trainer that calls it (`core.modeling.training.Trainer`)."""

    net: nn.Module
    arch: ArchConfig
    history_: History
    best_epoch_: int
    optimizer_: torch.optim.Optimizer


class Callback:
    """Training hooks; override the ones you need. `on_epoch_end` may return True to stop."""

    reason: str = "a callback"
    """How the training report names this callback when it stops training."""

    def on_train_begin(self, trainer: Trainer) -> None:  # noqa: B027 - deliberate no-op hook
        pass

    def on_epoch_end(self, trainer: Trainer) -> bool:
        return False

    def on_train_end(self, trainer: Trainer) -> None:  # noqa: B027 - deliberate no-op hook
        pass


class EarlyStopping(Callback):
    """Stop when validation loss has not improved for `patience` epochs; restore the best weights."""

    reason = "validation loss no longer improving"

    def __init__(self, *, patience: int, min_delta: float = 1e-4) -> None:
        self.patience = patience
        self.min_delta = min_delta

    def on_train_begin(self, trainer: Trainer) -> None:
        self.best_loss_ = float("inf")
        self.best_epoch_ = 0
        self.best_state_ = copy.deepcopy(trainer.net.state_dict())

    def on_epoch_end(self, trainer: Trainer) -> bool:
        row = trainer.history_.rows[-1]
        if row["valid_loss"] < self.best_loss_ - self.min_delta:
            self.best_loss_ = row["valid_loss"]
            self.best_epoch_ = row["epoch"]
            self.best_state_ = copy.deepcopy(trainer.net.state_dict())
        return row["epoch"] - self.best_epoch_ >= self.patience

    def on_train_end(self, trainer: Trainer) -> None:
        trainer.net.load_state_dict(self.best_state_)
        trainer.best_epoch_ = self.best_epoch_


class EpochProgress(Callback):
    """Report each epoch to a function `(epoch, max_epochs, train_loss, valid_loss)`."""

    def __init__(self, fn: EpochFn) -> None:
        self.fn = fn

    def on_epoch_end(self, trainer: Trainer) -> bool:
        row = trainer.history_.rows[-1]
        self.fn(int(row["epoch"]), trainer.arch.max_epochs, row["train_loss"], row["valid_loss"])
        return False


class LearningRateOnPlateau(Callback):
    """Halve the learning rate when validation loss has not improved for `patience` epochs."""

    def __init__(self, *, patience: int = 3, factor: float = 0.5) -> None:
        self.patience = patience
        self.factor = factor

    def on_train_begin(self, trainer: Trainer) -> None:
        from torch.optim.lr_scheduler import ReduceLROnPlateau

        self.scheduler_ = ReduceLROnPlateau(trainer.optimizer_, factor=self.factor, patience=self.patience)

    def on_epoch_end(self, trainer: Trainer) -> bool:
        self.scheduler_.step(trainer.history_.rows[-1]["valid_loss"])
        return False


class TimeBudget(Callback):
    """Stop when training has used its time budget (the best epoch so far is kept by early stopping)."""

    reason = "the time budget"

    def __init__(self, *, seconds: float) -> None:
        self.seconds = seconds

    def on_train_begin(self, trainer: Trainer) -> None:
        self.started_ = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer) -> bool:
        return time.perf_counter() - self.started_ >= self.seconds
