"""Guessing what each column of a new file is, for the mapping step to start from.

The guesses are conservative where a wrong default hurts: the id is never the time column, nor a
column with repeats or gaps (with no unique column the rows are numbered instead); the target is
never an input; and columns that are the outcome under another name (equal to it, adding up to it,
or predicting it almost perfectly) are flagged with a sentence and left out of the inputs, and so are
columns that look like personal data (`privacy.py`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field
from datetime import date

import numpy as np
import pandas as pd

from core.intake.checks import printable
from core.intake.dates import OrderNote
from core.intake.dates import guess_times
from core.intake.dates import number_time_unit
from core.intake.dates import order_note
from core.intake.privacy import PersonalColumn
from core.intake.privacy import personal_columns
from core.metrics import roc_auc_binary
from core.wording import OUTCOME_VERBS
from core.wording import who_or_that

ID_HINTS = ("id", "key", "uuid", "code", "number", "no", "ref")
TIME_HINTS = ("date", "time", "timestamp", "_at", "day", "created", "month", "period")
TARGET_HINTS = ("target", "label", "outcome", "churn", "y", "class", "status")
OUTCOME_WORDS = ("churn", "churned", "converted", "fraud", "defaulted", "cancelled", "canceled", "purchased", "clicked")
"""Names that say what happened (`churned`, `is_fraud`, `has_converted`): the outcome a founder's model predicts."""
SAMPLE = 20_000
"""Leak checks look at this many rows at most: a leak that strong shows in any sample."""


@dataclass(frozen=True)
class Suggestion:
    """What a file's columns probably are, for the mapping step to start from."""

    timestamp: str | None
    entity: str | None
    """A unique, complete column to identify rows by; None: number the rows (`id_from`)."""
    target: str | None
    numerical: list[str]
    categorical: list[str]
    task: str
    id_from: str = "column"
    window: str = "week"
    leaks: dict[str, str] = field(default_factory=dict)
    """Column -> the sentence saying why it looks like the outcome itself; left out of the inputs."""
    personal: list[PersonalColumn] = field(default_factory=list)
    """Columns that look like personal data, each with why and whether to drop or hash it; left out of the
    inputs (the person decides: keep, drop, or keep a keyed hash)."""
    dates: OrderNote | None = None
    """How the time column's numbers-only dates (`01/02/2018`) will be read, day or month first."""
    idle: dict[str, str] = field(default_factory=dict)
    """Column -> the sentence saying why it tells the model nothing (empty, or one value in every row); left out
    of the inputs."""


def _is_numeric(series: pd.Series) -> bool:
    values = series.dropna()
    if values.empty:
        return False
    parsed = pd.to_numeric(values, errors="coerce")
    return bool(parsed.notna().mean() > 0.98)


def _is_datetime(series: pd.Series, *, named: bool = False) -> bool:
    """Times in a form people write them; with `named` (the column's name says time), times written as numbers too
    (Unix times, a spreadsheet's date numbers) when they fall in this century's first decades: ten digits unnamed
    could as well be a US phone number, five a zip code."""
    values = series.dropna().astype(str).head(200)
    if values.empty:
        return False
    if _is_numeric(values):
        if not named or number_time_unit(values) is None:
            return False
        times = guess_times(values)
        return bool(((times >= "2000-01-01") & (times < "2040-01-01")).all())
    return bool(guess_times(values).notna().mean() > 0.95)


def _can_identify(series: pd.Series) -> bool:
    """Unique, never empty, and short codes rather than sentences or measurements."""
    if series.isna().any() or series.nunique() != len(series):
        return False
    text = series.astype("string").str.strip()
    if (text == "").any() or text.str.len().max() > 64 or text.str.contains(" ").mean() > 0.1:
        return False
    numbers = pd.to_numeric(text, errors="coerce")
    # measurements (prices, ratios) are unique by accident; ids are whole numbers or codes
    return not (numbers.notna().all() and (numbers % 1 != 0).any())


def _bare_name(name: str) -> str:
    """`is_fraud` -> `fraud`, `has_converted` -> `converted`."""
    return name.lower().removeprefix("is_").removeprefix("has_").removeprefix("was_")


def _names_outcome(name: str) -> bool:
    return name in TARGET_HINTS or _bare_name(name) in OUTCOME_WORDS


YES_VALUES = ("yes", "1", "true", "y", "ja", "oui", "si", "sí", "sim", "wahr", "vrai", "verdadero", "t")
"""Values that say only "yes": the words for what the model looks for come from the target's name instead."""
ID_SUFFIXES = ("_id", "_key", "_no", "_number", "_code", "_ref", "_uuid", "id")


