"""One window's per-column distributions counted inside DuckDB, so drift on a big window never needs its
rows in pandas.

A number column is counted per cell of a fixed partition of the line: equal-width cells over the
reference's range, a whole number of them in each bin of the drill-down chart, plus one cell below and
one above the range. Each cell returns its count and its sum (less a centre, so sums stay small); that is
enough for a Wasserstein distance that is exact unless the two distributions cross inside one cell
(`core.monitoring.binned`). Other columns are counted per value. The window's rows are those
`RowsFamily.read_window` returns, with the same numbers set aside as `core.monitoring.validity.usable`
sets aside (rows whose answer is unusable leave; unusable numbers count as missing), and the join runs
once: one statement over a materialised window.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

import pandas as pd

from core.errors import StoreError
from core.schema import ModelSpec
from core.store.connection import Connection
from core.store.connection import quote_ident
from core.store.layout import WINDOW_LABELS
from core.store.layout import feature_columns
from core.store.layout import rows_table_name

MAX_ABS = 1e15
"""Beyond this size a number is not a measurement (the same line as `core.monitoring.validity.MAX_ABS`)."""

ANSWERS = {"_prediction": "p.prediction", "_probability": "p.probability", "_label": "l.label"}


@dataclass(frozen=True)
class NumberBins:
    """How one number column is grouped: `cell` = floor((x - lo) / bin_width * per_bin), clamped to -1 below
    `lo` and to `bins * per_bin - 1` up to `hi`; values above `hi` form cell `bins * per_bin`. So each of the
    `bins` drill-down bins holds `per_bin` cells, and -1 and the top cell hold exactly the values outside
    [lo, hi]."""

    column: str
    center: float
    lo: float
    hi: float
    bin_width: float
    per_bin: int
    bins: int

    @property
    def above(self) -> int:
        """The cell of values above `hi`."""
        return self.bins * self.per_bin


@dataclass(frozen=True)
class WindowHistograms:
    """What `window_histograms` counted in one window."""

    rows: int
    """Rows in the window whose answer is usable (what monitoring calls the window's size)."""
    labelled: int
    """Of them, rows with a usable outcome (0 when labels were not asked for)."""
    numbers: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Per number column, one row per non-empty cell: cell, n, s (the sum of x - center)."""
    values: dict[str, pd.Series] = field(default_factory=dict)
    """Per counted column, rows per value (None = missing), indexed by the value (text or number)."""


def _usable(expr: str) -> str:
    # a number monitoring can use: not missing, NaN (DuckDB orders NaN above every number), infinite or absurd
    return f"{expr} BETWEEN {-MAX_ABS:.0e} AND {MAX_ABS:.0e}"


def _answer_ok(expr: str) -> str:
    # an answer is unusable only when it is infinite or absurd; missing or NaN answers stay (as in `usable`)
    return f"({expr} IS NULL OR isnan({expr}) OR {_usable(expr)})"


class HistogramsFamily:
    """Reads only: counts over a model's rows, predictions and labels (it owns no table)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def window_histograms(
        self,
        *,
        spec: ModelSpec,
        version: int,
        start: datetime,
        end: datetime,
        numbers: list[NumberBins],
        values: list[str],
        labels: bool = False,
    ) -> WindowHistograms:
        """Counts per group for `numbers` and per value for `values` over the production rows with
        `start <= ts < end` and `version`'s usable answers, in one statement.

        Columns are the model's stored columns, `_prediction`, `_probability` or (with `labels`) `_label`;
        `_label` is counted over the rows whose outcome arrived and is usable only.
        """
        stored = feature_columns(spec)
        wanted = list(dict.fromkeys([b.column for b in numbers] + list(values) + (["_label"] if labels else [])))
        for c in wanted:
            if c not in stored and c not in ANSWERS or (c == "_label" and not labels):
                raise StoreError(f"`{c}` is not a column of model `{spec.name}` that can be counted.")
        selects = [f"{ANSWERS.get(c) or f'r.{quote_ident(c)}'} AS {quote_ident(c)}" for c in wanted]
        # one conjunction, so DuckDB can push it into the scan of predictions
        if spec.task == "binary":
            answers = f"p.probability BETWEEN 0 AND 1 AND {_answer_ok('p.prediction')}"
        else:
            answers = f"{_answer_ok('p.prediction')} AND {_answer_ok('p.probability')}"
        join = WINDOW_LABELS if labels else ""
        with_label = _usable("_label") if labels else "false"
        outcomes = [spec.name, start, end] if labels else []
        params: list = [spec.name, int(version), *outcomes, start, end, start, end]
        window = f"""SELECT {", ".join(selects) or "1 AS one"}
            FROM {quote_ident(rows_table_name(spec.name))} r
            JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
            {join}
            WHERE r._split = 'production' AND r._ts >= ? AND r._ts < ? AND p.ts >= ? AND p.ts < ? AND {answers}"""  # noqa: S608
        # one result shape for every part: (column, kind, cell, n, sum, text value, number value); the first
        # part counts the window's rows (n) and those with a usable outcome (in the sum's place)
        # the window's rows and those with a usable outcome; the counts per value of a text column and of the
        # outcome add up to them, so this extra pass over the window runs only when there are none
        labelled = f"(count(*) FILTER (WHERE {with_label}))::DOUBLE"
        head = f"SELECT '' AS col, 0 AS kind, NULL::DOUBLE, count(*), {labelled}, NULL::VARCHAR, NULL::DOUBLE FROM w"  # noqa: S608
        texts = [c for c in values if c not in ANSWERS and stored[c] != "DOUBLE"]
        counted_label = not labels or "_label" in values or "_label" in [b.column for b in numbers]
        parts = [] if texts and counted_label else [head]
        for b in numbers:
            q = quote_ident(b.column)
            only = _usable(q) + (f" AND {with_label}" if b.column == "_label" else "")
            parts.append(
                f"""SELECT ?, 2, least(greatest(floor((x - ?) / ? * ?), -1), ?) + (x > ?)::DOUBLE AS cell,
                           count(*), sum(x - ?), NULL, NULL
                    FROM (SELECT {q} AS x FROM w WHERE {only})
                    GROUP BY cell"""  # noqa: S608 - a quoted identifier, parameters
            )
            params += [b.column, b.lo, b.bin_width, b.per_bin, b.above - 1, b.hi, b.center]
        for c in values:
            q = quote_ident(c)
            where = f"WHERE {with_label}" if c == "_label" else ""
            if c in texts:
                part = f"SELECT ?, 3, NULL, count(*), NULL, {q}, NULL FROM w GROUP BY {q}"  # noqa: S608
            else:  # unusable numbers count as missing
                key = f"CASE WHEN {_usable(q)} THEN {q} END"
                part = f"SELECT ?, 3, NULL, count(*), NULL, NULL, {key} AS v FROM w {where} GROUP BY v"  # noqa: S608
            parts.append(part)
            params.append(c)
        sql = f"WITH w AS MATERIALIZED ({window}) " + " UNION ALL ".join(parts)
        frame = self.conn.query_df(sql, params)
        return _unpack(frame, values=values, texts=texts, labels=labels)


