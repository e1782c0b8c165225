"""What monitoring found: `monitor_windows` (bookkeeping), `check_results`, and the per-window and
per-day sufficient statistics (`window_stats`, `daily_stats`) that KPIs and comparisons pool, and the same
statistics per group of rows (`segment_stats` per window, `segment_reference` per version)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from core.results import CheckResult
from core.results import WindowResult
from core.store.connection import Connection
from core.store.connection import quote_ident
from core.store.mappers import check_frame
from core.store.mappers import daily_frame
from core.store.mappers import segment_frame
from core.store.mappers import window_row
from core.store.mappers import window_stats_row

WINDOW_KEY = "model = ? AND version = ? AND window_start = ?"
"""The rows of one window of one version, in any per-window table (parameters: model, version, window start)."""


class ResultsFamily:
    """Computed windows, their check results and statistics."""

    tables = ("monitor_windows", "check_results", "window_stats", "daily_stats", "segment_stats")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def computed_windows(self, *, model: str, version: int, scope: str) -> dict[datetime, str]:
        """window_start -> fingerprint of windows already computed for this version and scope."""
        rows = self.conn.fetch(
            "SELECT window_start, fingerprint FROM monitor_windows WHERE model = ? AND version = ? AND scope = ?",
            [model, int(version), scope],
        )
        return {pd.Timestamp(r[0]): r[1] for r in rows}

    def save_window(self, *, result: WindowResult, scope: str) -> None:
        """Replace one window's results (checks, stats, bookkeeping) in one transaction."""
        key = [result.model, int(result.version), scope, result.start]
        version_key = [result.model, int(result.version), result.start]
        with self.conn.transaction() as cur:
            cur.execute(
                "DELETE FROM check_results WHERE model = ? AND version = ? AND scope = ? AND window_start = ?", key
            )
            cur.execute(
                "DELETE FROM monitor_windows WHERE model = ? AND version = ? AND scope = ? AND window_start = ?", key
            )
            checks = check_frame(
                model=result.model,
                version=result.version,
                scope=scope,
                start=result.start,
                end=result.end,
                checks=result.checks,
            )
            self.conn.insert(cur, "check_results", checks)
            cur.execute(
                "INSERT INTO monitor_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                window_row(result, scope=scope, computed_at=datetime.now()),
            )
            cur.execute("DELETE FROM daily_stats WHERE model = ? AND version = ? AND window_start = ?", version_key)
            if result.daily:
                self.conn.insert(cur, "daily_stats", daily_frame(result))
            if result.stats:
                cur.execute(
                    "DELETE FROM window_stats WHERE model = ? AND version = ? AND window_start = ?", version_key
                )
                cur.execute("INSERT INTO window_stats VALUES (?, ?, ?, ?, ?, ?, ?)", window_stats_row(result))
            cur.execute("DELETE FROM segment_stats WHERE model = ? AND version = ? AND window_start = ?", version_key)
            if result.segments:
                frame = segment_frame(result.model, result.version, result.segments, window_start=result.start)
                self.conn.insert(cur, "segment_stats", frame)

    def revise_estimates(self, *, model: str, version: int, changes: pd.DataFrame) -> None:
        """Rewrite the band, bounds, wording and details of stored estimates (`changes`: window_start, metric,
        lower, upper, message, details), in one transaction."""
        with self.conn.transaction() as cur:
            for row in changes.itertuples():
                cur.execute(
                    "UPDATE check_results SET lower = ?, upper = ?, message = ?, details = ? "
                    "WHERE model = ? AND version = ? AND scope = 'full' AND window_start = ? "
                    "AND check_kind = 'estimated_performance' AND metric = ?",
                    [
                        row.lower,
                        row.upper,
                        row.message,
                        row.details,
                        model,
                        int(version),
                        pd.Timestamp(row.window_start).to_pydatetime(),
                        row.metric,
                    ],
                )

    def forget_windows(self, *, model: str, version: int, starts: list[datetime]) -> None:
        """Forget the results and statistics of windows that no longer hold any rows (their data was removed)."""
        if not starts:
            return
        with self.conn.transaction() as cur:
            for start in starts:
                self.conn.delete(cur, self.tables, where=WINDOW_KEY, params=[model, int(version), start])

    def save_version_checks(self, *, model: str, version: int, checks: Sequence[CheckResult]) -> None:
        """Replace the version-level checks (no window: e.g. the train/validation gap)."""
        with self.conn.transaction() as cur:
            cur.execute(
                "DELETE FROM check_results WHERE model = ? AND version = ? AND window_start IS NULL",
                [model, int(version)],
            )
            frame = check_frame(model=model, version=version, scope="version", start=None, end=None, checks=checks)
            self.conn.insert(cur, "check_results", frame)

    def read_results(
        self,
        *,
        model: str,
        version: int | None = None,
        check: str | None = None,
        scope: str | None = None,
        with_details: bool = False,
    ) -> pd.DataFrame:
        """Stored check results of `model`, oldest window first."""
        sql = [
            'SELECT model, version, scope, window_start, window_end, check_kind AS "check", metric,',
            'column_name AS "column", method, value, threshold, reference, lower, upper, status, message, n_rows',
            ", details" if with_details else "",
            "FROM check_results WHERE model = ?",
        ]
        params: list = [model]
        for col, value in (("version", version), ("check_kind", check), ("scope", scope)):
            if value is not None:
                sql.append(f"AND {col} = ?")
                params.append(value)
        sql.append("ORDER BY window_start NULLS FIRST, check_kind, metric, column_name")
        return self.conn.query_df(" ".join(sql), params)

    def read_window_stats(self, *, model: str, version: int | None = None) -> pd.DataFrame:
        """Per-window sufficient statistics (counts and sums that pool exactly across windows)."""
        return self._read_stats("window_stats", "window_start, window_end", model=model, version=version)

    def read_daily_stats(self, *, model: str, version: int | None = None) -> pd.DataFrame:
        """Per-day sufficient statistics, for KPIs over any calendar period."""
        frame = self._read_stats("daily_stats", "day, window_start", model=model, version=version)
        frame["day"] = pd.to_datetime(frame["day"])
        return frame

    def _read_stats(self, table: str, keys: str, *, model: str, version: int | None) -> pd.DataFrame:
        # `table` and `keys` are fixed strings from the two callers above, never user input
        sql = f"SELECT version, {keys}, n_rows, n_labels, stats FROM {quote_ident(table)} WHERE model = ?"  # noqa: S608
        params: list = [model]
        if version is not None:
            sql += " AND version = ?"
            params.append(int(version))
        frame = self.conn.query_df(sql + f" ORDER BY version, {keys.split(',')[0]}", params)
        frame["stats"] = [json.loads(s) for s in frame["stats"]]
        return frame

    def save_segment_reference(self, *, model: str, version: int, segments: Sequence[tuple[str, str, dict]]) -> None:
        """Replace a version's per-group reference statistics (kept in the order the groups were planned)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM segment_reference WHERE model = ? AND version = ?", [model, int(version)])
            if segments:
                self.conn.insert(cur, "segment_reference", segment_frame(model, version, segments))

    def read_segment_stats(self, *, model: str, version: int, column: str | None = None) -> pd.DataFrame:
        """Per-window statistics of each group of rows (one input's groups, or every input's)."""
        sql = (
            "SELECT window_start, column_name AS column, segment, n_rows, n_labels, stats FROM segment_stats "
            "WHERE model = ? AND version = ?"
        )
        params: list = [model, int(version)]
        if column is not None:
            sql += " AND column_name = ?"
            params.append(column)
        frame = self.conn.query_df(sql + " ORDER BY window_start, column_name, segment", params)
        frame["stats"] = [json.loads(s) for s in frame["stats"]]
        return frame

    def read_segment_reference(self, *, model: str, version: int) -> pd.DataFrame:
        """Each group's statistics in the version's validation rows, groups in their planned order."""
        frame = self.conn.query_df(
            "SELECT column_name AS column, segment, position, n_rows, n_labels, stats FROM segment_reference "
            "WHERE model = ? AND version = ? ORDER BY column_name, position",
            [model, int(version)],
        )
        frame["stats"] = [json.loads(s) for s in frame["stats"]]
        return frame

    def segment_columns(self, *, model: str, version: int) -> list[str]:
        """Inputs whose groups were stored for this version."""
        rows = self.conn.fetch(
            "SELECT DISTINCT column_name FROM segment_reference WHERE model = ? AND version = ? ORDER BY 1",
            [model, int(version)],
        )
        return [r[0] for r in rows]

    def clear_monitoring(self, *, model: str) -> None:
        """Forget computed windows and results of `model` (alerts and their history stay)."""
        self.delete_model(model)

    def delete_model(self, model: str) -> None:
        """Forget every result of `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            self.conn.delete(cur, (*self.tables, "segment_reference"), where="model = ?", params=[model])
