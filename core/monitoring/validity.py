"""Values a window cannot use: numbers that are infinite or absurdly large, answers that are not numbers.

Validation keeps such values out of the store, but a store written by another tool, an older version
or a bug can still hold them, and one of them must never stop monitoring. So every window (and a
version's reference) passes through :func:`usable` first: unusable inputs and outcomes become
missing, rows whose answer is unusable leave the window, and what was set aside is one data-quality
finding with a sentence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.results import Check
from core.results import CheckResult
from core.results import Status
from core.schema import ModelSpec
from core.wording import plural

MAX_ABS = 1e15
"""Beyond this size a number is not a measurement (validation refuses it too)."""


def _bad_numbers(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.isinf(x) | (np.abs(np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)) > MAX_ABS)


def usable(spec: ModelSpec, frame: pd.DataFrame, numeric: list[str]) -> tuple[pd.DataFrame, CheckResult | None]:
    """The rows and values monitoring can use, and a finding naming what it set aside (None: nothing).

    `numeric` lists the stored number columns (features and money columns) to check.
    """
    bad_answer = np.zeros(len(frame), dtype=bool)
    for col in ("_prediction", "_probability"):
        if col in frame:
            bad_answer |= _bad_numbers(frame[col])
    if "_probability" in frame and spec.task == "binary":
        p = pd.to_numeric(frame["_probability"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad_answer |= np.isnan(p) | (p < 0) | (p > 1)
    cleared: dict[str, int] = {}
    out = frame
    for col in [*numeric, "_label"]:
        if col not in frame:
            continue
        bad = _bad_numbers(frame[col])
        if bad.any():
            if out is frame:
                out = frame.copy()
            out[col] = pd.to_numeric(out[col], errors="coerce").mask(bad)
            cleared[col] = int(bad.sum())
    dropped = int(bad_answer.sum())
    if dropped:
        out = out[~bad_answer].reset_index(drop=True)
    if not cleared and not dropped:
        return frame, None
    parts = []
    if dropped:
        parts.append(f"{plural(dropped, 'row')} had no usable answer from the model and were left out")
    for col, n in cleared.items():
        name = "the outcome" if col == "_label" else f"`{col}`"
        parts.append(f"{plural(n, 'value')} of {name} were infinite or impossibly large and were treated as missing")
    message = "; ".join(parts) + "."
    return out, CheckResult(
        check=Check.QUALITY,
        metric="unusable_values",
        value=float(dropped + sum(cleared.values())),
        threshold=1.0,
        status=Status.WARN,
        n_rows=len(frame),
        message=message[0].upper() + message[1:],
        details={
            "rows_left_out": dropped,
            "columns": {("outcome" if c == "_label" else c): n for c, n in cleared.items()},
        },
    )
