"""Turn a frame of raw features into the arrays the network takes.

Statistics come from training rows only and travel with the model as JSON, so scoring a year later
applies exactly what training saw. Numbers are median-filled, clipped to the training range (a
network extrapolates badly: a summer temperature above every winter reading in training would
otherwise push it off a cliff), then standardised. Categories map to an embedding index, with 0
for a value never seen in training or missing.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import TrainingError
from core.schema import ModelSpec

MAX_CATEGORIES = 256
CYCLES = {"hour": 24.0, "weekday": 7.0, "month": 12.0}
"""Calendar quantities and their periods."""
CYCLIC_NAMES = {
    "hour": "hour",
    "hour_of_day": "hour",
    "weekday": "weekday",
    "dow": "weekday",
    "day_of_week": "weekday",
    "wday": "weekday",
    "month": "month",
    "month_of_year": "month",
}
"""Number columns whose name says they go round a cycle."""


def calendar_values(ts: pd.Series) -> dict[str, np.ndarray]:
    """Weekday (0-6), month (1-12) and hour (0-24, with minutes) of each time, as floats."""
    ts = pd.to_datetime(ts)
    return {
        "hour": (ts.dt.hour + ts.dt.minute / 60).to_numpy(dtype="float64"),
        "weekday": ts.dt.weekday.to_numpy(dtype="float64"),
        "month": ts.dt.month.to_numpy(dtype="float64"),
    }


def calendar_parts(ts: pd.Series) -> list[str]:
    """The calendar quantities that vary among these times (no hour for dates without a time of day)."""
    values = calendar_values(ts)
    return [name for name, v in values.items() if np.nanstd(v) > 0]


def _circle(values: np.ndarray, period: float) -> list[np.ndarray]:
    angle = 2 * np.pi * np.nan_to_num(values) / period
    return [np.sin(angle), np.cos(angle)]


@dataclass(frozen=True)
class NumericStats:
    """Training statistics of one numerical column."""

    median: float
    mean: float
    std: float
    lo: float
    hi: float
    had_missing: bool


def _as_float(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def category_strings(series: pd.Series) -> pd.Series:
    """Categories as strings with missing kept missing (so 1 and "1" are the same category)."""
    out = series.astype("string")
    return out.str.strip()


class Preprocessor:
    """Fitted on training rows; maps frames to `(numeric float32, categorical int64)` arrays."""

    def __init__(
        self,
        *,
        numerical: list[str],
        categorical: list[str],
        min_count: int = 1,
        time_column: str | None = None,
        calendar: bool = False,
        cyclic: bool = False,
    ) -> None:
        self.min_count = min_count
        self.numerical = list(numerical)
        self.categorical = list(categorical)
        self.time_column = time_column
        self.use_calendar = calendar and time_column is not None
        self.use_cyclic = cyclic
        self.numeric_: dict[str, NumericStats] = {}
        self.vocab_: dict[str, list[str]] = {}
        self.calendar_: list[str] = []
        self.cyclic_: dict[str, str] = {}

    @property
    def n_numeric_inputs(self) -> int:
        """Width of the numeric array: one per column, one missing-flag per column that had gaps, and two
        (a point on a circle) per calendar quantity and per cyclic column."""
        flags = sum(s.had_missing for s in self.numeric_.values())
        return len(self.numerical) + flags + 2 * (len(self.calendar_) + len(self.cyclic_))

    def _times(self, frame: pd.DataFrame) -> pd.Series:
        # stored rows carry their time as `_ts`; a user's frame under the spec's time column
        return frame["_ts"] if "_ts" in frame else frame[self.time_column]

    @property
    def cardinalities(self) -> list[int]:
        """Embedding table sizes: known categories plus index 0 for unknown."""
        return [len(self.vocab_[c]) + 1 for c in self.categorical]

    def fit(self, frame: pd.DataFrame) -> Preprocessor:
        """Learn numeric statistics, category vocabularies and which calendar encodings help, from training rows."""
        if self.use_calendar:
            self.calendar_ = calendar_parts(self._times(frame))
        if self.use_cyclic:
            self.cyclic_ = {c: CYCLIC_NAMES[c.lower()] for c in self.numerical if c.lower() in CYCLIC_NAMES}
        for col in self.numerical:
            values = _as_float(frame[col])
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                finite = np.zeros(1)
            std = float(finite.std())
            self.numeric_[col] = NumericStats(
                median=float(np.median(finite)),
                mean=float(finite.mean()),
                std=std if std > 1e-12 else 1.0,
                lo=float(finite.min()),
                hi=float(finite.max()),
                had_missing=bool(np.isnan(values).any()),
            )
        for col in self.categorical:
            counts = category_strings(frame[col]).dropna().value_counts()
            # rare categories share the "unknown" slot: a handful of rows cannot train an embedding
            counts = counts[counts >= self.min_count]
            self.vocab_[col] = [str(v) for v in counts.index[:MAX_CATEGORIES]]
        return self

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return the numeric and categorical input arrays for `frame`."""
        n = len(frame)
        blocks: list[np.ndarray] = []
        flags: list[np.ndarray] = []
        for col in self.numerical:
            st = self.numeric_[col]
            values = _as_float(frame[col])
            missing = ~np.isfinite(values)
            values = np.where(missing, st.median, values)
            values = np.clip(values, st.lo, st.hi)
            blocks.append((values - st.mean) / st.std)
            if st.had_missing:
                flags.append(missing.astype("float64"))
        circles: list[np.ndarray] = []
        for col, cycle in self.cyclic_.items():
            circles += _circle(_as_float(frame[col]), CYCLES[cycle])
        if self.calendar_:
            times = calendar_values(self._times(frame))
            for name in self.calendar_:
                circles += _circle(times[name], CYCLES[name])
        columns = blocks + flags + circles
        x_num = np.column_stack(columns).astype("float32") if columns else np.zeros((n, 0), "float32")
        cats = []
        for col in self.categorical:
            # get_indexer gives -1 for unknown or missing values, which become index 0
            values = category_strings(frame[col]).to_numpy(dtype=object, na_value=None)
            codes = pd.Index(self.vocab_[col], dtype=object).get_indexer(values) + 1
            cats.append(codes.astype("int64"))
        x_cat = np.column_stack(cats).astype("int64") if cats else np.zeros((n, 0), "int64")
        return x_num, x_cat

    def to_dict(self) -> dict:
        """JSON-ready statistics."""
        return {
            "numerical": self.numerical,
            "categorical": self.categorical,
            "numeric": {k: asdict(v) for k, v in self.numeric_.items()},
            "vocab": self.vocab_,
            "time_column": self.time_column,
            "calendar": self.calendar_,
            "cyclic": self.cyclic_,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict` output."""
        pre = cls(
            numerical=list(data["numerical"]),
            categorical=list(data["categorical"]),
            time_column=data.get("time_column"),
        )
        pre.numeric_ = {k: NumericStats(**v) for k, v in data["numeric"].items()}
        pre.vocab_ = {k: [str(x) for x in v] for k, v in data["vocab"].items()}
        # versions saved before calendar encodings existed have none
        pre.calendar_ = [c for c in data.get("calendar", []) if c in CYCLES]
        pre.cyclic_ = {k: v for k, v in data.get("cyclic", {}).items() if v in CYCLES}
        missing = [c for c in pre.numerical if c not in pre.numeric_] + [
            c for c in pre.categorical if c not in pre.vocab_
        ]
        if missing:
            raise KeyError(f"statistics missing for {missing}")
        return pre


@dataclass(frozen=True)
class TargetScaler:
    """Standardises a regression target (optionally on a log scale) for training."""

    mean: float
    std: float
    log: bool

    @classmethod
    def fit(cls, y: np.ndarray, *, log: bool) -> TargetScaler:
        """Learn the scale from training targets."""
        z = np.log1p(np.clip(y, 0, None)) if log else y
        std = float(z.std())
        return cls(mean=float(z.mean()), std=std if std > 1e-12 else 1.0, log=log)

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Target to network space."""
        z = np.log1p(np.clip(y, 0, None)) if self.log else y
        return (z - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Network output back to the target's unit."""
        y = z * self.std + self.mean
        return np.expm1(y) if self.log else y


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


def target_codes(spec: ModelSpec, values: pd.Series) -> np.ndarray:
    """Like :func:`encode_target`, but a missing or unknown outcome becomes NaN instead of an error."""
    if spec.is_classification:
        values = values.astype("string").map(spec.class_index())
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
