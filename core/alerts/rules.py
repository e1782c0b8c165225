"""The rules every model gets, each with what it reads, its line, its severity and its words.

Order here is the order alerts are evaluated in. A new rule is one more class with `@rule`.
"""

from __future__ import annotations

from core.alerts.rule import AlertRule
from core.alerts.rule import Firing
from core.alerts.rule import rule
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.results import Check
from core.schema import ModelSpec
from core.wording import a_or_an
from core.wording import amount
from core.wording import human
from core.wording import pct
from core.wording import upper_first


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
    check = Check.PERFORMANCE
    measure = "loss"
    severity = "critical"
    band = ("performance_drop", "alert")
    rows_needed = "labels"
    title = "the model is less accurate"
    action = "Retrain it on recent data, then compare the new version with the live one before you switch."

    @classmethod
    def metric_of(cls, spec: ModelSpec) -> str:
        return PRIMARY[spec.task]

    def what(self, f: Firing) -> str:
        return self._drop(f) + f.drivers()

    def _drop(self, f: Firing) -> str:
        b, value, ref = f.spec.business, f.value, f.reference
        if f.row["metric"] == "roc_auc":
            return (
                f"The model got worse at telling {b.positive} from the rest {f.when}: its score fell from "
                f"{ref:.2f} to {value:.2f}, where 1 is perfect and 0.5 is a coin toss."
            )
        loss = pct(f.measure or 0.0)
        if f.spec.task == "regression":
            return (
                f"The {b.target_noun} model missed by {amount(f.spec, value)} on a typical {b.entity} {f.when}, "
                f"against {amount(f.spec, ref)} when it was tested. That is {loss} worse."
            )
        label = METRICS[f.row["metric"]].label.lower()
        return f"The model's {label} fell from {ref:.2f} to {value:.2f} {f.when}, {loss} worse."

    def cost(self, f: Firing) -> tuple[str, float | None]:
        return f.loss(f.usual())


@rule
class DriftRule(AlertRule):
    """A large share of the inputs moved away from the training data."""

    key = "drift"
    check = Check.DRIFT_SHARE
    metric = "drift_share"
    band = ("drift_share", "warn")
    title = "incoming data has changed"
    action = "Ask the team what changed in who is coming in. If it will last, retrain on recent data."

    def what(self, f: Firing) -> str:
        top = [human(c) for c in f.details.get("drifted", [])[:3]]
        if not top:
            return f"{pct(f.value)} of the inputs look different {f.when}.{f.drivers()}"
        return (
            f"{pct(f.value)} of the inputs {f.when} look different from the data the model learned from, "
            f"most of all {', '.join(top)}.{f.drivers()}"
        )


@rule
class PredictionDriftRule(AlertRule):
    """The model's answers are spread differently than at validation."""

    key = "prediction_drift"
    check = Check.PREDICTION_DRIFT
    band = ("prediction_drift", "warn")
    title = "the model's answers have shifted"
    action = "Check that the model still gets the same inputs as before, then spot-check some of its answers."

    def what(self, f: Firing) -> str:
        return (
            f"The model's answers {f.when} are spread differently than in testing, so it sees the world "
            "differently now."
        )


@rule
class TargetDriftRule(AlertRule):
    """The outcomes themselves moved (more churners, higher prices)."""

    key = "target_drift"
    check = Check.TARGET_DRIFT
    band = ("target_drift", "warn")
    rows_needed = "labels"
    title = "the outcomes themselves have moved"
    action = "Ask the team if the business changed. If the new level is here to stay, retrain on recent data."

    def what(self, f: Firing) -> str:
        spec, b, details = f.spec, f.spec.business, f.details
        if spec.task == "binary":
            before, now = details.get("reference_rate") or 0, details.get("current_rate") or 0
            return f"{upper_first(b.positive)} made up {pct(now)} of outcomes {f.when}, against {pct(before)} before."
        if spec.task == "regression":
            before, now = details.get("reference_mean") or 0, details.get("current_mean") or 0
            return (
                f"The average {b.target_noun} was {amount(spec, now)} {f.when}, against {amount(spec, before)} "
                "in the data the model learned from."
            )
        return f"The mix of outcomes {f.when} is different from the data the model learned from."

    def cost(self, f: Firing) -> tuple[str, float | None]:
        return f.loss()


@rule
class MissingColumnsRule(AlertRule):
    """An input arrived with no values at all."""

    key = "missing_columns"
    check = Check.QUALITY
    metric = "missing_columns"
    severity = "critical"
    band = 1
    rows_needed = "none"
    title = "an input has gone missing"
    action = "Ask whoever sends the data to restore it. Until then, do not trust the model's answers."

    def what(self, f: Firing) -> str:
        cols = ", ".join(human(c) for c in f.details.get("columns", []))
        return f"No values at all came in for {cols} {f.when}. The column may have been dropped or renamed."


