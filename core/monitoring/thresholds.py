"""Thresholds as objects: one place that says when a number is fine, worth a look, or an alarm."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from core.results import Status


@dataclass(frozen=True)
class Band:
    """Warn at or past `warn`, alarm at or past `alert` (both in the direction of `worse`)."""

    warn: float
    alert: float
    worse: str = "higher"  # "higher": bigger values are worse; "lower": smaller values are worse

    def status(self, value: float | None) -> Status:
        """OK, WARN or ALERT for `value` (OK when there is no value)."""
        if value is None or value != value:
            return Status.OK
        if self.worse == "higher":
            return Status.ALERT if value >= self.alert else Status.WARN if value >= self.warn else Status.OK
        return Status.ALERT if value <= self.alert else Status.WARN if value <= self.warn else Status.OK


@dataclass(frozen=True)
class Thresholds:
    """All monitoring thresholds of one model. Defaults suit most tabular models."""

    drift: float = 0.1
    """Per column: normed Wasserstein (numbers) or Jensen-Shannon (categories) at or above this is drift."""
    drift_chance: float = 0.001
    """An input (or the answers) over the drift line counts as drifted only when chance gives its shift a p under
    this."""
    drift_chance_rows: int = 10_000
    """Numbers (inputs and answers) get the chance test in windows of up to this many rows; above, a sample of
    one distribution stays a tenth of the line or more below it (normed Wasserstein's floor is about 1/sqrt(n))."""
    drift_share: Band = field(default_factory=lambda: Band(warn=0.3, alert=0.5))
    prediction_drift: Band = field(default_factory=lambda: Band(warn=0.1, alert=0.2))
    target_drift: Band = field(default_factory=lambda: Band(warn=0.1, alert=0.2))
    performance_drop: Band = field(default_factory=lambda: Band(warn=0.05, alert=0.10))
    """Relative loss against the validation value (5% worse warns, 10% worse alarms)."""
    performance_chance: float = 0.01
    """A window's quality past the line counts only when a bootstrap of its labelled rows gives a model still as
    good as at validation a chance under this of looking that bad (`core.monitoring.chance`)."""
    performance_chance_rows: int = 10_000
    """Quality gets that test in windows of up to this many labelled rows; above, chance moves a metric by a
    fraction of the 5% line."""
    overfit_gap: Band = field(default_factory=lambda: Band(warn=0.10, alert=0.20))
    """Relative gap between train and validation, or validation and production."""
    missing_increase: Band = field(default_factory=lambda: Band(warn=0.05, alert=0.20))
    unseen_share: Band = field(default_factory=lambda: Band(warn=0.05, alert=0.20))
    out_of_range_share: Band = field(default_factory=lambda: Band(warn=0.05, alert=0.20))
    segment_shift: Band = field(default_factory=lambda: Band(warn=0.10, alert=0.20))
    """One group of rows against the same group in validation: the rise in its outcome rate, in points
    (yes/no models), or the relative rise in its typical error (numbers). Must also be clearly beyond chance."""
    segment_min_labels: int = 30
    """Outcomes a group needs, in the window and in validation, before its change is judged."""
    min_labels: int = 50
    estimate_lookback_windows: int = 16
    estimate_calibration_rows: int = 200_000
    """Most outcomes a recalibration counts: each window keeps a sample of its share (this over the lookback), and
    a larger period's samples weigh as much as this many rows in all."""
    estimate_half_life_windows: float = 2.0
    estimate_trust_band: float = 0.05
    estimate_band_coverage: float = 0.85
    """Share of windows whose realised value the estimate's error band should cover (conformal, on past windows)."""

    @property
    def sample_rows_per_window(self) -> int:
        """Outcomes each window's calibration sample keeps: its share of `estimate_calibration_rows`."""
        return -(-self.estimate_calibration_rows // self.estimate_lookback_windows)
