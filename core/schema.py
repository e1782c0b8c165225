"""Typed descriptions of a monitored model: its columns, task, time window and business value.

A :class:`ModelSpec` is stored as JSON in the store and in every saved model version, so the
app, the CLI and the monitoring engine all read the same description of what a column means.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator

Task = Literal["binary", "multiclass", "regression"]
Window = Literal["day", "week", "month"]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Column names users bring can be almost anything; we accept printable names without quotes or
# control characters and always quote them in SQL.
COLUMN_RE = re.compile(r'^[^"\x00-\x1f]{1,120}$')
RESERVED_COLUMNS = {"_row_id", "_split", "_ts", "_entity_id", "_target", "_batch_id"}
ID_COLUMN = "modelpulse_id"
"""The id column ModelSpec names when a file has none and ModelPulse makes the ids (`id_from`)."""


def validate_model_name(name: str) -> str:
    """Return `name` if it is a valid model name (lowercase letters, digits, `_`; starts with a letter)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(
            f"model name {name!r} must start with a lowercase letter and use only lowercase letters, digits and _ "
            "(at most 40 characters)"
        )
    return name


def validate_column_name(name: str) -> str:
    """Return `name` if it can be used as a column name (no double quotes or control characters)."""
    if not isinstance(name, str) or not COLUMN_RE.match(name) or name.strip() != name:
        raise ValueError(f"column name {name!r} must be 1-120 printable characters with no double quotes")
    if name in RESERVED_COLUMNS:
        raise ValueError(f"column name {name!r} is reserved by ModelPulse")
    return name


def privacy_problem(
    *,
    hashed: tuple[str, ...],
    dropped: tuple[str, ...],
    timestamp: str,
    target: str,
    entity: str,
    numerical: tuple[str, ...],
    features: list[str],
    id_columns: tuple[str, ...],
    outputs: tuple[str, ...],
    money: tuple[str, ...],
) -> str | None:
    """Why personal-data choices do not fit the columns' roles, or None: a dropped column plays no part, and a
    hashed one only a part its real values are not needed for (an id, a category input)."""
    for col in (*hashed, *dropped):
        validate_column_name(col)
    both = sorted(set(hashed) & set(dropped))
    if both:
        return f"`{both[0]}` is set to be both dropped and hashed; pick one"
    roles = {timestamp: "the time column", target: "the target"}
    roles.update({c: "an output of the model" for c in outputs})
    roles.update({c: "a money column" for c in money})
    for col in hashed:
        if col in roles:
            return f"`{col}` is {roles[col]}, which needs its real values, so it cannot be hashed"
        if col in numerical:
            return f"`{col}` is hashed, so it is text: make it a category input, not a number input"
    roles.update({c: "an input" for c in features})
    roles.update({c: "part of each row's id" for c in id_columns})
    roles[entity] = "the id of each row"
    for col in dropped:
        if col in roles:
            return f"`{col}` is {roles[col]}, so it cannot be dropped; keep it or hash it"
    return None


class BusinessConfig(BaseModel):
    """What one outcome of the model is worth, so alerts and KPIs can speak in money.

    `kind` names the business kind (a strategy in `core/business/`) that computes the money:
    `revenue_at_risk` and `cost_per_event` for yes/no models, `pricing_error` for numbers, `none`
    for counts only. The fields below are the settings those kinds read.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(default="none", pattern=r"^[a-z][a-z_]{0,39}$")
    currency: str = "$"
    unit: str = "outcome"
    value_column: str | None = None
    value_per_positive: float = Field(default=0.0, ge=0)
    quantity_column: str | None = None
    retention_rate: float = Field(default=0.3, ge=0, le=1)
    assumption: str = ""
    entity: str = "case"
    """What one row is, in the singular ("customer", "booking", "flight")."""
    positive: str = "positive cases"
    """The positive outcome as a plural phrase ("customers who leave", "late flights")."""
    negative: str = Field(default="", max_length=40)
    """The other outcome as an adjective ("on-time"), for the headline share of a cost-per-event model
    ("On-time share"); empty: worded from `positive` ("Share of flights not late", `core.wording.share_without`)."""
    target_noun: str = "value"
    """What a regression predicts ("room price", "daily rentals")."""
    target_unit: Literal["money", "count", "rate", "score"] = "money"
    """What one unit of a regression target is: money (a price), a count of things, a rate (a share between
    0 and 1) or a score. Every sentence about the target's values follows it."""
    unit_name: str = ""
    """The things a count counts, or a score's points ("bikes", "points"); empty: "units" / "points"."""
    time_event: str = Field(default="arrived", max_length=40)
    """What a row's time marks, as a past verb ("signed up", "flew"): groups by month read "customers who
    signed up in March 2018"."""
    value_per_unit: float = Field(default=0.0, ge=0)
    """`error_cost` kind: what one unit of error costs, in money."""


