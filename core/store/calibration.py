"""The outcomes that recalibrate label-free estimates, kept as a small sample per window.

An estimate for a window is recalibrated on the outcomes of the weeks before it (`Estimator.calibration_period`).
Reading those from the rows joins every row of the period with its answer and outcome, and a store that holds
more rows per week pays for each of them (bench/RESULTS.md, session 9: 1.1 s at 10M stored predictions, 3.9 s
at 100M). So each window keeps a fixed-size sample of its answered rows: probability, outcome, the row's time
and the outcome's arrival, and what one sampled row stands for. A window's sample is made once, when its rows or
outcomes change (the runner compares `calibration_marks` with the window's counts), and a calibration reads the
samples of its period: a few hundred thousand rows however large the store grows.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.schema import ModelSpec
from core.store.connection import Connection
from core.store.connection import quote_ident
from core.store.layout import WINDOW_LABELS
from core.store.layout import rows_table_name
from core.store.results import WINDOW_KEY


class CalibrationFamily:
    """Per-window samples of answered rows (`calibration_samples`) and what each was made from (`calibration_marks`)."""

    tables = ("calibration_samples", "calibration_marks")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def marks(self, *, model: str, version: int) -> dict[pd.Timestamp, str]:
        """window_start -> the mark of the window counts its stored sample was made from."""
        rows = self.conn.fetch(
            "SELECT window_start, mark FROM calibration_marks WHERE model = ? AND version = ?", [model, int(version)]
        )
        return {pd.Timestamp(r[0]): r[1] for r in rows}

    def sample_window(
        self, *, spec: ModelSpec, version: int, start: datetime, end: datetime, mark: str, rows: int
    ) -> int:
        """Replace the sample of the window `[start, end)` of `version`: at most `rows` of its rows that have an
        answer and an outcome, chosen by a hash of the row id (the same rows every time, and none favoured by
        its values), each weighing how many answered rows of the window it stands for. Returns the answered
        rows counted."""
        table = quote_ident(rows_table_name(spec.name))
        # the window's rows, answers and outcomes joined as the window's own reads join them (`WINDOW_LABELS`)
        answered = f"""FROM {table} r
            JOIN predictions p ON p.model = ? AND p.version = ? AND p.row_id = r._row_id
            {WINDOW_LABELS}
            WHERE r._split = 'production' AND r._ts >= ? AND r._ts < ? AND p.ts >= ? AND p.ts < ?
                AND l.entity_id IS NOT NULL"""  # noqa: S608 - a quoted name
        params = [spec.name, int(version), spec.name, start, end, start, end, start, end]
        key = [spec.name, int(version), start]
        with self.conn.transaction() as cur:
            n = int(cur.execute(f"SELECT count(*) {answered}", params).fetchone()[0])  # noqa: S608
            self.conn.delete(cur, self.tables, where=WINDOW_KEY, params=key)
            if n:
                weight = n / min(n, rows)
                cur.execute(
                    f"""INSERT INTO calibration_samples
                        SELECT ?, ?, ?, r._ts, l.label_ts, p.probability, l.label, ? {answered}
                        ORDER BY hash(r._row_id) LIMIT ?""",  # noqa: S608
                    [*key, weight, *params, int(rows)],
                )
            cur.execute("INSERT INTO calibration_marks VALUES (?, ?, ?, ?)", [*key, mark])
        return n

    def read_calibration(
        self,
        *,
        spec: ModelSpec,
        version: int,
        start: datetime,
        end: datetime,
        known_by: datetime,
        max_rows: int,
    ) -> pd.DataFrame:
        """Probability, label, time and weight of sampled answered rows in `[start, end)` whose outcome arrived by
        `known_by`.

        Each row's `_weight` is how many answered rows it stands for, scaled so that the weights add up to at
        most `max_rows`: a calibration on a large period counts as much evidence as one on `max_rows` rows,
        as it did when the period's rows were sampled whole.
        """
        frame = self.conn.query_df(
            """SELECT probability AS _probability, label AS _label, row_ts AS _ts, weight AS _weight
               FROM calibration_samples
               WHERE model = ? AND version = ? AND row_ts >= ? AND row_ts < ? AND label_ts <= ?
               ORDER BY row_ts, probability, label""",
            [spec.name, int(version), start, end, known_by],
        )
        total = float(frame["_weight"].sum()) if len(frame) else 0.0
        if total > max_rows:
            frame["_weight"] = frame["_weight"] * (max_rows / total)
        return frame

    def forget(self, *, model: str, version: int, starts: list[datetime]) -> None:
        """Forget the samples of windows that no longer hold any rows (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            for start in starts:
                self.conn.delete(cur, self.tables, where=WINDOW_KEY, params=[model, int(version), start])

    def delete_model(self, model: str) -> None:
        """Forget every sample of `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            self.conn.delete(cur, self.tables, where="model = ?", params=[model])
