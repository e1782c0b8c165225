"""Drift of a big window from counts made in the store, so its rows never need to be in pandas for drift.

Above :data:`PUSHDOWN_ROWS` rows the runner asks `Store.window_histograms` for counts and sums per cell
(numbers) and counts per value (everything else) and this module turns them into the scores Evidently gives on all the
rows. Evidently stays the reference: smaller windows go through it, and tests hold this path to it.

- Numbers: Evidently's normed Wasserstein is scipy's W1 = integral of |F - G| over the two empirical
  distribution functions, divided by max(the reference's standard deviation (ddof 0), 0.001). For each
  cell of the store's partition, its count and sum on each side give the integral of F - G over the cell
  exactly (by parts: the integral of F from l to u is u F(u) - l F(l) - the cell's sum / n), and between
  occupied cells F - G is constant. Taking each side's rows in a cell at their mean keeps that integral,
  so the distance is exact wherever F - G keeps its sign inside a cell (always outside the reference's
  range, where F is 0 or 1) and wherever a side's rows in a cell are one value (integer columns); where
  the two cross inside one, the error is at most twice the cell's width times the smaller of the largest
  positive and negative values of F - G there, which cells of 1/1,000 of the middle 99.98% of the
  reference keep far below the 0.01 that bench/drift_pushdown.py checks (it measured 3e-5).
- Drill-down charts of a counted window put each cell in its bin (cells nest in bins), and their
  reference bars are counted the same way, so the two sides of a chart always follow one rule (which
  can differ from np.histogram's only for a value within rounding of a bin edge).
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
"""Cells across the middle of the reference (its quantiles TAIL to 1 - TAIL), so outliers that stretch its
range cannot make the cells coarse where the values are; at most MAX_PER_BIN cells per drill-down bin."""
TAIL = 1e-4
MAX_PER_BIN = 1_000
DRILL_BINS = 20
"""Bins of the drill-down chart (`core.monitoring.drift.reference_histogram`'s default)."""


@dataclass(frozen=True)
class BinnedColumn:
    """The reference side of one column, prepared once per version."""

    column: str
    kind: str
    """`num`: Wasserstein over cells; `cat`: Jensen-Shannon over values."""
    keys: str = "text"
    """How a stored value becomes a category: `text`, `number` (as pandas writes it) or `label` (class name)."""
    empty: bool = False
    bins: NumberBins | None = None
    groups: pd.DataFrame | None = None
    """Numbers: the reference's rows per cell (cell, n, s), as the store counts a window."""
    shares: tuple[float, ...] = ()
    """Numbers: the reference's share per drill-down bin, by the cells' rule."""
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


def cells_of(x: np.ndarray, *, bins: NumberBins) -> np.ndarray:
    """Each value's cell, by the same float operations in the same order as the store's SQL."""
    cell = np.clip(np.floor((x - bins.lo) / bins.bin_width * bins.per_bin), -1, bins.above - 1)
    return np.where(x > bins.hi, bins.above, cell).astype("int64")


def groups_of(x: np.ndarray, *, bins: NumberBins) -> pd.DataFrame:
    """Rows and sum of x - center per occupied cell (cell, n, s), as the store counts a window."""
    frame = pd.DataFrame({"cell": cells_of(x, bins=bins), "d": x - bins.center})
    return frame.groupby("cell", sort=True).agg(n=("d", "size"), s=("d", "sum")).reset_index()


def drill_counts(groups: pd.DataFrame, *, bins: NumberBins) -> np.ndarray:
    """Rows per drill-down bin, values outside [lo, hi] in the end bins (as np.clip would put them)."""
    where = np.clip(groups["cell"].to_numpy() // bins.per_bin, 0, bins.bins - 1)
    return np.bincount(where, weights=groups["n"].to_numpy(float), minlength=bins.bins).astype("int64")


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
    lo, hi = float(x.min()), float(x.max())
    body = float(np.diff(np.quantile(x, [TAIL, 1 - TAIL]))[0]) or hi - lo
    width = (hi - lo) / DRILL_BINS  # the drill-down chart's bins (reference_histogram's np.linspace)
    bins = NumberBins(
        column=request.column,
        center=float(np.median(x)),
        lo=lo,
        hi=hi,
        bin_width=width,
        per_bin=int(np.clip(math.ceil(CELLS * width / body), 1, MAX_PER_BIN)),
        bins=DRILL_BINS,
    )
    groups = groups_of(x, bins=bins)
    shares = tuple(float(v) for v in drill_counts(groups, bins=bins) / x.size)
    return BinnedColumn(request.column, "num", bins=bins, groups=groups, shares=shares, norm=max(std, 0.001))


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


def wasserstein(*, reference: pd.DataFrame, current: pd.DataFrame, bins: NumberBins) -> float:
    """W1 between two sides' cells (cell, n, s; s summed less `bins.center`), unnormed.

    Inside a cell each side is taken as all its rows at their mean: that keeps the integral of F - G over
    the cell exact, and is exact outright where a side's rows there are one value (integer columns). An
    error can only come from a cell where F - G changes sign, and is at most twice the cell's width times
    the smaller of the largest positive and negative values F - G reaches there.
    """
    both = reference.merge(current, on="cell", how="outer", suffixes=("_r", "_c"), sort=True)
    cell = both["cell"].to_numpy()
    nr, nc = both["n_r"].fillna(0).to_numpy(float), both["n_c"].fillna(0).to_numpy(float)
    p, q = nr / nr.sum(), nc / nc.sum()
    h_after = np.cumsum(p) - np.cumsum(q)
    h_after[-1] = 0.0  # both sides have counted all their rows; no rounding left over
    h_before = np.concatenate([[0.0], h_after[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_r = both["s_r"].to_numpy(float) / nr
        mean_c = both["s_c"].to_numpy(float) / nc
    # cell bounds less the centre; the cells outside [lo, hi] reach out to the farthest mean in them
    step = bins.bin_width / bins.per_bin
    lo = np.where(cell < 0, -np.inf, bins.lo + cell * step) - bins.center
    hi = np.where(cell >= bins.above - 1, bins.hi, bins.lo + (cell + 1) * step) - bins.center
    lo = np.where(cell == bins.above, bins.hi - bins.center, lo)
    hi = np.where(cell == bins.above, np.inf, hi)
    mean_r, mean_c = np.where(nr > 0, mean_r, mean_c), np.where(nc > 0, mean_c, mean_r)
    first, last = np.minimum(mean_r, mean_c), np.maximum(mean_r, mean_c)
    lo, hi = np.minimum(np.where(np.isinf(lo), first, lo), first), np.maximum(np.where(np.isinf(hi), last, hi), last)
    middle = h_before + np.where(mean_r <= mean_c, p, -q)
    inside = np.abs(h_before) * (first - lo) + np.abs(middle) * (last - first) + np.abs(h_after) * (hi - last)
    between = np.abs(h_after[:-1]) * np.maximum(lo[1:] - hi[:-1], 0.0)
    return float(inside.sum() + between.sum())


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
        return wasserstein(reference=column.groups, current=cur, bins=column.bins) / column.norm
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
    """The same summary from a window's counts (each cell in the bin it nests in)."""
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
    groups, bins = counts.numbers.get(column), prepared.bins
    assert bins is not None
    if groups is None or int(groups["n"].sum()) == 0:
        return Summary()
    n = groups["n"].to_numpy("int64")
    cell = groups["cell"].to_numpy()
    return Summary(
        counts=drill_counts(groups, bins=bins),
        n=int(n.sum()),
        below=int(n[cell == -1].sum()),
        above=int(n[cell == bins.above].sum()),
        mean=float(groups["s"].sum() / n.sum() + bins.center),
    )


@dataclass(frozen=True)
class CountedWindow:
    """A big window's counts from the store with its version's binned reference: all count-based drift needs."""

    reference: BinnedReference
    counts: WindowHistograms

    def summary(self, column: str, *, kind: str, edges: tuple[float, ...]) -> Summary:
        """The current side of `column`'s drill-down chart."""
        return counted_summary(reference=self.reference, counts=self.counts, column=column, kind=kind, edges=edges)

    def category_counts(self, column: str) -> pd.Series:
        """A category column's rows per value in this window, keyed as the Evidently path keys them."""
        return _current_keys(self.reference.columns[column], self.counts, self.reference.names)

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