def entity_noun(id_column: str | None) -> str:
    """What one row is, from the id column's name: `customer_id` -> `customer`; `case` when the name says nothing."""
    bare = (id_column or "").lower()
    for suffix in ID_SUFFIXES:
        if bare.endswith(suffix) and len(bare) > len(suffix):
            bare = bare.removesuffix(suffix)
            break
    else:
        return "case"
    words = bare.strip("_").replace("_", " ")
    return words if words.replace(" ", "").isalpha() else "case"


def positive_words(*, target: str, value: str, entity: str) -> str:
    """What the model looks for, in plural, for KPI and alert titles: `churned` = TRUE -> `churned customers`,
    `is_fraud` = 1 -> `cases marked fraud`, `status` = late -> `late flights`."""
    name = _bare_name(target).replace("_", " ").strip()
    if value.strip().lower() in YES_VALUES and name.replace(" ", "").isalpha():
        if name in OUTCOME_VERBS:
            return f"{entity}s {who_or_that(entity)} {name}"
        return f"{name} {entity}s" if name.endswith("ed") else f"{entity}s marked {name}"
    if value.strip().replace(" ", "").isalpha():
        return f"{value.strip().lower()} {entity}s"
    return f"'{value}' outcomes"


def task_for(outcomes: pd.Series) -> str:
    """What a model predicting `outcomes` most likely is: yes/no for two values, one of several classes for up to 20
    (or any text), else a number."""
    n = outcomes.nunique()
    return "binary" if n == 2 else ("multiclass" if 2 < n <= 20 or not _is_numeric(outcomes) else "regression")


def suggest_mapping(frame: pd.DataFrame) -> Suggestion:
    """Detect numbers vs categories, and guess the time, id and target columns by name and content."""
    cols = list(frame.columns)
    named = [c for c in cols if any(h in c for h in TIME_HINTS)]
    timestamp = next((c for c in named if _is_datetime(frame[c], named=True)), None)
    timestamp = timestamp or next((c for c in cols if _is_datetime(frame[c])), None)
    candidates = [c for c in cols if c != timestamp and _can_identify(frame[c])]
    hinted = [c for c in candidates if c.endswith("_id") or c in ID_HINTS or c.split("_")[-1] in ID_HINTS]
    entity = (hinted or [None])[0]
    target = next((c for c in cols if _names_outcome(c) and c not in (timestamp, entity)), None)
    task = task_for(frame[target]) if target is not None else "regression"
    rest = [c for c in cols if c not in (timestamp, entity, target)]
    leaks = leaky_columns(frame, target=target, task=task, columns=rest) if target else {}
    personal = personal_columns(frame, exclude=[c for c in (timestamp, target) if c])
    flagged = {p.column for p in personal}
    idle = idle_columns(frame, columns=[c for c in rest if c not in leaks and c not in flagged])
    inputs = [c for c in rest if c not in leaks and c not in candidates and c not in flagged and c not in idle]
    numerical = [c for c in inputs if _is_numeric(frame[c]) and frame[c].nunique() > 2]
    categorical = [c for c in inputs if c not in numerical]
    window = "week"
    if timestamp is not None:
        ts = guess_times(frame[timestamp]).dropna()
        window = propose_window(ts)
    dates = order_note(frame[timestamp], column=timestamp) if timestamp is not None else None
    return Suggestion(
        timestamp=timestamp,
        entity=entity,
        target=target,
        numerical=numerical,
        categorical=categorical,
        task=task,
        id_from="column" if entity else "row_order",
        window=window,
        leaks=leaks,
        personal=personal,
        dates=dates,
        idle=idle,
    )


def idle_columns(frame: pd.DataFrame, *, columns: list[str]) -> dict[str, str]:
    """Columns that tell a model nothing, each with the sentence that says why: empty in every row, or one
    value in every row (an export's `Currency` of `usd` throughout)."""
    out = {}
    for col in columns:
        values = frame[col].dropna()
        values = values[values.astype("string").str.strip() != ""]
        if values.empty:
            out[col] = f"`{col}` is empty in every row."
        elif values.nunique() == 1 and len(values) == len(frame):
            out[col] = f"`{col}` holds '{printable(values.iloc[0])}' in every row."
    return out


