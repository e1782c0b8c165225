"""What monitoring and alerts stored for a seeded store, as plain data, for the same-behaviour test.

Read with raw SQL on the store's tables so that the snapshot does not depend on how the code is laid out.
Times the code stamps with the clock (opened, updated, computed) are left out; everything else is kept.

Regenerate after a deliberate change in behaviour (and say so in the commit):
    python -m tests.golden.snapshot write
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from pathlib import Path

import duckdb

GOLDEN = Path(__file__).with_name("reduced_demo.json.gz")
QUERIES = {
    "checks": "SELECT model, version, scope, window_start, check_kind, metric, column_name, method, value, threshold, "
    "reference, lower, upper, status, message, n_rows FROM check_results ORDER BY ALL",
    "windows": "SELECT model, version, scope, window_start, window_end, n_rows, n_labels, fingerprint "
    "FROM monitor_windows ORDER BY ALL",
    "window_stats": "SELECT model, version, window_start, n_rows, n_labels, stats FROM window_stats ORDER BY ALL",
    "alerts": "SELECT id, model, version, rule, subject, severity, state, title, what, cost, action, cost_value, "
    "value, threshold, first_window, last_window, windows FROM alerts ORDER BY ALL",
    "events": "SELECT alert_id, model, event, actor, comment, window_start FROM alert_events ORDER BY ALL",
    "predictions": "SELECT model, version, count(*), sum(prediction), sum(probability) FROM predictions "
    "GROUP BY ALL ORDER BY ALL",
}


def _plain(value: object) -> object:
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


def snapshot(db: Path | str) -> dict[str, list[list[object]]]:
    """Every stored monitoring result, statistic, alert and event of the store at `db`."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            name: [[_plain(v) for v in row] for row in con.execute(sql).fetchall()] for name, sql in QUERIES.items()
        }
    finally:
        con.close()


def snapshot_of(store, *, model: str | None = None) -> dict[str, list[list[object]]]:
    """The same snapshot of an open store on any backend (a DuckLake one included), optionally of one model."""
    out = {}
    for name, sql in QUERIES.items():
        rows = [[_plain(v) for v in row] for row in store.conn.fetch(sql)]
        column = 1 if name == "alerts" else 0
        out[name] = [r for r in rows if model is None or r[column] == model]
    return out


def differences(expected: object, actual: object, *, where: str = "", rel: float = 1e-6) -> list[str]:
    """Places where `actual` differs from `expected`; numbers may differ by `rel` (relative) or 1e-9."""
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
            if math.isclose(expected, actual, rel_tol=rel, abs_tol=1e-9) or (
                math.isnan(expected) and math.isnan(actual)
            ):
                return []
        return [f"{where}: {expected!r} != {actual!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        return [d for k in expected for d in differences(expected[k], actual[k], where=f"{where}.{k}", rel=rel)]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items != {len(actual)} items"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, where=f"{where}[{i}]", rel=rel)
        ]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


def load_golden() -> dict:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def write_golden(data: dict) -> None:
    with gzip.open(GOLDEN, "wt", encoding="utf-8") as fh:
        json.dump(data, fh)


if __name__ == "__main__" and sys.argv[1:] == ["write"]:
    import tempfile

    from tests.conftest import seed_reduced_demo

    with tempfile.TemporaryDirectory() as tmp:
        write_golden(snapshot(seed_reduced_demo(Path(tmp)).db_path))
    print(f"wrote {GOLDEN}")
