"""Why plain CBPE still wins flights weekly F1, and which leads are worth building (issue 15 part 3).

Run from the repository root:

    .venv/bin/python bench/estimate_leads.py [--store PATH]

`--store` is a demo store seeded with monitor=True (as for `bench/estimate.py`); without it the demo is
seeded into a temporary directory first. On the windows `bench/estimate.py` scores (outcomes known only
before each window began), it prints:

1. MAE per case and metric of plain CBPE, the recalibrated estimate ("recal"), ours (the runner's blend,
   `Estimator.estimate`) and two candidate estimates that are not in the product:
   - "features": recalibration that also sees the model's numeric inputs. A logistic fit on the model's
     log-odds plus the standardised numeric inputs (ridge 1 on the inputs), on the answered rows of the 16
     windows before (outcomes known by the window's start, weight halving every 2 windows, validation rows
     as the oldest evidence), the same evidence as "recal" but read whole, with the inputs;
   - "tpr hybrid": F1 and accuracy from the validation calibration's true-positive rate (the share of
     positives flagged, which a pure label shift leaves unchanged) and the recalibrated positive rate;
   - "intercept": recalibration of the intercept alone, the slope kept at the validation calibration's
     (the same evidence and weights as "recal");
   - "within": Platt with one intercept per past window and one shared slope, fitted on the same evidence,
     the window's intercept the evidence-weighted mean of theirs. A pooled fit over windows whose base rates
     differ flattens the slope (week-level shocks look like noise in the score); this one does not;
   - with `--pape` (slow: two classifier fits per window and variant), NannyML's PAPE: Platt fitted on labelled
     pool rows weighted by their density ratio to the window, from a gradient-boosted classifier that tells
     the pool's rows from the window's by the model's inputs (two folds, ratio clipped at 50). The pool is the
     validation rows ("pape_val"), or those and the answered rows of the 16 windows before ("pape_pool"),
     the latter also with the recalibration's age weights ("pape_aged"). Their mean effective sample size
     is printed as 1b.
2. A decomposition of CBPE's F1 error: F1 = 2 * flagged * precision / (flagged + positive rate), with the
   flagged share known; CBPE's F1 recomputed with the realised precision, or the realised positive
   rate, put in place of its own.
3. Hindsight bound: the best fixed affine blend of the four estimates (weights on a 0.125 grid in
   [-0.5, 1.5], summing to 1), chosen on the very windows it is scored on. No rule that learns from past
   windows can do better than this on these windows.
4. Online: simplex weights over {recal, CBPE} and {recal, CBPE, features}, learned before each window
   from the realised errors of the 8 windows before it (squared loss, shrunk towards equal weights),
   which is more than the runner knows today (it learns from re-estimated past windows).
5. Leave-one-out bound on F1: a linear correction of CBPE's F1 by the window's label-free figures (CBPE's F1,
   recal's F1, the flagged share, the mean score and the mean flagged score), fitted on every *other*
   window's realised F1 (past and future), and fitted online on the windows before (from the 9th on).
   If no such correction beats CBPE's own F1, no label-free figure of the window carries what it misses.
6. Lag correction: CBPE minus a share k of its own error on the window before, measured on that window's
   rows whose outcomes were known by this window's start (flights: a day's delay; churn's month-long delay
   leaves none). It wins only if CBPE's errors persist from one window to the next (the autocorrelation).

Exit status is 0. Results are in bench/RESULTS.md (sessions 11, 13 and 15).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.stdout.reconfigure(line_buffering=True)

import argparse  # noqa: E402
import itertools  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from bench.estimate import demo_store  # noqa: E402
from bench.estimate import realised_of  # noqa: E402
from core.monitoring.cbpe import expected_metrics  # noqa: E402
from core.monitoring.cbpe import fit_calibrator  # noqa: E402
from core.monitoring.estimate import ESTIMATED  # noqa: E402
from core.monitoring.estimate import Estimator  # noqa: E402
from core.monitoring.runner import calibration_rows  # noqa: E402
from core.monitoring.runner import version_context  # noqa: E402
from core.monitoring.thresholds import Thresholds  # noqa: E402
from core.monitoring.windows import make_window  # noqa: E402
from core.monitoring.windows import next_start  # noqa: E402
from core.monitoring.windows import window_start  # noqa: E402
from core.store import Store  # noqa: E402

CASES = {
    "flights by week": ("flights", None),
    "flights by month": ("flights", "month"),
    "churn by month": ("churn", None),
}
BASE_KINDS = ("cbpe", "recal", "ours", "features", "tpr_hybrid", "intercept", "within")
PAPE_KINDS = ("pape_val", "pape_pool", "pape_aged")
LAG_SHARES = (0.25, 0.5, 0.75, 1.0)
RIDGE = 1.0
ONLINE_WINDOWS = 8


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class FeatureCalibration:
    """Log-odds plus standardised numeric inputs, scaled by the validation rows' mean and spread."""

    def __init__(self, validation: pd.DataFrame) -> None:
        self.columns = [
            c for c in validation.columns if not c.startswith("_") and pd.api.types.is_numeric_dtype(validation[c])
        ]
        self.mean = validation[self.columns].mean()
        self.spread = validation[self.columns].std().replace(0, 1).fillna(1)

    def design(self, frame: pd.DataFrame) -> np.ndarray:
        z = ((frame[self.columns] - self.mean) / self.spread).fillna(0).clip(-5, 5).to_numpy(float)
        return np.column_stack([_logit(frame["_probability"].to_numpy(float)), np.ones(len(frame)), z])

    def fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Weighted logistic regression by Newton's method; the inputs' coefficients shrink towards 0."""
        beta = np.zeros(x.shape[1])
        beta[0] = 1.0
        prior = beta.copy()
        ridge = np.full(x.shape[1], RIDGE)
        ridge[:2] = 0.0
        for _ in range(50):
            q = 1 / (1 + np.exp(-x @ beta))
            h = (x * (w * q * (1 - q) + 1e-9)[:, None]).T @ x + np.diag(ridge) + 1e-8 * np.eye(len(beta))
            step = np.linalg.solve(h, x.T @ (w * (q - y)) + ridge * (beta - prior))
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return beta


def _age_weights(est: Estimator, start: pd.Timestamp, length, rows: pd.DataFrame, n_recent: int) -> np.ndarray:
    """The recalibration's age weights: halving every `estimate_half_life_windows` windows, the validation rows
    (after the first `n_recent`) all as old as the newest of them."""
    age = ((start - pd.to_datetime(rows["_ts"])) / length).to_numpy(float, copy=True)
    age[n_recent:] = (start - pd.to_datetime(est.validation["_ts"]).max()) / length
    return 0.5 ** (age / est.thresholds.estimate_half_life_windows)


def features_estimate(
    est: Estimator, feat: FeatureCalibration, window, frame: pd.DataFrame, past: list[pd.DataFrame], threshold: float
) -> dict[str, float]:
    start = pd.Timestamp(window.start)
    length = next_start(start, est.window_size) - start
    known = [p[p["_label"].notna() & (pd.to_datetime(p["_label_ts"]) <= start)] for p in past]
    rows = pd.concat([*known, est.validation], ignore_index=True)
    n_recent = sum(len(k) for k in known)
    w = _age_weights(est, start, length, rows, n_recent)
    w = w / w.sum() * min(len(w), est.thresholds.estimate_calibration_rows)
    beta = feat.fit(feat.design(rows), rows["_label"].to_numpy(float), w)
    q = 1 / (1 + np.exp(-feat.design(frame) @ beta))
    return expected_metrics(frame["_probability"].to_numpy(float), q, threshold=threshold)


def tpr_hybrid(est: Estimator, combined, frame: pd.DataFrame, threshold: float) -> dict[str, float]:
    score = frame["_probability"].to_numpy(float)
    flagged = score >= threshold
    share = float(flagged.mean())
    qv, qr = est.base(score), combined.calibrator(score)
    tpr = qv[flagged].sum() / qv.sum()
    positive = float(qr.mean())
    tp = tpr * positive
    return {
        "accuracy": 1 - (share - tp) - (positive - tp),
        "f1": 2 * tp / (share + positive),
        "roc_auc": combined.metrics["roc_auc"],
    }


def _evidence(est: Estimator, window, recent: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The recalibration's evidence as `Estimator.calibrator` weighs it: log-odds, outcomes, weights, and a group
    per past window (the validation rows are the last group)."""
    start = pd.Timestamp(window.start)
    length = next_start(start, est.window_size) - start
    val = est.validation
    half_life = est.thresholds.estimate_half_life_windows
    age = ((start - pd.to_datetime(recent["_ts"])) / length).to_numpy(float)
    val_age = (start - pd.to_datetime(val["_ts"]).max()) / length
    stands_for = recent["_weight"].to_numpy(float) if "_weight" in recent else 1.0
    x = _logit(np.concatenate([recent["_probability"].to_numpy(float), val["_probability"].to_numpy(float)]))
    y = np.concatenate([recent["_label"].to_numpy(float), val["_label"].to_numpy(float)])
    w = np.concatenate([stands_for * 0.5 ** (age / half_life), np.full(len(val), 0.5 ** (val_age / half_life))])
    codes, uniques = pd.factorize(window_start(pd.to_datetime(recent["_ts"]), est.window_size))
    return x, y, w, np.concatenate([codes, np.full(len(val), len(uniques))])