def _unpack(frame: pd.DataFrame, *, values: list[str], texts: list[str], labels: bool) -> WindowHistograms:
    frame.columns = ["col", "kind", "cell", "n", "s", "value", "number"]
    numbers = {
        str(c): part[["cell", "n", "s"]].astype({"cell": "int64", "n": "int64"}).reset_index(drop=True)
        for c, part in frame[frame["kind"] == 2].groupby("col", sort=False)
    }
    counted = frame[frame["kind"] == 3]
    out = {}
    for c in values:
        part = counted[counted["col"] == c]
        key = part["value"] if part["value"].notna().any() else part["number"]
        keys = [None if pd.isna(k) else k for k in key]
        out[c] = pd.Series(part["n"].to_numpy(dtype="int64"), index=pd.Index(keys, dtype=object), dtype="int64")
    head = frame[frame["kind"] == 0]
    if len(head):
        rows, labelled = int(head["n"].iloc[0]), int(head["s"].iloc[0])
    else:
        rows = int(out[texts[0]].sum())  # every row has a value or a missing one in a text column
        outcome = out["_label"] if "_label" in out else numbers.get("_label", frame.iloc[:0])["n"]
        labelled = int(outcome.sum()) if labels else 0
    return WindowHistograms(rows=rows, labelled=labelled, numbers=numbers, values=out)
