"""The rules every model gets, each with its check, its line, its severity and its words.

Order here is the order alerts are evaluated in. A new rule is one more class with `@rule`.
"""

from __future__ import annotations

from core.alerts.rule import AlertRule
from core.alerts.rule import AlertText
from core.alerts.rule import Firing
from core.alerts.rule import rule
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.monitoring.thresholds import Thresholds
from core.results import Check
from core.schema import ModelSpec
from core.wording import a_or_an
from core.wording import human
from core.wording import money
from core.wording import pct


def _either(details: dict, first: str) -> str:
    """`tenure`, `tenure or total charges`, or `tenure, x or 2 more inputs` for a grouped rule's columns."""
    rest = [human(c) for c in details.get("columns", []) if human(c) != first]
    if not rest:
        return first
    if len(rest) == 1:
        return f"{first} or {rest[0]}"
    return f"{first}, {rest[0]} or {len(rest) - 1} more {'input' if len(rest) == 2 else 'inputs'}"


@rule
class PerformanceRule(AlertRule):
    """Measured quality on arrived outcomes fell past the alarm line against validation."""

    key = "performance"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(
            check=Check.PERFORMANCE,
            metric=PRIMARY[spec.task],
            measure="loss",
            threshold=th.performance_drop.alert,
            severity="critical",
            min_rows=th.min_labels,
        )

    def words(self, f: Firing) -> AlertText:
        spec, b = f.spec, f.spec.business
        value, ref = f.value, f.reference
        metric = METRICS[f.row["metric"]]
        loss = f.measure or 0.0
        if f.row["metric"] == "roc_auc":
            what = (
                f"The model got worse at telling {b.positive} from the rest {f.when}: its score fell from "
                f"{ref:.2f} to {value:.2f}, where 1 is perfect and 0.5 is a coin toss."
            )
        elif spec.task == "regression":
            what = (
                f"The {b.target_noun} model missed by {money(spec, value)} on a typical {b.entity} {f.when}, "
                f"against {money(spec, ref)} when it was tested. That is {pct(loss)} worse."
            )
        else:
            what = f"The model's {metric.label.lower()} fell from {ref:.2f} to {value:.2f} {f.when}, {pct(loss)} worse."
        cost, cost_value = f.loss(ref if spec.task == "regression" else None)
        return AlertText(
            title=f"{spec.title}: the model is less accurate",
            what=what,
            cost=cost,
            action="Retrain it on recent data, then compare the new version with the live one before you switch.",
            cost_value=cost_value,
        )


@rule
class DriftRule(AlertRule):
    """A large share of the inputs moved away from the training data."""

    key = "drift"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(check=Check.DRIFT_SHARE, metric="drift_share", threshold=th.drift_share.warn, min_rows=spec.min_rows)

    def words(self, f: Firing) -> AlertText:
        value = f.value
        top = [human(c) for c in f.details.get("drifted", [])[:3]]
        what = (
            (
                f"{pct(value)} of the inputs {f.when} look different from the data the model learned from, "
                f"most of all {', '.join(top)}."
            )
            if top
            else f"{pct(value)} of the inputs look different {f.when}."
        )
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: incoming data has changed",
            what=what,
            cost=cost,
            action="Ask the team what changed in who is coming in. If it will last, retrain on recent data.",
            cost_value=cost_value,
        )


@rule
class PredictionDriftRule(AlertRule):
    """The model's answers are spread differently than at validation."""

    key = "prediction_drift"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(
            check=Check.PREDICTION_DRIFT, metric=None, threshold=th.prediction_drift.warn, min_rows=spec.min_rows
        )

    def words(self, f: Firing) -> AlertText:
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: the model's answers have shifted",
            what=f"The model's answers {f.when} are spread differently than in testing, so it sees the world "
            "differently now.",
            cost=cost,
            action="Check that the model still gets the same inputs as before, then spot-check some of its answers.",
            cost_value=cost_value,
        )


@rule
class TargetDriftRule(AlertRule):
    """The outcomes themselves moved (more churners, higher prices)."""

    key = "target_drift"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(check=Check.TARGET_DRIFT, metric=None, threshold=th.target_drift.warn, min_rows=th.min_labels)

    def words(self, f: Firing) -> AlertText:
        spec, b, details = f.spec, f.spec.business, f.details
        if spec.task == "binary":
            before, now = details.get("reference_rate") or 0, details.get("current_rate") or 0
            what = f"{b.positive.capitalize()} made up {pct(now)} of outcomes {f.when}, against {pct(before)} before."
        elif spec.task == "regression":
            before, now = details.get("reference_mean") or 0, details.get("current_mean") or 0
            what = (
                f"The average {b.target_noun} was {money(spec, now)} {f.when}, against {money(spec, before)} "
                "in the data the model learned from."
            )
        else:
            what = f"The mix of outcomes {f.when} is different from the data the model learned from."
        cost, cost_value = f.loss()
        return AlertText(
            title=f"{spec.title}: the outcomes themselves have moved",
            what=what,
            cost=cost,
            action="Ask the team if the business changed. If the new level is here to stay, retrain on recent data.",
            cost_value=cost_value,
        )