@rule
class UnusableValuesRule(AlertRule):
    """Stored values monitoring had to set aside (infinite numbers, answers that are not numbers)."""

    key = "unusable_values"
    check = Check.QUALITY
    metric = "unusable_values"
    band = 1
    rows_needed = "none"
    title = "some data could not be used"
    action = "Ask whoever sends the data to check the export: these values are not real measurements."

    def what(self, f: Firing) -> str:
        row = f.row
        return f"{str(row['message']).rstrip('.')} {f.when}."


@rule
class MissingValuesRule(AlertRule):
    """More inputs are empty than in the training data."""

    key = "missing_values"
    check = Check.QUALITY
    metric = "missing_share"
    measure = "increase"
    per_column = True
    band = ("missing_increase", "warn")
    title = "gaps in the data"
    action = "Find out why the data has gaps and fix the feed. The model fills gaps with a typical value."

    def what(self, f: Firing) -> str:
        col = f.column
        n_more = len([c for c in f.details.get("columns", []) if human(c) != col])
        more = f", and {n_more} more {'input' if n_more == 1 else 'inputs'} had gaps too." if n_more else "."
        share, before = pct(f.value), pct(f.reference)
        return f"{upper_first(col)} was empty for {share} of {f.spec.business.entity}s {f.when}, up from {before}{more}"


@rule
class NewCategoriesRule(AlertRule):
    """Category values the model never saw in training."""

    key = "new_categories"
    check = Check.QUALITY
    metric = "unseen_share"
    per_column = True
    band = ("unseen_share", "warn")
    title = "new kinds of values"
    action = "Check these new values are right, then retrain so the model learns them."

    def title_for(self, f: Firing) -> str:
        return f"new kinds of {f.column}"

    def what(self, f: Firing) -> str:
        examples = ", ".join(str(e) for e in f.details.get("examples", [])[:2])
        which = a_or_an(_either(f.details, f.column))
        return f"{pct(f.value)} of {f.spec.business.entity}s {f.when} had {which} the model never saw" + (
            f", such as {examples}." if examples else "."
        )


@rule
class OutOfRangeRule(AlertRule):
    """Numbers outside the range the model learned from."""

    key = "out_of_range"
    check = Check.QUALITY
    metric = "out_of_range_share"
    per_column = True
    band = ("out_of_range_share", "warn")
    title = "values out of range"
    action = "Retrain with data that covers these values, or check that the feed is right."

    def title_for(self, f: Firing) -> str:
        return f"{f.column} is out of range"

    def what(self, f: Firing) -> str:
        which = a_or_an(_either(f.details, f.column))
        return (
            f"{pct(f.value)} of {f.spec.business.entity}s {f.when} had {which} outside anything the model learned "
            "from, so it is guessing for them."
        )


@rule
class OverfittingRule(AlertRule):
    """The version did far better on its training data than on validation data."""

    key = "overfitting"
    check = Check.OVERFITTING
    metric = "train_validation"
    band = ("overfit_gap", "warn")
    rows_needed = "none"
    title = "the model learned its training data by heart"
    action = "Retrain with more data or a simpler model before you rely on it."

    def what(self, f: Firing) -> str:
        gap, allowed = f.details.get("gap"), f.details.get("yardstick_gap")
        if gap is not None and allowed is not None:
            return (
                "The model scored far better on the data it learned from than on data it had not seen: "
                f"{pct(gap)} worse on new data, where a standard model trained on the same rows loses "
                f"{pct(max(allowed, 0))}."
            )
        return (
            "The model scored far better on the data it learned from than on data it had not seen: "
            f"{pct(f.value)} worse on new data."
        )

    def cost(self, f: Firing) -> tuple[str, float | None]:
        label = METRICS.get(str(f.row["column"]), METRICS["accuracy"]).label.lower()
        return (
            "Its real quality is closer to the lower number, so plans built on the higher one will "
            f"fall short. This is its {label}."
        ), None


@rule
class EstimatedPerformanceRule(AlertRule):
    """Before outcomes arrive, the label-free estimate says quality dropped (yes/no models)."""

    key = "estimated_performance"
    check = Check.ESTIMATED_PERFORMANCE
    metric = "roc_auc"
    measure = "loss"
    tasks = ("binary",)
    yields_to_outcomes = True
    band = ("performance_drop", "alert")
    title = "quality may be slipping"
    action = "Watch the first outcomes as they come in. If they confirm the drop, retrain the model."

    def what(self, f: Firing) -> str:
        return (
            f"Outcomes for {f.when} are not in yet, but the model's own confidence says its skill may have "
            f"dropped by {pct(f.measure or 0)}.{f.drivers()}"
        )
