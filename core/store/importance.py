"""Which inputs drive each version's answers: the `importance` table, and the typed result it holds.

One row per (model, version, feature): the permutation importance measured when the version was
registered (or by `python -m core importance`). A version without rows here simply has not been
measured; every reader treats that as "not known", never as an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.store.connection import Connection

COLUMNS = ("model", "version", "feature", "importance", "spread", "rank", "metric", "n_rows", "computed_at")


@dataclass(frozen=True)
class FeatureImportance:
    """How much one input matters: the drop in the metric when its values are shuffled."""

    feature: str
    importance: float
    """Mean drop of the metric over the repeats, in the metric's own units (negative: shuffling helped)."""
    spread: float
    """Standard deviation of that drop over the repeats: how sure the number is."""
    rank: int
    """1 for the input that matters most."""


@dataclass(frozen=True)
class VersionImportance:
    """Every input's importance for one version, most important first."""

    model: str
    version: int
    metric: str
    n_rows: int
    features: tuple[FeatureImportance, ...]
    computed_at: datetime | None = None

    def weights(self) -> dict[str, float]:
        """Each input's share of the total importance (0..1, summing to 1); inputs that do not help get 0."""
        positive = {f.feature: max(f.importance, 0.0) for f in self.features}
        total = sum(positive.values())
        if total <= 0:
            return dict.fromkeys(positive, 0.0)
        return {k: v / total for k, v in positive.items()}

    def frame(self) -> pd.DataFrame:
        """One row per input (feature, importance, spread, rank, share), most important first."""
        shares = self.weights()
        return pd.DataFrame(
            [
                {
                    "feature": f.feature,
                    "importance": f.importance,
                    "spread": f.spread,
                    "rank": f.rank,
                    "share": shares[f.feature],
                }
                for f in self.features
            ],
            columns=["feature", "importance", "spread", "rank", "share"],
        )


class ImportanceFamily:
    """Permutation importance per version, computed ahead of time."""

    tables = ("importance",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def save_importance(self, result: VersionImportance) -> None:
        """Replace the stored importance of `result`'s version, in one transaction."""
        computed = result.computed_at or datetime.now()
        frame = pd.DataFrame(
            [
                (
                    result.model,
                    int(result.version),
                    f.feature,
                    float(f.importance),
                    float(f.spread),
                    int(f.rank),
                    result.metric,
                    int(result.n_rows),
                    computed,
                )
                for f in result.features
            ],
            columns=list(COLUMNS),
        )
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM importance WHERE model = ? AND version = ?", [result.model, int(result.version)])
            self.conn.insert(cur, "importance", frame)

    def read_importance(self, *, model: str, version: int) -> VersionImportance | None:
        """The stored importance of one version, most important first; None when it was never measured."""
        rows = self.conn.fetch(
            "SELECT feature, importance, spread, rank, metric, n_rows, computed_at FROM importance "
            "WHERE model = ? AND version = ? ORDER BY rank, feature",
            [model, int(version)],
        )
        if not rows:
            return None
        return VersionImportance(
            model=model,
            version=int(version),
            metric=rows[0][4],
            n_rows=int(rows[0][5]),
            features=tuple(FeatureImportance(r[0], float(r[1]), float(r[2]), int(r[3])) for r in rows),
            computed_at=rows[0][6],
        )

    def importance_versions(self, model: str) -> set[int]:
        """Versions of `model` whose importance is stored."""
        return {int(r[0]) for r in self.conn.fetch("SELECT DISTINCT version FROM importance WHERE model = ?", [model])}

    def delete_model(self, model: str) -> None:
        """Forget the importance of every version of `model` (inside the caller's transaction)."""
        with self.conn.transaction() as cur:
            cur.execute("DELETE FROM importance WHERE model = ?", [model])