def leaky_columns(frame: pd.DataFrame, *, target: str, task: str, columns: list[str]) -> dict[str, str]:
    """Columns that are the outcome under another name, each with the sentence that says why.

    Equal to the target, adding up to it with another column, or predicting it almost perfectly on
    its own: such a column is usually known only once the outcome is, so a model trained on it looks
    perfect and fails in production.
    """
    sample = frame.sample(SAMPLE, random_state=0) if len(frame) > SAMPLE else frame
    y_text = sample[target].astype("string").str.strip()
    known = y_text.notna() & (y_text != "")
    sample, y_text = sample[known], y_text[known]
    if len(sample) < 20:
        return {}
    y_num = pd.to_numeric(y_text, errors="coerce").astype("float64")
    out: dict[str, str] = {}
    numbers = {}
    for col in columns:
        text = sample[col].astype("string").str.strip()
        same = float((text == y_text).fillna(False).mean())  # an empty column compares as NA
        if same >= 0.99:
            out[col] = f"`{col}` is the same as the target in {same:.0%} of rows: it is the outcome under another name."
            continue
        values = pd.to_numeric(text, errors="coerce").astype("float64")  # Int64 from text cannot hold a median
        if values.notna().mean() > 0.98 and values.nunique() > 2:
            numbers[col] = values
        sentence = _predicts_alone(col, text, values, y_text, y_num, task)
        if sentence:
            out[col] = sentence
    if task == "regression" and y_num.notna().mean() > 0.98:
        for a, b in itertools.combinations([c for c in numbers if c not in out], 2):
            scale = 1e-6 * (1 + y_num.abs())
            for op, combined in (("add up to", numbers[a] + numbers[b]), ("differ by", numbers[a] - numbers[b])):
                share = float(((combined - y_num).abs() <= scale).mean())
                if share >= 0.99:
                    out[a] = f"`{a}` and `{b}` {op} the target in {share:.0%} of rows: together they are the outcome."
                    out[b] = out[a]
                    break
    return out


def _predicts_alone(
    col: str, text: pd.Series, values: pd.Series, y_text: pd.Series, y_num: pd.Series, task: str
) -> str | None:
    """A sentence when one column alone predicts the target almost perfectly."""
    n = len(text)
    if task == "regression":
        both = np.isfinite(values) & np.isfinite(y_num)  # `inf` reads as a number but has no spread
        if both.mean() > 0.98 and values[both].std() > 0 and y_num[both].std() > 0:
            r = float(np.corrcoef(values[both], y_num[both])[0, 1])
            if abs(r) >= 0.98:
                return (
                    f"`{col}` follows the target almost exactly (correlation {r:.2f}): it is probably computed "
                    "from the outcome, or known only after it."
                )
        return None
    if values.notna().mean() > 0.98 and values.nunique() > 20 and task == "binary":
        classes = sorted(y_text.unique())
        if len(classes) == 2:
            auc = roc_auc_binary((y_text == classes[1]).to_numpy(), values.fillna(values.median()).to_numpy())
            strength = max(auc, 1 - auc)
            if strength >= 0.99:
                return (
                    f"`{col}` alone tells the outcomes apart almost perfectly (ranking quality {strength:.2f}): "
                    "it is probably known only once the outcome is."
                )
        return None
    groups = text.fillna("(empty)")
    if groups.nunique() > max(2, n // 10):
        return None
    majority = pd.crosstab(groups, y_text).max(axis=1).sum() / n
    base = y_text.value_counts(normalize=True).iloc[0]
    if majority >= 0.99 and base < 0.95:
        return (
            f"`{col}` alone gives the outcome for {majority:.0%} of rows: it is probably recorded with or after "
            "the outcome."
        )
    return None


def propose_window(ts: pd.Series) -> str:
    """A check window from the data's own granularity and span: at least about six windows, and enough
    rows in a typical one; month-only dates always get months."""
    if ts.empty:
        return "week"
    if (ts.dt.day == 1).all() and (ts.dt.normalize() == ts).all():
        return "month"
    span_days = (ts.max() - ts.min()).days + 1
    for window, days in (("day", 1), ("week", 7), ("month", 30)):
        windows = span_days / days
        per_window = len(ts) / max(windows, 1)
        if windows >= 6 and per_window >= 100:
            return window
    # too few rows for a full window anywhere: the coarsest window that still gives a few of them
    return "month" if span_days >= 90 else "week" if span_days >= 21 else "day"


def default_reference(ts: pd.Series, *, share: float = 0.3) -> tuple[date, date]:
    """The reference period for an imported model: the earliest share of rows, as whole days, never all of them."""
    ts = ts.sort_values()
    days = ts.dt.normalize()
    end = days.iloc[min(len(days) - 1, max(0, int(len(days) * share) - 1))]
    if end >= days.iloc[-1]:  # every row falls on one day or the share reaches the last day: stop a day earlier
        end = days.iloc[-1] - pd.Timedelta(days=1)
    return days.iloc[0].date(), max(end, days.iloc[0]).date()