class ModelSpec(BaseModel):
    """The columns and meaning of one monitored model (shared by all its versions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    description: str = ""
    task: Task
    target: str
    timestamp: str
    entity: str
    numerical: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    positive_class: str | None = None
    window: Window = "week"
    label_delay: str = ""
    min_rows: int = Field(default=200, ge=1)
    business: BusinessConfig = BusinessConfig()
    source: Literal["trained", "external"] = "trained"
    prediction_column: str | None = None
    """External models: the column holding the model's prediction (class or value)."""
    probability_columns: tuple[str, ...] = ()
    """External models: the positive class's probability (binary) or one column per class (multiclass)."""
    id_from: Literal["column", "row_order", "hash"] = "column"
    """Where each row's id comes from: the `entity` column of the file, the row's time and its order
    among rows with the same time, or a hash of `id_columns`; the last two fill `ID_COLUMN`."""
    id_columns: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    """Inputs the team analyses the business by first (the segment view proposes the others)."""
    hashed_columns: tuple[str, ...] = ()
    """Personal-data columns kept only as a keyed hash (`core.intake.privacy`): an id still joins, an input
    is a category. Every file of the model is hashed the same way before it is checked or stored."""
    dropped_columns: tuple[str, ...] = ()
    """Personal-data columns removed from every file of the model before it is checked or stored."""
    date_order: Literal["day", "month"] | None = None
    """How the model's files write numbers-only dates (`01/02/2018`): day first or month first, decided by its
    first file (`core.intake.dates`); None when that file wrote none whose reading depends on it."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return validate_model_name(value)

    @model_validator(mode="after")
    def _columns(self) -> ModelSpec:
        features = list(self.numerical) + list(self.categorical)
        for col in [self.target, self.timestamp, self.entity, *features]:
            validate_column_name(col)
        if len(set(features)) != len(features):
            dup = sorted({c for c in features if features.count(c) > 1})
            raise ValueError(f"columns listed twice among the features: {', '.join(dup)}")
        for col in (*self.probability_columns, *([self.prediction_column] if self.prediction_column else [])):
            validate_column_name(col)
            if col in features:
                raise ValueError(f"{col} is the model's output, so it cannot also be a feature")
        if self.id_from != "column" and self.entity != ID_COLUMN:
            raise ValueError(f"a model that makes its own ids keeps them in `{ID_COLUMN}`")
        if self.id_from == "hash":
            if not self.id_columns:
                raise ValueError("name the columns whose values together identify a row")
            for col in self.id_columns:
                validate_column_name(col)
        special = {self.target, self.timestamp, self.entity}
        clash = special.intersection(features)
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both a feature and the target, time or id column")
        if len(special) != 3:
            raise ValueError("the target, timestamp and entity id must be three different columns")
        self._privacy(features)
        if self.task == "binary":
            if len(self.classes) != 2:
                raise ValueError("a binary model needs exactly two classes")
            if self.positive_class not in self.classes:
                raise ValueError("the positive class must be one of the two classes")
        if self.task == "multiclass" and len(self.classes) < 3:
            raise ValueError("a multiclass model needs at least three classes")
        return self

    def _privacy(self, features: list[str]) -> None:
        problem = privacy_problem(
            hashed=self.hashed_columns,
            dropped=self.dropped_columns,
            timestamp=self.timestamp,
            target=self.target,
            entity=self.entity,
            numerical=self.numerical,
            features=features,
            id_columns=self.id_columns,
            outputs=(*self.probability_columns, *([self.prediction_column] if self.prediction_column else [])),
            money=tuple(c for c in (self.business.value_column, self.business.quantity_column) if c),
        )
        if problem:
            raise ValueError(problem)

    @property
    def features(self) -> list[str]:
        """All input feature columns, numerical first."""
        return list(self.numerical) + list(self.categorical)

    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass")

    def class_index(self) -> dict[str, int]:
        """Map a class label to the integer the store keeps for it (binary: negative 0, positive 1)."""
        if self.task == "binary":
            neg = next(c for c in self.classes if c != self.positive_class)
            return {neg: 0, str(self.positive_class): 1}
        return {c: i for i, c in enumerate(self.classes)}


class ArchConfig(BaseModel):
    """Architecture and training settings of one model version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: tuple[str, ...] | None = None  # None: all of the spec's features
    hidden: tuple[int, ...] = (128, 64)
    dropout: float = Field(default=0.1, ge=0, lt=1)
    batch_norm: bool = False
    residual: bool = False
    wide: bool = False
    min_category_count: int = Field(default=10, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-5, ge=0)
    batch_size: int = Field(default=512, ge=8)
    max_epochs: int = Field(default=400, ge=1)
    """An upper bound only: training stops when validation stops improving (`patience`) or at the time budget."""
    patience: int = Field(default=8, ge=1)
    time_budget_s: float | None = Field(default=240.0, gt=0)
    """Training stops after this many seconds, keeping the best epoch so far (None: no budget)."""
    lr_schedule: Literal["none", "plateau"] = "plateau"
    """`plateau` halves the learning rate when validation loss stalls for three epochs."""
    calendar: bool = True
    """Feed the weekday, month and (when rows carry a time of day) hour of the time column to the network,
    each as a point on a circle, so Sunday sits next to Monday and December next to January."""
    cyclic: bool = True
    """Encode number inputs named like hour / weekday / month on a circle too (besides their plain value)."""
    log_target: bool = False
    clip_sd: float = Field(default=4.0, gt=0)
    note: str = ""
