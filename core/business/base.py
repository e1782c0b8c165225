"""What a business kind is: a small strategy that turns a model's counts and sums into money and words.

A kind knows its KPIs, the money values of those KPIs from pooled statistics, what a window's rows
are worth when the inputs look wrong (exposure), what worse quality cost (loss), and what switching
from one version to another was worth (gain). Kinds register by name with :func:`register`; the
model's `BusinessConfig.kind` picks one, and a kind that does not fit the model's task falls back to
`none` (counts only). A new kind is one new class in this package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.wording import plural


@dataclass(frozen=True)
class KPI:
    """One business number: how to label, format and read it."""

    key: str
    label: str
    unit: str  # "money", "count", "share" or "score"
    help: str
    higher_is_better: bool | None = None
    headline: bool = False


class BusinessKind:
    """Counts only, no money: the behaviour every kind starts from."""

    name: ClassVar[str] = "none"
    tasks: ClassVar[tuple[str, ...]] = ("binary", "multiclass", "regression")
    choice: ClassVar[str] = "No money"
    """How the upload form offers this kind."""
    target_units: ClassVar[tuple[str, ...]] = ("money", "count", "rate", "score")
    """For regressions: the target units this kind fits (a price error needs a money target)."""

    def kpis(self, spec: ModelSpec) -> list[KPI]:
        """The KPIs this kind shows, the headline one first."""
        return [KPI("n", "Predictions", "count", "How many predictions the model made.", headline=True)]

    def values(self, spec: ModelSpec, stats: dict, business: BusinessConfig) -> dict[str, float]:
        """This kind's KPI values from (pooled) window statistics."""
        return {}

    def exposure(self, spec: ModelSpec, stats: dict, when: str) -> tuple[str, float | None]:
        """What the rows of a window are worth, for alerts about inputs (drift, quality)."""
        return f"The model made {plural(stats.get('n', 0), 'call')} {when} that may now be less right.", None

    def loss(self, spec: ModelSpec, stats: dict, when: str, ref_value: float | None) -> tuple[str, float | None]:
        """What worse quality cost in a window, for alerts about quality and outcomes.

        `ref_value` is the validation value the loss is measured against, when known: recall for yes/no
        models, the typical error for numbers. With it the money is the likely cost of the drop; without
        it, what is at stake.
        """
        n = stats.get("n_labelled", 0)
        return f"It got more of the {plural(n, 'case')} {when} wrong than it used to.", None

    def gain(self, spec: ModelSpec, stats_a: dict, stats_b: dict) -> tuple[float | None, str]:
        """What switching from version a to b would have been worth over the period, and in what."""
        return None, ""

    def gain_sentence(self, spec: ModelSpec, gain: float, b: int) -> str:
        """`Had v2 been live, ...`: the gain in one sentence."""
        return ""


def extra_missed(stats: dict, usual_recall: float | None) -> tuple[float, float, float] | None:
    """Positive cases missed beyond what the usual recall would miss: (likely, low, high), or None.

    The range is the binomial spread of misses at the usual recall (95%); None when the usual recall is
    unknown, no positive case arrived, or the model missed no more than usual.
    """
    positives = stats.get("tp", 0) + stats.get("fn", 0)
    if usual_recall is None or not math.isfinite(usual_recall) or positives == 0:
        return None
    extra = stats.get("fn", 0) - positives * (1 - usual_recall)
    if extra < 1:
        return None
    spread = 1.96 * math.sqrt(positives * usual_recall * (1 - usual_recall))
    return extra, max(0.0, extra - spread), extra + spread


KINDS: dict[str, BusinessKind] = {}


def register(cls: type[BusinessKind]) -> type[BusinessKind]:
    """Class decorator: make a kind available under its `name`."""
    KINDS[cls.name] = cls()
    return cls


register(BusinessKind)


def kind_for(spec: ModelSpec) -> BusinessKind:
    """The kind a model's money settings name, or counts only when it does not fit the model's task."""
    kind = KINDS.get(spec.business.kind)
    return kind if kind is not None and spec.task in kind.tasks else KINDS["none"]


def kinds_for_task(task: str, target_unit: str | None = None) -> list[BusinessKind]:
    """Kinds a model of `task` (and, for a regression, of that target unit) can use, money first."""
    fits = [k for k in KINDS.values() if task in k.tasks and (target_unit is None or target_unit in k.target_units)]
    return sorted(fits, key=lambda k: k.name == "none")
