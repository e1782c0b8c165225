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
from core.store.rows import feature_columns
from core.store.rows import rows_table_name

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


def _clean(expr: str) -> str:
    # infinite, NaN and absurdly large numbers count as missing, as `usable` treats them
    return f"CASE WHEN isfinite({expr}) AND abs({expr}) <= {MAX_ABS:.0e} THEN {expr} END"


def _bad(expr: str) -> str:
    # DuckDB orders NaN above every number, so NaN is excluded before the size test (NaN is "missing", not bad)
    return f"coalesce(NOT isnan({expr}) AND (isinf({expr}) OR abs({expr}) > {MAX_ABS:.0e}), false)"


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
        selects = []
        for c in wanted:
            expr = ANSWERS.get(c) or f"r.{quote_ident(c)}"
            is_number = c in ANSWERS or stored[c] == "DOUBLE"
            selects.append(f"{_clean(expr) if is_number else expr} AS {quote_ident(c)}")
        bad = [_bad("p.prediction"), _bad("p.probability")]
        if spec.task == "binary":
            bad.append("p.probability IS NULL OR isnan(p.probability) OR p.probability < 0 OR p.probability > 1")
        join = "LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id" if labels else ""
        with_label = "_label IS NOT NULL" if labels else "false"
        params: list = [spec.name, int(version)] + ([spec.name] if labels else []) + [start, end, start, end]
        window = f"""SELECT {", ".join(selects) or "1 AS one"}
            FROM {quote_ident(rows_table_name(spec.name))} r
            JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
            {join}
            WHERE r._split = 'production' AND r._ts >= ? AND r._ts < ? AND p.ts >= ? AND p.ts < ?
              AND NOT ({" OR ".join(f"({b})" for b in bad)})"""  # noqa: S608 - quoted identifiers, parameters
        # one result shape for every part: (column, kind, cell, n, sum, text value, number value)
        parts = [
            "SELECT '' AS col, 0 AS kind, NULL::INTEGER, count(*), NULL::DOUBLE, NULL::VARCHAR, NULL::DOUBLE FROM w",
            f"SELECT '', 1, NULL, count(*) FILTER (WHERE {with_label}), NULL, NULL, NULL FROM w",  # noqa: S608
        ]
        for b in numbers:
            q = quote_ident(b.column)
            only = f"{q} IS NOT NULL" + (" AND _label IS NOT NULL" if b.column == "_label" else "")
            parts.append(
                f"""SELECT ?, 2, cell, count(*), sum(x - ?), NULL, NULL
                    FROM (SELECT CASE WHEN x > ? THEN ?
                                      ELSE least(greatest(floor((x - ?) / ? * ?), -1), ?) END::INTEGER AS cell, x
                          FROM (SELECT {q} AS x FROM w WHERE {only}))
                    GROUP BY cell"""  # noqa: S608 - a quoted identifier, parameters
            )
            params += [b.column, b.center, b.hi, b.above, b.lo, b.bin_width, b.per_bin, b.above - 1]
        for c in values:
            q = quote_ident(c)
            text = c not in ANSWERS and stored[c] != "DOUBLE"
            where = "WHERE _label IS NOT NULL" if c == "_label" else ""
            value, number = (q, "NULL") if text else ("NULL", q)
            parts.append(f"SELECT ?, 3, NULL, count(*), NULL, {value}, {number} FROM w {where} GROUP BY {q}")  # noqa: S608
            params.append(c)
        sql = f"WITH w AS MATERIALIZED ({window}) " + " UNION ALL ".join(parts)
        frame = self.conn.query_df(sql, params)
        return _unpack(frame, values=values)


def _unpack(frame: pd.DataFrame, *, values: list[str]) -> WindowHistograms:
    frame.columns = ["col", "kind", "cell", "n", "s", "value", "number"]
    head = frame[frame["kind"] < 2].set_index("kind")["n"]
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
    return WindowHistograms(rows=int(head.get(0, 0)), labelled=int(head.get(1, 0)), numbers=numbers, values=out)
