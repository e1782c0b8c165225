"""Drift of a big window from counts made in the store, so its rows never need to be in pandas for drift.

Above :data:`PUSHDOWN_ROWS` rows the runner asks `Store.window_histograms` for counts per group (numbers)
and per value (everything else) and this module turns them into the scores Evidently gives on all the
rows. Evidently stays the reference: smaller windows go through it, and tests hold this path to it.

- Numbers: Evidently's normed Wasserstein is scipy's W1 = integral of |F - G| over the two empirical
  distribution functions, divided by max(the reference's standard deviation (ddof 0), 0.001). For each
  group of the store's partition, its count, sum and extent on each side give the integral of F - G over
  the group exactly (by parts: the integral of F from l to u is u F(u) - l F(l-) - the group's sum / n),
  and between groups F - G is constant. Adding |that integral| per group is therefore exact wherever
  F - G keeps its sign inside a group; where the two cross inside one, it is short by at most twice the
  smaller of the two parts there, which 1,000 cells over the middle 99.98% of the reference keep far
  below the 0.01 that bench/drift_pushdown.py checks.
- Categories (and numbers whose reference is constant, as in the Evidently path): the Jensen-Shannon
  distance on each value's share, natural log, exactly as Evidently computes it from the same counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from core.monitoring.evidently_adapter import DEFAULT_CAT_METHOD
from core.monitoring.evidently_adapter import DEFAULT_NUM_METHOD
from core.monitoring.evidently_adapter import MISSING_CATEGORY
from core.monitoring.evidently_adapter import SAMPLE_CAP
from core.monitoring.evidently_adapter import DriftRequest
from core.monitoring.evidently_adapter import DriftScore
from core.monitoring.evidently_adapter import is_drifted
from core.store.histograms import NumberBins
from core.store.histograms import WindowHistograms

PUSHDOWN_ROWS = SAMPLE_CAP
"""Windows with more rows than this get their drift from counts made in the store: the size at which the
Evidently path would start sampling, so no window's drift is ever measured on a sample."""
CELLS = 1_000
TAIL = 1e-4
"""The cells span the reference's quantiles TAIL to 1 - TAIL, so a few outliers cannot make them coarse."""
DRILL_BINS = 20
"""Bins of the drill-down chart (`core.monitoring.drift.reference_histogram`'s default)."""


@dataclass(frozen=True)
class BinnedColumn:
    """The reference side of one column, prepared once per version."""

    column: str
    kind: str
    """`num`: Wasserstein over groups; `cat`: Jensen-Shannon over values."""
    keys: str = "text"
    """How a stored value becomes a category: `text`, `number` (as pandas writes it) or `label` (class name)."""
    empty: bool = False
    bins: NumberBins | None = None
    groups: pd.DataFrame | None = None
    """Numbers: the reference's rows per group (cell, bin, n, s, lo, hi), as the store counts a window."""
    counts: pd.Series | None = None
    """Categories: the reference's rows per category."""
    norm: float = 1.0


@dataclass(frozen=True)
class BinnedReference:
    """Every drift column of one version, prepared for count-based drift."""

    columns: dict[str, BinnedColumn]
    names: dict[float, str]
    """Class index -> class name, for outcomes counted per value."""

    @property
    def numbers(self) -> list[NumberBins]:
        """What the store groups."""
        return [c.bins for c in self.columns.values() if c.bins is not None and not c.empty]

    @property
    def values(self) -> list[str]:
        """What the store counts per value."""
        return [c.column for c in self.columns.values() if c.kind == "cat" and not c.empty]


def as_keys(values: pd.Series, *, keys: str, names: dict[float, str]) -> pd.Series:
    """Stored values as the categories the Evidently path compares (missing -> `(missing)`)."""
    if keys == "label":
        values = pd.to_numeric(values, errors="coerce").map(names)
    elif keys == "number":
        values = pd.to_numeric(values, errors="coerce").astype("float64")
    return values.astype("string").fillna(MISSING_CATEGORY).astype(str)


def groups_of(x: np.ndarray, *, bins: NumberBins) -> pd.DataFrame:
    """Rows per group of `bins`' partition (cell, bin, n, s, lo, hi), as the store counts a window."""
    # the same float operations, in the same order, as the store's SQL, so both sides share one partition
    cell = np.clip(np.floor((x - bins.body_lo) * bins.cell_scale), -1, bins.cells)
    drill = np.clip(np.floor((x - bins.lo) / bins.bin_width), -1, bins.bins)
    frame = pd.DataFrame({"cell": cell.astype("int64"), "bin": drill.astype("int64"), "x": x, "d": x - bins.center})
    out = frame.groupby(["cell", "bin"], sort=True).agg(
        n=("x", "size"), s=("d", "sum"), lo=("x", "min"), hi=("x", "max")
    )
    return out.reset_index()


