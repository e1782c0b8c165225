"""The yardstick: a version's primary metric next to HistGradientBoosting's on the same split.

One place says whether a version is within target (`core.metrics.within_yardstick`), and the one
sentence the upload page and the model page show when it is not. No torch here: pages read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.metrics import METRICS
from core.metrics import PRIMARY
from core.metrics import within_yardstick
from core.schema import ModelSpec


@dataclass(frozen=True)
class YardstickRow:
    """A version's primary metric on one split next to HistGradientBoosting's on the same split."""

    split: str
    metric: str
    ours: float
    theirs: float

    @property
    def within_target(self) -> bool:
        return within_yardstick(self.metric, self.ours, self.theirs)

    def as_dict(self) -> dict:
        """The row as the upload page shows it."""
        return {
            "split": self.split,
            "metric": self.metric,
            "ModelPulse (PyTorch)": self.ours,
            "HistGradientBoosting": self.theirs,
            "within target": self.within_target,
        }


def yardstick_rows(spec: ModelSpec, report: dict, *, splits: tuple[str, ...] = ("validation", "test")) -> list:
    """The primary metric of a training report against the yardstick, one row per split that has both."""
    metric = PRIMARY[spec.task]
    out = []
    for split in splits:
        ours = report["metrics"].get(split, {}).get(metric)
        theirs = report["baseline"].get(split, {}).get(metric)
        if ours is not None and theirs is not None:
            out.append(YardstickRow(split=split, metric=metric, ours=ours, theirs=theirs))
    return out


def yardstick_warning(row: dict) -> str:
    """One sentence for a version that falls short of the yardstick (a row of :func:`yardstick_rows`)."""
    metric = METRICS[row["metric"]]
    ours, theirs = row["ModelPulse (PyTorch)"], row["HistGradientBoosting"]
    gap = f"{theirs - ours:.3f} lower" if metric.higher_is_better else f"{ours / theirs - 1:.0%} more error"
    return (
        f"This model falls short of a standard gradient-boosting model trained on the same rows: its "
        f"{metric.label.lower()} on the {row['split']} rows is {ours:.3f} against {theirs:.3f} ({gap}). Its "
        "alerts still hold, but a better model is possible: try more data or fewer, more telling inputs."
    )


def standing_warning(spec: ModelSpec, metadata: dict) -> str | None:
    """The yardstick warning a version carries on its model page, or None when it is within target."""
    if "metrics" not in metadata or "baseline" not in metadata:
        return None
    short = [r.as_dict() for r in yardstick_rows(spec, metadata) if not r.within_target]
    return yardstick_warning(short[-1]) if short else None