def intercept_estimate(est: Estimator, window, frame: pd.DataFrame, recent: pd.DataFrame, threshold: float):
    """Recalibrate the validation calibration's intercept alone on the recent evidence."""
    x, y, w, _ = _evidence(est, window, recent)
    base = est.base.a * x + est.base.b
    shift = 0.0
    for _ in range(50):
        q = 1 / (1 + np.exp(-(base + shift)))
        step = np.sum(w * (q - y)) / (np.sum(w * q * (1 - q)) + 1e-9)
        shift -= step
        if abs(step) < 1e-10:
            break
    score = frame["_probability"].to_numpy(float)
    q = 1 / (1 + np.exp(-(est.base.a * _logit(score) + est.base.b + shift)))
    return expected_metrics(score, q, threshold=threshold)


def within_estimate(est: Estimator, window, frame: pd.DataFrame, recent: pd.DataFrame, threshold: float):
    """Platt with one intercept per past window and a shared slope (Newton, the intercepts eliminated by their
    Schur complement); the window gets the evidence-weighted mean intercept."""
    x, y, w, group = _evidence(est, window, recent)
    n_groups = int(group.max()) + 1
    a, b = 1.0, np.zeros(n_groups)
    for _ in range(60):
        q = 1 / (1 + np.exp(-(a * x + b[group])))
        r, h = w * (q - y), w * q * (1 - q) + 1e-9
        g_a, g_b = np.sum(r * x), np.bincount(group, r, n_groups)
        h_aa, h_ab = np.sum(h * x * x) + 1e-6, np.bincount(group, h * x, n_groups)
        h_bb = np.bincount(group, h, n_groups) + 1e-6
        d_a = (g_a - np.sum(h_ab * g_b / h_bb)) / (h_aa - np.sum(h_ab**2 / h_bb))
        d_b = (g_b - h_ab * d_a) / h_bb
        a, b = a - d_a, b - d_b
        if max(abs(d_a), np.abs(d_b).max()) < 1e-8:
            break
    mass = np.bincount(group, w, n_groups)
    score = frame["_probability"].to_numpy(float)
    q = 1 / (1 + np.exp(-(a * _logit(score) + np.sum(mass * b) / np.sum(mass))))
    return expected_metrics(score, q, threshold=threshold)


