"""Per-window counts of rows and outcomes, and the fingerprint that says when a stored window is stale.

Counting every window joins every stored row with every label, which grows with the store, and the pages
ask on every rerun (how many windows are behind). So the counts are kept in `window_fingerprint_cache`
(schema 9) with the moment they were true; see `FingerprintsFamily.window_fingerprints` for when they are
trusted and when counted again (bench/RESULTS.md, session 7).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.schema import ModelSpec
from core.store.connection import Connection
from core.store.connection import Cursor
from core.store.connection import quote_ident
from core.store.rows import WINDOW_UNITS
from core.store.rows import rows_table_name

FINGERPRINT_CACHE = "window_fingerprint_cache"
"""What `RowsFamily.window_fingerprints` counted per model and window, and when (schema 9); derived data
only: emptying it costs one full count."""
FINGERPRINT_COLUMNS = ["window_start", "n_rows", "n_labels", "label_sum", "last_label"]
CLOCK_MARGIN = pd.Timedelta(minutes=1)
"""Batches dated up to this long before the cache's moment count as new (a clock set back a little)."""


class FingerprintsFamily:
    """The window counts (`window_fingerprint_cache`): derived from rows and labels, never the only copy."""

    tables = (FINGERPRINT_CACHE,)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def delete_model(self, model: str) -> None:
        """Forget `model`'s counted windows (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM window_fingerprint_cache WHERE model = ?", [model])

    def window_fingerprints(self, *, spec: ModelSpec) -> pd.DataFrame:
        """Per production window: rows, labels and a fingerprint that changes when either changes.

        Counting every window joins every stored row with every label, which grows with the store, and the
        pages ask on every rerun (how many windows are behind). So the counts are kept in
        `window_fingerprint_cache` with the moment they were true. A later call with no batch written since
        (every write of rows or labels is a batch, dated inside the store's write lock) answers from the
        cache; one after batches of rows only recounts the windows of the new rows (row ids only grow, so
        they are the ids above the largest counted). Outcomes that came since, a removed batch, a purge, a
        changed window unit or a changed row count recount everything. The cache is read and written under
        the write lock, so no write falls between the counting and the moment recorded.
        """
        unit = WINDOW_UNITS[spec.window]
        if self.conn.read_only:
            return self._fingerprints_cached(spec, unit, cur=None)
        with self.conn.transaction() as cur:
            return self._fingerprints_cached(spec, unit, cur=cur)

    def _fingerprints_cached(self, spec: ModelSpec, unit: str, *, cur: Cursor | None) -> pd.DataFrame:
        now = datetime.now()
        table = quote_ident(rows_table_name(spec.name))
        cached = self._query(
            cur,
            "SELECT window_start, n_rows, n_labels, label_sum, last_label, unit, as_of, max_row_id, n_stored, "
            "purged_before FROM window_fingerprint_cache WHERE model = ? ORDER BY window_start",
            [spec.name],
        )
        purged = self._query(cur, "SELECT max(purged_before) AS p FROM retention WHERE model = ?", [spec.name])["p"]
        purged = None if pd.isna(purged.iloc[0]) else pd.Timestamp(purged.iloc[0])
        recount: list | None = None  # None: every window
        if len(cached) and (cached["unit"] == unit).all():
            as_of = cached["as_of"].iloc[0].to_pydatetime() - CLOCK_MARGIN
            max_row_id = int(cached["max_row_id"].iloc[0])
            was = cached["purged_before"].iloc[0]
            # rows deleted since (a batch taken back, a purge): the stored count falls short of the old plus new
            changed = self._query(
                cur,
                f"""SELECT (SELECT count(*) FROM batches WHERE model = ? AND removed_at >= ?) AS removed,
                           (SELECT count(*) FROM {table}) - (SELECT count(*) FROM {table} WHERE _row_id > ?) AS old""",  # noqa: S608
                [spec.name, as_of, max_row_id],
            ).iloc[0]
            kept = int(changed["old"]) == int(cached["n_stored"].iloc[0])
            if int(changed["removed"]) == 0 and kept and (None if pd.isna(was) else pd.Timestamp(was)) == purged:
                recount = self._touched_windows(spec, unit, cur, as_of=as_of, max_row_id=max_row_id)
        if recount is not None and not recount:
            return cached[FINGERPRINT_COLUMNS].reset_index(drop=True)
        counted = self._count_windows(spec, unit, cur=cur, windows=recount)
        if recount is None:
            frame = counted
        else:
            keep = cached[~cached["window_start"].isin(pd.to_datetime(pd.Series(recount)))][FINGERPRINT_COLUMNS]
            frame = pd.concat([keep, counted], ignore_index=True) if len(keep) else counted
            frame = frame.sort_values("window_start", ignore_index=True)
        if cur is not None:
            sql = f"SELECT coalesce(max(_row_id), 0) AS m, count(*) AS n FROM {table}"  # noqa: S608
            top, n_stored = (int(v) for v in self._query(cur, sql, []).iloc[0])
            cur.execute("DELETE FROM window_fingerprint_cache WHERE model = ?", [spec.name])
            store = frame.assign(
                model=spec.name, unit=unit, as_of=now, max_row_id=top, n_stored=n_stored, purged_before=purged
            )
            store["purged_before"] = pd.to_datetime(store["purged_before"])
            cols = [*FINGERPRINT_COLUMNS, "model", "unit", "as_of", "max_row_id", "n_stored", "purged_before"]
            self.conn.insert(cur, FINGERPRINT_CACHE, store[cols])
        return frame[FINGERPRINT_COLUMNS].reset_index(drop=True)

    def _query(self, cur: Cursor | None, sql: str, params: list) -> pd.DataFrame:
        return cur.execute(sql, params).df() if cur is not None else self.conn.query_df(sql, params)

    def _touched_windows(
        self, spec: ModelSpec, unit: str, cur: Cursor | None, *, as_of: datetime, max_row_id: int
    ) -> list | None:
        """Windows holding rows or outcomes stored after the cache was written. Outcomes carry their row's time
        (schema 11), so their windows come from the outcomes alone; an outcome that replaced an older one is
        for the same row, so the older one's window is among them."""
        table = quote_ident(rows_table_name(spec.name))
        batches = self._query(cur, "SELECT id FROM batches WHERE model = ? AND created_at >= ?", [spec.name, as_of])
        touched: set = set()
        if len(batches):
            ids = batches["id"].tolist()
            # a constant list: labels are appended batch by batch, so the scan skips the row groups of older ones
            marks = ", ".join("?" for _ in ids)
            sql = (
                f"SELECT DISTINCT date_trunc('{unit}', row_ts) AS w FROM labels "  # noqa: S608 - a fixed unit
                f"WHERE model = ? AND batch_id IN ({marks}) AND row_ts IS NOT NULL"
            )
            touched.update(pd.to_datetime(self._query(cur, sql, [spec.name, *ids])["w"]))
        # new rows: their ids are above the largest counted, so the scan skips every older row group
        new_rows = self._query(
            cur,
            f"SELECT DISTINCT date_trunc('{unit}', _ts) AS w FROM {table} "  # noqa: S608 - unit from a fixed mapping
            "WHERE _split = 'production' AND _row_id > ?",
            [max_row_id],
        )
        touched.update(pd.to_datetime(new_rows["w"]))
        return sorted(touched)

    def _count_windows(
        self, spec: ModelSpec, unit: str, *, cur: Cursor | None = None, windows: list | None = None
    ) -> pd.DataFrame:
        """Rows, labels, label sum and latest label time of every production window (or of `windows`)."""
        table = quote_ident(rows_table_name(spec.name))
        where, params, labels_in, label_params = "", [], "", []
        if windows is not None:
            # the time range lets the scans of rows and outcomes skip row groups outside it; the list keeps only
            # the windows asked for
            where = (
                f"AND r._ts >= ? AND r._ts < ? + INTERVAL 1 {unit} AND list_contains(?, date_trunc('{unit}', r._ts))"
            )
            labels_in = f"AND l.row_ts >= ? AND l.row_ts < ? + INTERVAL 1 {unit}"
            lo, hi = min(windows).to_pydatetime(), max(windows).to_pydatetime()
            params, label_params = [lo, hi, [w.to_pydatetime() for w in windows]], [lo, hi]
        # an outcome counts in its row's window, as the window's own reads (core/store/layout.py, WINDOW_LABELS)
        return self._query(
            cur,
            f"""SELECT date_trunc('{unit}', r._ts) AS window_start, count(*) AS n_rows, count(l.entity_id) AS n_labels,
                       coalesce(sum(l.label), 0) AS label_sum, max(l.label_ts) AS last_label
                FROM {table} r LEFT JOIN labels l ON l.model = ? AND l.entity_id = r._entity_id
                    AND date_trunc('{unit}', l.row_ts) = date_trunc('{unit}', r._ts) {labels_in}
                WHERE r._split = 'production' {where}
                GROUP BY 1 ORDER BY 1""",  # noqa: S608 - unit comes from a fixed mapping
            [spec.name, *label_params, *params],
        )
