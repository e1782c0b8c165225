"""What stays fixed about one version across all of its windows, prepared once from its reference rows."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from core.metrics import PRIMARY
from core.metrics import task_metrics
from core.monitoring.binned import BinnedReference
from core.monitoring.drift import DriftReference
from core.monitoring.drift import prepare_binned_reference
from core.monitoring.drift import prepare_drift_reference
from core.monitoring.estimate import Estimator
from core.monitoring.performance import gap_check
from core.monitoring.performance import labelled_arrays
from core.monitoring.quality import ColumnProfile
from core.monitoring.quality import profile_reference
from core.monitoring.segments import SegmentPlan
from core.monitoring.segments import plan_segments
from core.monitoring.segments import segment_base
from core.monitoring.segments import segment_stats
from core.monitoring.thresholds import Thresholds
from core.monitoring.validity import usable
from core.results import CheckResult
from core.schema import ModelSpec
from core.store import VersionInfo


@dataclass
class VersionContext:
    """Everything about one version that stays fixed across its windows."""

    spec: ModelSpec
    info: VersionInfo
    features: list[str]
    reference: pd.DataFrame
    reference_metrics: dict[str, float]
    train_metrics: dict[str, float]
    profile: dict[str, ColumnProfile]
    drift: DriftReference
    estimator: Estimator | None
    numeric: list[str]
    """Stored number columns (features and money columns) whose values are checked for usability."""
    threshold: float
    thresholds: Thresholds
    segments: list[SegmentPlan]
    """How rows split into groups (the same for every window of the version)."""
    segment_rows: pd.DataFrame
    """The rows each group is compared with (`core.monitoring.segments.segment_base`)."""
    segment_reference: tuple[tuple[str, str, dict], ...]
    """Each group's statistics in those rows."""

    @classmethod
    def build(
        cls, spec: ModelSpec, info: VersionInfo, reference: pd.DataFrame, thresholds: Thresholds
    ) -> VersionContext:
        """Prepare a version from its reference rows (`core.store.Store.read_reference`)."""
        money = [c for c in (spec.business.value_column, spec.business.quantity_column) if c]
        numeric = list(dict.fromkeys([*spec.numerical, *money]))
        reference, _ = usable(spec, reference, numeric)
        features = list(info.metadata.get("features") or spec.features)
        metrics = {}
        for split in ("train", "validation"):
            part = reference[reference["_split"] == split]
            part = part[part["_label"].notna()]
            if len(part):
                y, pred, proba = labelled_arrays(spec, part)
                metrics[split] = task_metrics(spec.task, y, pred, proba)
            else:
                metrics[split] = {}
        threshold = float(info.metadata.get("threshold", 0.5))
        estimator = None
        if spec.task == "binary":
            estimator = Estimator.for_version(
                window_size=spec.window,
                reference=reference,
                threshold=threshold,
                thresholds=thresholds,
                reference_metrics=metrics["validation"],
            )
        plans = plan_segments(spec, reference, features)
        base = segment_base(reference)
        return cls(
            spec=spec,
            info=info,
            features=features,
            reference=reference,
            reference_metrics=metrics["validation"],
            train_metrics=metrics["train"],
            profile=profile_reference(spec, reference, features),
            drift=prepare_drift_reference(spec, features, reference, thresholds),
            estimator=estimator,
            numeric=numeric,
            threshold=threshold,
            thresholds=thresholds,
            segments=plans,
            segment_rows=base,
            segment_reference=segment_stats(spec, plans, base, threshold=threshold),
        )

    @functools.cached_property
    def binned(self) -> BinnedReference:
        """The reference side of count-based drift, prepared the first time a window is big enough to need it."""
        return prepare_binned_reference(self.spec, self.features, self.reference, self.thresholds)

    def version_checks(self) -> list[CheckResult]:
        """Checks of the version itself: the train-vs-validation gap recorded at training time."""
        metric = PRIMARY[self.spec.task]
        train, val = self.train_metrics.get(metric), self.reference_metrics.get(metric)
        if train is None or val is None:
            return []
        n = int((self.reference["_split"] == "validation").sum())
        baseline = self.info.metadata.get("baseline", {})
        hgb = (baseline.get("train", {}).get(metric), baseline.get("validation", {}).get(metric))
        return [
            gap_check(
                metric=metric,
                better=train,
                worse=val,
                thresholds=self.thresholds,
                kind="train_validation",
                n_rows=n,
                yardstick=hgb if None not in hgb else None,
            )
        ]