@rule
class MissingColumnsRule(AlertRule):
    """An input arrived with no values at all."""

    key = "missing_columns"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(check=Check.QUALITY, metric="missing_columns", threshold=1, severity="critical")

    def words(self, f: Firing) -> AlertText:
        cols = ", ".join(human(c) for c in f.details.get("columns", []))
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: an input has gone missing",
            what=f"No values at all came in for {cols} {f.when}. The column may have been dropped or renamed.",
            cost=cost,
            action="Ask whoever sends the data to restore it. Until then, do not trust the model's answers.",
            cost_value=cost_value,
        )


@rule
class MissingValuesRule(AlertRule):
    """More inputs are empty than in the training data."""

    key = "missing_values"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(
            check=Check.QUALITY,
            metric="missing_share",
            measure="increase",
            threshold=th.missing_increase.warn,
            min_rows=spec.min_rows,
            per_column=True,
        )

    def words(self, f: Firing) -> AlertText:
        col, details = f.column, f.details
        what = f"{col.capitalize()} was empty for {pct(f.value)} of {f.spec.business.entity}s {f.when}, up from "
        what += pct(f.reference)
        n_more = len([c for c in details.get("columns", []) if human(c) != col])
        what += f", and {n_more} more {'input' if n_more == 1 else 'inputs'} had gaps too." if n_more else "."
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: gaps in the data",
            what=what,
            cost=cost,
            action="Find out why the data has gaps and fix the feed. The model fills gaps with a typical value.",
            cost_value=cost_value,
        )


@rule
class NewCategoriesRule(AlertRule):
    """Category values the model never saw in training."""

    key = "new_categories"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(
            check=Check.QUALITY,
            metric="unseen_share",
            threshold=th.unseen_share.warn,
            min_rows=spec.min_rows,
            per_column=True,
        )

    def words(self, f: Firing) -> AlertText:
        col, details = f.column, f.details
        examples = ", ".join(str(e) for e in details.get("examples", [])[:2])
        what = f"{pct(f.value)} of {f.spec.business.entity}s {f.when} had {a_or_an(_either(details, col))} the model "
        what += "never saw" + (f", such as {examples}." if examples else ".")
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: new kinds of {col}",
            what=what,
            cost=cost,
            action="Check these new values are right, then retrain so the model learns them.",
            cost_value=cost_value,
        )


@rule
class OutOfRangeRule(AlertRule):
    """Numbers outside the range the model learned from."""

    key = "out_of_range"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(
            check=Check.QUALITY,
            metric="out_of_range_share",
            threshold=th.out_of_range_share.warn,
            min_rows=spec.min_rows,
            per_column=True,
        )

    def words(self, f: Firing) -> AlertText:
        col = f.column
        what = (
            f"{pct(f.value)} of {f.spec.business.entity}s {f.when} had {a_or_an(_either(f.details, col))} outside "
            "anything the model learned from, so it is guessing for them."
        )
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: {col} is out of range",
            what=what,
            cost=cost,
            action="Retrain with data that covers these values, or check that the feed is right.",
            cost_value=cost_value,
        )


@rule
class OverfittingRule(AlertRule):
    """The version did far better on its training data than on validation data."""

    key = "overfitting"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule:
        return cls(check=Check.OVERFITTING, metric="train_validation", threshold=th.overfit_gap.warn)

    def words(self, f: Firing) -> AlertText:
        metric = METRICS.get(str(f.row["column"]), METRICS["accuracy"])
        return AlertText(
            title=f"{f.spec.title}: the model learned its training data by heart",
            what="The model scored far better on the data it learned from than on data it had not seen: "
            f"{pct(f.value)} worse on new data.",
            cost="Its real quality is closer to the lower number, so plans built on the higher one will "
            f"fall short. This is its {metric.label.lower()}.",
            action="Retrain with more data or a simpler model before you rely on it.",
            cost_value=None,
        )


@rule
class EstimatedPerformanceRule(AlertRule):
    """Before outcomes arrive, the label-free estimate says quality dropped (yes/no models)."""

    key = "estimated_performance"

    @classmethod
    def for_model(cls, spec: ModelSpec, th: Thresholds) -> AlertRule | None:
        if spec.task != "binary":
            return None
        return cls(
            check=Check.ESTIMATED_PERFORMANCE,
            metric="roc_auc",
            measure="loss",
            threshold=th.performance_drop.alert,
            min_rows=spec.min_rows,
        )

    def words(self, f: Firing) -> AlertText:
        cost, cost_value = f.exposure()
        return AlertText(
            title=f"{f.spec.title}: quality may be slipping",
            what=f"Outcomes for {f.when} are not in yet, but the model's own confidence says its skill may have "
            f"dropped by {pct(f.measure or 0)}.",
            cost=cost,
            action="Watch the first outcomes as they come in. If they confirm the drop, retrain the model.",
            cost_value=cost_value,
        )