def _domain_columns(est: Estimator) -> tuple[list[str], list[str]]:
    """The model's inputs in the validation rows: numbers, and the rest (categories)."""
    inputs = [c for c in est.validation.columns if not c.startswith("_")]
    numeric = [c for c in inputs if pd.api.types.is_numeric_dtype(est.validation[c])]
    return numeric, [c for c in inputs if c not in numeric]


def density_ratio(est: Estimator, pool: pd.DataFrame, frame: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """How much more like the window than like the pool each pool row looks, from the inputs alone.

    A classifier tells the pool's rows from the window's; a pool row's odds of being a window row, scaled by
    the two sizes, is its importance weight (NannyML's PAPE). Two folds, so a pool row's weight comes from a
    classifier that did not see it; clipped at 50 so a few rows cannot carry the fit."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    numeric, categorical = _domain_columns(est)
    both = pd.concat([pool[numeric + categorical], frame[numeric + categorical]], ignore_index=True)
    cols = [both[c].to_numpy(float) for c in numeric]
    for c in categorical:
        codes, _ = pd.factorize(both[c].astype("string"), sort=True)
        cols.append(np.where(codes < 0, np.nan, np.minimum(codes, 250)).astype(float))
    x = np.column_stack(cols)
    is_window = np.r_[np.zeros(len(pool)), np.ones(len(frame))]
    fold = np.random.default_rng(seed).integers(0, 2, len(x))
    odds = np.zeros(len(pool))
    for k in (0, 1):
        clf = HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.1,
            max_leaf_nodes=15,
            min_samples_leaf=100,
            categorical_features=[False] * len(numeric) + [True] * len(categorical),
            random_state=seed,
        )
        train = fold != k
        clf.fit(x[train], is_window[train])
        target = fold[: len(pool)] == k
        p = np.clip(clf.predict_proba(x[: len(pool)][target])[:, 1], 1e-4, 1 - 1e-4)
        odds[target] = p / (1 - p)
    ratio = odds * len(pool) / len(frame)
    return np.clip(ratio, 0, 50)


def pape_estimate(
    est: Estimator, window, frame: pd.DataFrame, past: list[pd.DataFrame], threshold: float, *, recent: bool, aged: bool
) -> dict[str, float]:
    """Platt fitted on labelled pool rows weighted by their density ratio to the window (PAPE).

    The pool is the validation rows, with `recent` also the answered rows of the windows before (known by the
    window's start); with `aged` the ratio is multiplied by the recalibration's age weights."""
    start = pd.Timestamp(window.start)
    length = next_start(start, est.window_size) - start
    val = est.validation[est.validation["_label"].notna()]
    known = [p[p["_label"].notna() & (pd.to_datetime(p["_label_ts"]) <= start)] for p in past] if recent else []
    pool = pd.concat([*known, val], ignore_index=True)
    w = density_ratio(est, pool, frame)
    if aged:
        w = w * _age_weights(est, start, length, pool, len(pool) - len(val))
    cal = fit_calibrator(pool["_probability"].to_numpy(float), pool["_label"].to_numpy(float), source="pape", weights=w)
    score = frame["_probability"].to_numpy(float)
    q = cal(score) if cal is not None else est.base(score)
    out = expected_metrics(score, q, threshold=threshold)
    out["ess"] = float(w.sum() ** 2 / np.sum(w**2)) if w.sum() > 0 else 0.0
    return out


def windows_of(store: Store, name: str, size: str | None, *, pape: bool = False) -> pd.DataFrame:
    """One row per labelled window: the realised metrics, every estimate, and F1's parts."""
    th = Thresholds()
    base = store.get_spec(name)
    spec = base if size in (None, base.window) else base.model_copy(update={"window": size})
    info = store.live_version(name)
    ctx = version_context(store, spec, info, th)
    est, t = ctx.estimator, ctx.threshold
    feat = FeatureCalibration(est.validation)
    frames: list[pd.DataFrame] = []
    out = []
    for fp in store.window_fingerprints(spec=spec).sort_values("window_start").itertuples():
        if fp.n_rows < spec.min_rows:
            continue
        window = make_window(fp.window_start, spec.window)
        frame = store.read_window(spec=spec, version=info.version, start=window.start, end=window.end)
        past = frames[-th.estimate_lookback_windows :]
        frames.append(frame)
        recent = calibration_rows(store, ctx, window)
        combined = est.estimate(window, frame, recent)
        if combined is None or fp.n_labels < th.min_labels:
            continue
        real = realised_of(frame, t)
        guesses = {
            "cbpe": combined.validation_only,
            "recal": combined.recalibrated,
            "ours": combined.metrics,
            "features": features_estimate(est, feat, window, frame, past, t),
            "tpr_hybrid": tpr_hybrid(est, combined, frame, t),
            "intercept": intercept_estimate(est, window, frame, recent, t),
            "within": within_estimate(est, window, frame, recent, t),
        }
        if pape:
            guesses["pape_val"] = pape_estimate(est, window, frame, past, t, recent=False, aged=False)
            guesses["pape_pool"] = pape_estimate(est, window, frame, past, t, recent=True, aged=False)
            guesses["pape_aged"] = pape_estimate(est, window, frame, past, t, recent=True, aged=True)
        row = {"window": pd.Timestamp(fp.window_start)}
        start_ts = pd.Timestamp(window.start)
        for kind in PAPE_KINDS if pape else ():
            row[("ess", kind)] = guesses[kind].pop("ess")
        # CBPE's error on the window before, measured on its rows whose outcomes were known by this window's start
        before = past[-1] if past else None
        known = (
            None
            if before is None
            else before[before["_label"].notna() & (pd.to_datetime(before["_label_ts"]) <= start_ts)]
        )
        if known is not None and len(known) >= th.min_labels and est.base is not None:
            ks = known["_probability"].to_numpy(float)
            lag = expected_metrics(ks, est.base(ks), threshold=t)
            lag_real = realised_of(known, t)
            for m in ESTIMATED:
                row[(m, "lag_error")] = lag[m] - lag_real[m]
                row[(m, "lag_real")] = lag_real[m]
        for m in ESTIMATED:
            row[(m, "real")] = real[m]
            for kind, values in guesses.items():
                row[(m, kind)] = values[m]
        # F1's parts: flagged share, precision and positive rate, realised (answered rows) and by CBPE
        score = frame["_probability"].to_numpy(float)
        answered = frame["_label"].notna().to_numpy()
        y = frame["_label"].to_numpy(float)
        flagged = score >= t
        q = est.base(score)
        share, precision, positive = float(flagged.mean()), float(q[flagged].mean()), float(q.mean())
        real_precision = float(y[answered & flagged].mean()) if (answered & flagged).any() else np.nan
        real_positive = float(y[answered].mean())
        row[("signal", "flagged")] = share
        row[("signal", "mean_score")] = float(score.mean())
        row[("signal", "mean_flagged_score")] = float(score[flagged].mean()) if flagged.any() else 0.0
        row[("f1", "cbpe_real_precision")] = 2 * share * real_precision / (share + positive)
        row[("f1", "cbpe_real_positive")] = 2 * share * precision / (share + real_positive)
        row[("part", "precision_error")] = precision - real_precision
        row[("part", "positive_error")] = positive - real_positive
        out.append(row)
    return pd.DataFrame(out)


def hindsight(errors: dict[str, np.ndarray]) -> tuple[float, dict[str, float]]:
    """Lowest MAE of a fixed affine blend of `errors` (grid weights in [-0.5, 1.5] summing to 1)."""
    kinds = list(errors)
    grid = np.arange(-0.5, 1.5001, 0.125)
    best = (float("inf"), {})
    for rest in itertools.product(grid, repeat=len(kinds) - 1):
        weights = (1 - sum(rest), *rest)
        mae = float(np.abs(sum(w * errors[k] for w, k in zip(weights, kinds, strict=True))).mean())
        if mae < best[0]:
            best = (mae, dict(zip(kinds, weights, strict=True)))
    return best


def online(errors: np.ndarray) -> float:
    """MAE of a blend whose simplex weights are learned before each window from the windows before it."""
    k = errors.shape[1]
    prior = np.full(k, 1 / k)
    maes = []
    for i in range(len(errors)):
        past = errors[max(0, i - ONLINE_WINDOWS) : i]
        w = prior
        if len(past):
            shrink = float(np.mean(past**2)) + 1e-12
            fit = minimize(
                lambda v, past=past, shrink=shrink: np.sum((past @ v) ** 2) + shrink * k * np.sum((v - prior) ** 2),
                prior,
                bounds=[(0, 1)] * k,
                constraints=({"type": "eq", "fun": lambda v: v.sum() - 1},),
                method="SLSQP",
            )
            w = fit.x
        maes.append(abs(errors[i] @ w))
    return float(np.mean(maes))


LOO_SIGNALS = {
    "CBPE": [("f1", "cbpe")],
    "CBPE + recal": [("f1", "cbpe"), ("f1", "recal")],
    "CBPE + flagged share": [("f1", "cbpe"), ("signal", "flagged")],
    "all five": [
        ("f1", "cbpe"),
        ("f1", "recal"),
        ("signal", "flagged"),
        ("signal", "mean_score"),
        ("signal", "mean_flagged_score"),
    ],
}
FIRST_ONLINE = 8


def corrections(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> tuple[float, float, float]:
    """MAE of a least-squares linear correction of the realised F1 from `columns`: fitted leaving each window out,
    and fitted on the windows before it (from window FIRST_ONLINE + 1 on), with CBPE's MAE on those same windows."""
    x = np.column_stack([np.ones(len(frame))] + [frame[c].to_numpy(float) for c in columns])
    y = frame[("f1", "real")].to_numpy(float)
    loo, ahead = [], []
    for k in range(len(frame)):
        others = np.arange(len(frame)) != k
        loo.append(abs(x[k] @ np.linalg.lstsq(x[others], y[others], rcond=None)[0] - y[k]))
        if k >= FIRST_ONLINE:
            ahead.append(abs(x[k] @ np.linalg.lstsq(x[:k], y[:k], rcond=None)[0] - y[k]))
    cbpe_late = float(np.abs(frame[("f1", "cbpe")] - frame[("f1", "real")]).to_numpy()[FIRST_ONLINE:].mean())
    return float(np.mean(loo)), float(np.mean(ahead)) if ahead else float("nan"), cbpe_late


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=None, help="a demo store seeded with monitor=True")
    parser.add_argument("--pape", action="store_true", help="also the density-ratio estimates (slow: 2 fits a window)")
    args = parser.parse_args()
    print("ModelPulse bench/estimate_leads.py")
    with tempfile.TemporaryDirectory(prefix="mp-bench-leads-") as tmp:
        with Store.open(demo_store(args.store, Path(tmp)), read_only=True) as store:
            cases = {label: windows_of(store, *source, pape=args.pape) for label, source in CASES.items()}
    kinds = BASE_KINDS + (PAPE_KINDS if args.pape else ())
    print("\n1. MAE against the realised value (outcomes known only before each window began)")
    print(f"{'case':17} {'metric':8} {'win':>3} " + " ".join(f"{k:>10}" for k in kinds))
    for label, frame in cases.items():
        for m in ESTIMATED:
            mae = [float((frame[(m, k)] - frame[(m, "real")]).abs().mean()) for k in kinds]
            print(f"{label:17} {m:8} {len(frame):>3} " + " ".join(f"{v:>10.4f}" for v in mae))
    print("\n1b. PAPE's effective sample size (mean over windows; the pool's rows weighted by their density ratio)")
    for label, frame in cases.items() if args.pape else ():
        shown = " | ".join(f"{k} {frame[('ess', k)].mean():,.0f}" for k in ("pape_val", "pape_pool", "pape_aged"))
        print(f"{label:17} {shown}")
    print("\n2. CBPE's F1 error taken apart (MAE; F1 = 2 * flagged * precision / (flagged + positive rate))")
    for label, frame in cases.items():
        real = frame[("f1", "real")]
        parts = {
            k: float((frame[("f1", k)] - real).abs().mean())
            for k in ("cbpe", "cbpe_real_precision", "cbpe_real_positive")
        }
        corr = float(np.corrcoef(frame[("part", "precision_error")], frame[("part", "positive_error")])[0, 1])
        print(
            f"{label:17} CBPE {parts['cbpe']:.4f} | with the realised precision {parts['cbpe_real_precision']:.4f}"
            f" | with the realised positive rate {parts['cbpe_real_positive']:.4f} | precision error MAE "
            f"{frame[('part', 'precision_error')].abs().mean():.3f}, positive-rate error MAE "
            f"{frame[('part', 'positive_error')].abs().mean():.3f}, their correlation {corr:+.2f}"
        )
    print("\n3. Hindsight: the best fixed blend of cbpe, recal, features and tpr hybrid, fitted on the windows scored")
    print("4. Online: simplex weights learned from the realised errors of the 8 windows before each window")
    print(f"{'case':17} {'metric':8} {'CBPE':>7} {'hindsight':>9}  {'online recal+cbpe':>17} {'+features':>9}  weights")
    for label, frame in cases.items():
        for m in ESTIMATED:
            err = {
                k: (frame[(m, k)] - frame[(m, "real")]).to_numpy(float)
                for k in ("cbpe", "recal", "features", "tpr_hybrid")
            }
            bound, weights = hindsight(err)
            two = online(np.column_stack([err["recal"], err["cbpe"]]))
            three = online(np.column_stack([err["recal"], err["cbpe"], err["features"]]))
            shown = " ".join(f"{k} {w:+.3f}" for k, w in weights.items())
            print(
                f"{label:17} {m:8} {np.abs(err['cbpe']).mean():>7.4f} {bound:>9.4f}  {two:>17.4f} {three:>9.4f}"
                f"  {shown}"
            )
    print("\n5. F1 corrected by the window's label-free figures (MAE): leave-one-out / online, CBPE alongside")
    print(f"{'case':17} {'from':22} {'CBPE':>7} {'leave-one-out':>13} {'online':>7} {'CBPE on those':>13}")
    for label, frame in cases.items():
        if len(frame) <= FIRST_ONLINE + 2:
            continue  # too few windows to fit five coefficients
        cbpe = float(np.abs(frame[("f1", "cbpe")] - frame[("f1", "real")]).mean())
        for name, columns in LOO_SIGNALS.items():
            loo, ahead, late = corrections(frame, columns)
            print(f"{label:17} {name:22} {cbpe:>7.4f} {loo:>13.4f} {ahead:>7.4f} {late:>13.4f}")
    print("\n6. CBPE corrected by a share of its own error on the window before (outcomes known by the start), MAE")
    print(
        f"{'case':17} {'metric':8} {'win':>3} {'CBPE':>7} {'ours':>7} {'last real':>9} {'autocorr':>8} "
        + " ".join(f"{f'k={k}':>7}" for k in LAG_SHARES)
    )
    for label, frame in cases.items():
        for m in ESTIMATED:
            if (m, "lag_error") not in frame:
                continue
            f = frame[frame[(m, "lag_error")].notna()]
            real = f[(m, "real")]
            err = (f[(m, "cbpe")] - real).to_numpy(float)
            lag = f[(m, "lag_error")].to_numpy(float)
            auto = float(np.corrcoef(err, lag)[0, 1])
            shown = " ".join(f"{np.abs(err - k * lag).mean():>7.4f}" for k in LAG_SHARES)
            print(
                f"{label:17} {m:8} {len(f):>3} {np.abs(err).mean():>7.4f} {(f[(m, 'ours')] - real).abs().mean():>7.4f}"
                f" {(f[(m, 'lag_real')] - real).abs().mean():>9.4f} {auto:>+8.2f} {shown}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
