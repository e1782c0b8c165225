"""Training: a skorch-style fit loop with callbacks, and a gradient-boosting baseline beside it.

`fit_model` runs `fit_loop -> run_epoch -> train_step / validation_step`. Early stopping and
progress reporting are callbacks, not branches in the loop. State learned by fitting ends in `_`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.errors import TrainingError
from core.features import Preprocessor
from core.features import TargetScaler
from core.metrics import task_metrics
from core.model import TabularNet
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.scoring import TrainedModel

ProgressFn = Callable[[int, int, float, float], None]


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


class Callback:
    """Training hooks; override the ones you need. `on_epoch_end` may return True to stop."""

    def on_train_begin(self, trainer: Trainer) -> None:  # noqa: B027 - deliberate no-op hook
        pass

    def on_epoch_end(self, trainer: Trainer) -> bool:
        return False

    def on_train_end(self, trainer: Trainer) -> None:  # noqa: B027 - deliberate no-op hook
        pass


class EarlyStopping(Callback):
    """Stop when validation loss has not improved for `patience` epochs; restore the best weights."""

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


class Progress(Callback):
    """Report each epoch to a function `(epoch, max_epochs, train_loss, valid_loss)`."""

    def __init__(self, fn: ProgressFn) -> None:
        self.fn = fn

    def on_epoch_end(self, trainer: Trainer) -> bool:
        row = trainer.history_.rows[-1]
        self.fn(int(row["epoch"]), trainer.arch.max_epochs, row["train_loss"], row["valid_loss"])
        return False


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
        for epoch in range(1, self.arch.max_epochs + 1):
            train_loss, valid_loss = self.run_epoch(train, valid)
            self.history_.record(epoch=epoch, train_loss=train_loss, valid_loss=valid_loss)
            stops = [cb.on_epoch_end(self) for cb in self.callbacks]
            if any(stops):
                break
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self


def encode_target(spec: ModelSpec, values: pd.Series) -> np.ndarray:
    """Target column to numbers: class index for classification (by the spec's classes), float for regression."""
    if spec.is_classification:
        index = spec.class_index()
        mapped = values.astype("string").map(index)
        if mapped.isna().any():
            bad = values[mapped.isna()]
            raise TrainingError(
                f"Target `{spec.target}` has {len(bad):,} values that are not one of the classes "
                f"{', '.join(spec.classes)}; the first is {bad.iloc[0]!r}."
            )
        return mapped.to_numpy(dtype="float64")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")


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
    progress: ProgressFn | None = None,
) -> tuple[TrainedModel, Trainer]:
    """Fit a network on `train`, early-stopping on `valid`; both frames hold features and the target."""
    features = list(arch.features) if arch.features is not None else spec.features
    numerical = [c for c in spec.numerical if c in features]
    categorical = [c for c in spec.categorical if c in features]
    y_train = encode_target(spec, train[spec.target])
    y_valid = encode_target(spec, valid[spec.target])
    _check_trainable(spec, y_train, y_valid)

    torch.manual_seed(seed)
    pre = Preprocessor(numerical=numerical, categorical=categorical, min_count=arch.min_category_count).fit(train)
    scaler = None
    if spec.task == "regression":
        scaler = TargetScaler.fit(y_train, log=arch.log_target)
        y_train, y_valid = scaler.forward(y_train), scaler.forward(y_valid)
    out_dim = len(spec.classes) if spec.task == "multiclass" else 1
    net = TabularNet(
        n_numeric=pre.n_numeric_inputs,
        cardinalities=pre.cardinalities,
        hidden=arch.hidden,
        out_dim=out_dim,
        dropout=arch.dropout,
        batch_norm=arch.batch_norm,
        residual=arch.residual,
        wide=arch.wide,
    )

    def tensors(frame: pd.DataFrame, y: np.ndarray) -> tuple[torch.Tensor, ...]:
        xn, xc = pre.transform(frame)
        yt = torch.from_numpy(y.astype("int64")) if spec.task == "multiclass" else torch.from_numpy(y.astype("float32"))
        return torch.from_numpy(xn), torch.from_numpy(xc), yt

    callbacks: list[Callback] = [EarlyStopping(patience=arch.patience)]
    if progress is not None:
        callbacks.append(Progress(progress))
    started = time.perf_counter()
    trainer = Trainer(net=net, task=spec.task, arch=arch, seed=seed, callbacks=callbacks)
    trainer.fit(tensors(train, y_train), tensors(valid, y_valid))
    model = TrainedModel(spec=spec, arch=arch, net=net, preprocessor=pre, target_scaler=scaler)
    model.metadata = {
        "training_seconds": round(time.perf_counter() - started, 2),
        "epochs": len(trainer.history_),
        "best_epoch": trainer.best_epoch_,
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


def fit_baseline(
    *,
    spec: ModelSpec,
    features: list[str],
    train: pd.DataFrame,
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
    nums = [c for c in spec.numerical if c in features]
    levels = {c: train[c].astype("string").value_counts().index[:250].tolist() for c in cats}

    def prep(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[nums].apply(pd.to_numeric, errors="coerce").astype("float64")
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


def train_with_yardstick(
    *,
    spec: ModelSpec,
    arch: ArchConfig,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame | None,
    seed: int,
    progress: ProgressFn | None = None,
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
        spec=spec, features=model.features, train=train, valid=valid, test=parts.get("test"), seed=seed
    )
    report = {
        "metrics": {s: evaluate(model, p) for s, p in parts.items()},
        "baseline": {"name": "HistGradientBoosting", **baseline},
        "data_window": {s: [str(p[spec.timestamp].min()), str(p[spec.timestamp].max())] for s, p in parts.items()},
        "rows": {s: len(p) for s, p in parts.items()},
        "features": model.features,
    }
    return model, report
