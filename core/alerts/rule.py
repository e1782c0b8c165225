"""What an alert rule is: which stored result it reads, when it fires and clears, and its own words.

A rule is a small class registered with :func:`rule`. It declares, in one place, the check it reads,
its line (from the model's :class:`~core.monitoring.thresholds.Thresholds`), its severity and its
words; a subclass without a title, an action or a `what` is refused when the class is defined, so a
rule that cannot say what happened cannot exist.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from core.business import BusinessKind
from core.business import kind_for
from core.metrics import METRICS
from core.monitoring.drivers import drivers_sentence
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.schema import ModelSpec
from core.store import VersionImportance
from core.wording import human

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def row_details(row: pd.Series) -> dict:
    """A stored result row's details, parsed from their JSON ({} when there are none)."""
    raw = row.get("details")
    return json.loads(raw) if isinstance(raw, str) else {}


@dataclass(frozen=True)
class AlertText:
    """A short title and three sentences: what happened, what it costs, what to do."""

    title: str
    what: str
    cost: str
    action: str
    cost_value: float | None


@dataclass(frozen=True)
class Firing:
    """A rule firing on one stored result row of one window: everything its words may read."""

    spec: ModelSpec
    row: pd.Series
    stats: dict
    when: str
    measure: float | None
    window: pd.DataFrame | None = None
    """Every stored result of the same window (what the words may compare with)."""
    importance: VersionImportance | None = None
    """Which inputs drive the version's answers; None when it was never measured."""

    @property
    def details(self) -> dict:
        return row_details(self.row)

    @property
    def value(self) -> float:
        return self.row["value"]

    @property
    def reference(self) -> float:
        return self.row["reference"]

    @property
    def column(self) -> str:
        """The result's column in words (`monthly charges`), or empty."""
        col = self.row["column"]
        return human(str(col)) if isinstance(col, str) else ""

    @property
    def kind(self) -> BusinessKind:
        return kind_for(self.spec)

    def usual(self) -> float | None:
        """The validation value a drop is measured against: recall for yes/no models, else the typical error."""
        if self.spec.task == "regression":
            return self.reference
        if self.window is None or self.spec.task != "binary":
            return None
        rows = self.window[(self.window["check"] == str(Check.PERFORMANCE)) & (self.window["metric"] == "recall")]
        ref = rows["reference"].dropna()
        return float(ref.iloc[0]) if len(ref) else None

    def drivers(self) -> str:
        """` Most of the change comes from higher tenure.`: the inputs behind the window's change, with a
        leading space, or empty (no importance, no drift results)."""
        sentence = drivers_sentence(spec=self.spec, window=self.window, importance=self.importance)
        return f" {sentence}" if sentence else ""

    def exposure(self) -> tuple[str, float | None]:
        """What the window's rows are worth (the business kind's words)."""
        return self.kind.exposure(self.spec, self.stats, self.when)

    def loss(self, ref_value: float | None = None) -> tuple[str, float | None]:
        """What worse quality cost in the window (the business kind's words)."""
        return self.kind.loss(self.spec, self.stats, self.when, ref_value)