def _column(request: DriftRequest, values: pd.Series, names: dict[float, str]) -> BinnedColumn:
    keys = "label" if request.column == "_label" and request.kind == "cat" else "text"
    if request.kind == "cat":
        counts = as_keys(values, keys=keys, names=names).value_counts()
        return BinnedColumn(request.column, "cat", keys, empty=set(counts.index) <= {MISSING_CATEGORY}, counts=counts)
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return BinnedColumn(request.column, "num", empty=True)
    std = float(np.std(x))
    if std == 0.0:  # normed Wasserstein divides by it: compared as categories, as the Evidently path does
        counts = as_keys(values, keys="number", names=names).value_counts()
        return BinnedColumn(request.column, "cat", "number", counts=counts)
    body_lo, body_hi = (float(q) for q in np.quantile(x, [TAIL, 1 - TAIL]))
    if body_hi <= body_lo:
        body_lo, body_hi = float(x.min()), float(x.max())
    lo, hi = float(x.min()), float(x.max())
    bins = NumberBins(
        column=request.column,
        center=float(np.median(x)),
        body_lo=body_lo,
        cell_scale=CELLS / (body_hi - body_lo),
        cells=CELLS,
        lo=lo,
        hi=hi,
        bin_width=(hi - lo) / DRILL_BINS,
        bins=DRILL_BINS,
    )
    return BinnedColumn(request.column, "num", bins=bins, groups=groups_of(x, bins=bins), norm=max(std, 0.001))


def prepare_binned(
    reference: pd.DataFrame, requests: list[DriftRequest], *, names: dict[float, str] | None = None
) -> BinnedReference:
    """The reference side of count-based drift for `requests`, from the version's (usable) reference rows.

    `_label` requests are prepared from the reference rows that have a target.
    """
    names = names or {}
    columns = {}
    for r in requests:
        if r.column not in reference:
            continue
        values = reference[r.column].dropna() if r.column == "_label" else reference[r.column]
        columns[r.column] = _column(r, values, names)
    return BinnedReference(columns=columns, names=names)


def wasserstein(*, reference: pd.DataFrame, current: pd.DataFrame, center: float) -> float:
    """W1 between two sides' groups (cell, bin, n, s, lo, hi; s summed less `center`), unnormed."""
    both = reference.merge(current, on=["cell", "bin"], how="outer", suffixes=("_r", "_c"), sort=True)
    nr, nc = both["n_r"].fillna(0).to_numpy(float), both["n_c"].fillna(0).to_numpy(float)
    f_after, g_after = np.cumsum(nr) / nr.sum(), np.cumsum(nc) / nc.sum()
    h_after = f_after - g_after
    h_before = h_after - (nr / nr.sum() - nc / nc.sum())
    lo = np.fmin(both["lo_r"].to_numpy(float), both["lo_c"].to_numpy(float)) - center
    hi = np.fmax(both["hi_r"].to_numpy(float), both["hi_c"].to_numpy(float)) - center
    sums = both["s_r"].fillna(0).to_numpy(float) / nr.sum() - both["s_c"].fillna(0).to_numpy(float) / nc.sum()
    inside = hi * h_after - lo * h_before - sums
    between = np.abs(h_after[:-1]) * (lo[1:] - hi[:-1])
    return float(np.abs(inside).sum() + between.sum())


def _current_keys(column: BinnedColumn, counts: WindowHistograms, names: dict[float, str]) -> pd.Series:
    raw = counts.values.get(column.column, pd.Series(dtype="int64"))
    keys = as_keys(pd.Series(list(raw.index), dtype=object), keys=column.keys, names=names)
    return pd.Series(raw.to_numpy(), index=keys.to_numpy()).groupby(level=0).sum()


def _distance(column: BinnedColumn, counts: WindowHistograms, names: dict[float, str]) -> float | None:
    """The column's score, or None when the window has no values to compare."""
    if column.kind == "num":
        assert column.groups is not None and column.bins is not None
        cur = counts.numbers.get(column.column)
        if cur is None or int(cur["n"].sum()) == 0:
            return None
        return wasserstein(reference=column.groups, current=cur, center=column.bins.center) / column.norm
    assert column.counts is not None
    cur = _current_keys(column, counts, names)
    if cur.drop(MISSING_CATEGORY, errors="ignore").sum() == 0:  # nothing but missing values to compare
        return None
    keys = column.counts.index.union(cur.index)
    p = column.counts.reindex(keys, fill_value=0).to_numpy(float)
    q = cur.reindex(keys, fill_value=0).to_numpy(float)
    return float(jensenshannon(p / p.sum(), q / q.sum()))


def binned_scores(
    *, reference: BinnedReference, counts: WindowHistograms, requests: list[DriftRequest]
) -> list[DriftScore]:
    """Drift scores of `requests` from a window's counts, shaped like `evidently_adapter.drift_scores`'."""
    out = []
    for r in requests:
        column = reference.columns.get(r.column)
        kind = column.kind if column is not None else r.kind
        method = DEFAULT_NUM_METHOD if kind == "num" else DEFAULT_CAT_METHOD
        score = None if column is None or column.empty else _distance(column, counts, reference.names)
        if score is None:
            out.append(DriftScore(r.column, r.kind, method, r.threshold, float("nan"), False, missing=True))
        else:
            out.append(DriftScore(r.column, kind, method, r.threshold, score, is_drifted(method, score, r.threshold)))
    return out