RULES: dict[str, type[AlertRule]] = {}
ALL_TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """When a stored result should raise an alert, and how the alert reads.

    A subclass declares what it reads (`check`, `metric`, `measure`), how bad it is (`severity`),
    its line (`line`), its words (`title`, `what`, `action`, and `cost` when the business kind's
    exposure is not the right money), and is registered with :func:`rule`.
    """

    key: ClassVar[str]
    check: ClassVar[Check]
    metric: ClassVar[str | None] = None
    measure: ClassVar[str] = "value"
    """`value`, `loss` (relative loss against the reference) or `increase` (value - reference)."""
    comparison: ClassVar[str] = ">="
    severity: ClassVar[str] = "warning"
    """`critical` or `warning`."""
    per_column: ClassVar[bool] = False
    """Read every column's result and fire on the worst one (one alert per model, naming the columns)."""
    tasks: ClassVar[tuple[str, ...]] = ALL_TASKS
    yields_to_outcomes: ClassVar[bool] = False
    """True for a rule about estimated quality: it says nothing about a window whose quality was measured."""
    band: ClassVar[tuple[str, str] | float]
    """The line: a `(Thresholds field, "warn" or "alert")` pair, or a fixed number."""
    rows_needed: ClassVar[str] = "rows"
    """Before it speaks about a window the rule needs `rows` (the model's minimum rows per window),
    `labels` (the minimum outcomes to measure quality) or `none`."""
    title: ClassVar[str]
    """The alert's title after the model's name."""
    action: ClassVar[str]
    """What to do, in one sentence."""

    threshold: float
    min_rows: int = 0
    """How many rows a window needs before the rule may speak about it."""
    clear_ratio: float = 0.8
    """Hysteresis: once firing, the alert clears only when the measure is back past threshold x this ratio,
    so a number hovering at the line does not open and resolve an alert every window."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for attr in ("key", "check", "band", "title", "action"):
            if not hasattr(cls, attr):
                raise TypeError(f"alert rule {cls.__name__} must set `{attr}`")
        if cls.what is AlertRule.what:
            raise TypeError(f"alert rule {cls.__name__} must define `what`")

    @classmethod
    def line(cls, spec: ModelSpec, th: Thresholds) -> tuple[float, int]:
        """The threshold, and the rows a window needs, for this model."""
        if isinstance(cls.band, tuple):
            field, level = cls.band
            threshold = float(getattr(getattr(th, field), level))
        else:
            threshold = float(cls.band)
        rows = {"rows": spec.min_rows, "labels": th.min_labels, "none": 0}[cls.rows_needed]
        return threshold, rows

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule | None:
        """The rule with the model's line; None when it does not apply to the model's task."""
        if spec.task not in cls.tasks:
            return None
        threshold, min_rows = cls.line(spec, th)
        return cls(threshold=threshold, min_rows=min_rows)

    @classmethod
    def metric_of(cls, spec: ModelSpec) -> str | None:
        """The stored metric this rule reads for `spec` (None: any)."""
        return cls.metric

    def what(self, f: Firing) -> str:
        """What happened, in one or two sentences."""
        raise NotImplementedError

    def cost(self, f: Firing) -> tuple[str, float | None]:
        """What it costs and the amount: by default what the window's rows are worth (the exposure)."""
        return f.exposure()

    def title_for(self, f: Firing) -> str:
        return self.title

    def words(self, f: Firing) -> AlertText:
        """The alert's title and three sentences for this rule firing."""
        cost, cost_value = self.cost(f)
        return AlertText(
            title=f"{f.spec.title}: {self.title_for(f)}",
            what=self.what(f),
            cost=cost,
            action=self.action,
            cost_value=cost_value,
        )

    def measure_of(self, row: pd.Series) -> float | None:
        """The number this rule compares, from one stored result row; None where the chance test put the
        result down to the luck of the draw (`core.monitoring.chance`): a small window's shift is then no
        evidence either way, so it neither raises an alert nor clears one."""
        value, ref = row["value"], row["reference"]
        if value is None or pd.isna(value):
            return None
        raw = row.get("details")
        # the substring test spares parsing every row's details (histograms included) on each rule's pass
        if isinstance(raw, str) and '"chance"' in raw and row_details(row).get("chance"):
            return None
        if self.measure == "value":
            return float(value)
        if ref is None or pd.isna(ref):
            return None
        if self.measure == "increase":
            return float(value) - float(ref)
        info = METRICS.get(row["metric"])
        if info is None or ref == 0:
            return None
        return (ref - value) / abs(ref) if info.higher_is_better else (value - ref) / abs(ref)

    def fires(self, measure: float) -> bool:
        """True when `measure` is past the line."""
        return COMPARE[self.comparison](measure, self.threshold)

    def clears(self, measure: float) -> bool:
        """True when `measure` is clearly back within limits (see `clear_ratio`)."""
        line = (
            self.threshold * self.clear_ratio if self.comparison in (">=", ">") else self.threshold / self.clear_ratio
        )
        return not COMPARE[self.comparison](measure, line)


def rule(cls: type[AlertRule]) -> type[AlertRule]:
    """Class decorator: every model gets this rule (where it applies)."""
    RULES[cls.key] = cls
    return cls


def default_rules(spec: ModelSpec, thresholds: Thresholds | None = None) -> list[AlertRule]:
    """The registered rules that apply to `spec`, with lines from its Thresholds object."""
    th = thresholds or Thresholds()
    return [r for r in (cls.for_model(spec, th) for cls in RULES.values()) if r is not None]