@dataclass(frozen=True)
class Summary:
    """The current side of a drill-down chart: shares per category, or counts per drill-down bin."""

    shares: pd.Series | None = None
    """Categories: each one's share, largest first."""
    counts: np.ndarray | None = None
    """Numbers: values per bin of the reference's edges, those beyond them counted in the end bins."""
    n: int = 0
    below: int = 0
    above: int = 0
    mean: float = math.nan


def frame_summary(*, current: pd.Series, kind: str, edges: tuple[float, ...]) -> Summary:
    """The summary of a window's values held in pandas (the Evidently path's windows)."""
    if kind == "cat":  # ties in name order, as counted_summary lists them
        shares = current.astype("string").fillna(MISSING_CATEGORY).value_counts(normalize=True)
        return Summary(shares=shares.sort_index().sort_values(ascending=False, kind="stable"))
    c = pd.to_numeric(current, errors="coerce").dropna().to_numpy()
    if not edges or c.size == 0:
        return Summary()
    e = np.asarray(edges)
    counts = np.histogram(np.clip(c, e[0], e[-1]), bins=e)[0]
    return Summary(
        counts=counts, n=int(c.size), below=int((c < e[0]).sum()), above=int((c > e[-1]).sum()), mean=float(c.mean())
    )


def counted_summary(
    *, reference: BinnedReference, counts: WindowHistograms, column: str, kind: str, edges: tuple[float, ...]
) -> Summary:
    """The same summary from a window's counts: groups fall into the bin of their smallest value, which is
    np.histogram's bin for each of their values unless one lies within rounding of an edge."""
    prepared = reference.columns[column]
    if kind == "cat":
        cur = _current_keys(prepared, counts, reference.names).sort_values(ascending=False, kind="stable")
        return Summary(shares=cur / cur.sum())
    if not edges:
        return Summary()
    e = np.asarray(edges)
    if prepared.kind == "cat":  # a constant reference: the window is counted per value
        raw = counts.values.get(column, pd.Series(dtype="int64"))
        x = pd.to_numeric(pd.Series(list(raw.index), dtype=object), errors="coerce").to_numpy(float)
        w, x = raw.to_numpy(float)[~np.isnan(x)], x[~np.isnan(x)]
        if w.sum() == 0:
            return Summary()
        hist = np.histogram(np.clip(x, e[0], e[-1]), bins=e, weights=w)[0].astype("int64")
        below, above = int(w[x < e[0]].sum()), int(w[x > e[-1]].sum())
        return Summary(counts=hist, n=int(w.sum()), below=below, above=above, mean=float(x @ w / w.sum()))
    groups = counts.numbers.get(column)
    assert prepared.bins is not None
    if groups is None or int(groups["n"].sum()) == 0:
        return Summary()
    n = groups["n"].to_numpy("int64")
    where = np.clip(np.searchsorted(e, groups["lo"].to_numpy(float), side="right") - 1, 0, len(e) - 2)
    return Summary(
        counts=np.bincount(where, weights=n, minlength=len(e) - 1).astype("int64"),
        n=int(n.sum()),
        below=int(n[groups["bin"].to_numpy() == -1].sum()),
        above=int(groups["above"].sum()),
        mean=float(groups["s"].sum() / n.sum() + prepared.bins.center),
    )


@dataclass(frozen=True)
class CountedWindow:
    """A big window's counts from the store with its version's binned reference: all count-based drift needs."""

    reference: BinnedReference
    counts: WindowHistograms

    def summary(self, column: str, *, kind: str, edges: tuple[float, ...]) -> Summary:
        """The current side of `column`'s drill-down chart."""
        return counted_summary(reference=self.reference, counts=self.counts, column=column, kind=kind, edges=edges)

    def outcome_figures(self, task: str, class_index: dict[str, int], positive: str | None = None) -> dict:
        """The outcome's share of positives (yes/no) or mean (numbers) among the window's labelled rows."""
        if task == "binary" and "_label" in self.counts.values and self.counts.labelled:
            raw = self.counts.values["_label"]
            pos = float(class_index[str(positive)]) if positive is not None else 1.0
            hits = sum(int(n) for k, n in raw.items() if k is not None and float(k) == pos)
            return {"current_rate": hits / self.counts.labelled}
        if task == "regression" and "_label" in self.counts.numbers and self.counts.labelled:
            groups, center = self.counts.numbers["_label"], self.reference.columns["_label"].bins
            assert center is not None
            return {"current_mean": float(groups["s"].sum() / groups["n"].sum() + center.center)}
        return {}
