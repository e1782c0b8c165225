"""Evidently where a data person expects it: our stored quality and overfitting figures equal Evidently's own
metrics on the same stored rows, and any window opens as Evidently's own report.

Tolerance: 1e-6 on every figure (the two sides sum the same rows in another order). Two conventions differ
and are checked as such: with no case flagged positive our precision cannot be computed (stored as empty)
where Evidently, through scikit-learn's zero_division, says 0; with outcomes of one class only, ranking
quality cannot be computed on either side.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from core.metrics import PRIMARY
from core.monitoring.evidently_adapter import quality_figures
from core.monitoring.evidently_window import window_report
from core.monitoring.validity import usable
from core.monitoring.windows import make_window
from core.store import Store

TOLERANCE = 1e-6


def _agree(ours: float | None, theirs: float, *, metric: str, rows) -> None:
    if ours is None or np.isnan(ours):
        if metric == "precision":  # nothing flagged: ours is undefined, scikit-learn's zero_division gives 0
            assert theirs == 0.0 and not (rows["_probability"] >= 0.5).any()
        elif metric == "roc_auc":
            assert np.isnan(theirs) and rows["_label"].nunique() < 2
        elif metric == "mape":  # ours refuses a true value of zero
            assert (rows["_label"].abs() <= 1e-9).any()
        else:
            raise AssertionError(f"{metric}: ours is empty, Evidently says {theirs}")
        return
    assert theirs == pytest.approx(ours, abs=TOLERANCE), metric


def _numeric(spec) -> list[str]:
    money = [c for c in (spec.business.value_column, spec.business.quantity_column) if c]
    return list(dict.fromkeys([*spec.numerical, *money]))


@pytest.mark.parametrize("model", ["churn", "hotel", "flights"])
def test_stored_quality_and_overfitting_equal_evidentlys_metrics_on_every_demo_window(demo_settings, model):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec(model)
        compared = 0
        for info in store.list_versions(model):
            results = store.read_results(model=model, version=info.version)
            reference, _ = usable(
                spec,
                store.read_reference(spec=spec, reference_set=info.reference_set, version=info.version),
                _numeric(spec),
            )
            # overfitting: training against validation, each side's figure against Evidently's on those rows
            gap = results[(results["check"] == "overfitting") & (results["metric"] == "train_validation")]
            for _, row in gap.iterrows():
                metric = row["column"]
                for split, stored in (("train", row["reference"]), ("validation", row["upper"])):
                    part = reference[(reference["_split"] == split) & reference["_label"].notna()]
                    _agree(stored, quality_figures(task=spec.task, frame=part)[metric], metric=metric, rows=part)
                    compared += 1
            perf = results[(results["check"] == "performance") & results["window_start"].notna()]
            for start, checks in perf.groupby("window_start"):
                if checks["status"].eq("no_labels").all():
                    continue
                window = make_window(start, spec.window)
                rows, _ = usable(
                    spec,
                    store.read_window(spec=spec, version=info.version, start=window.start, end=window.end),
                    _numeric(spec),
                )
                labelled = rows[rows["_label"].notna()]
                theirs = quality_figures(task=spec.task, frame=rows)
                assert set(checks["metric"]) == set(theirs)
                assert (checks["n_rows"] == len(labelled)).all()
                for _, check in checks.iterrows():
                    _agree(check["value"], theirs[check["metric"]], metric=check["metric"], rows=labelled)
                    compared += 1
                # production against validation: the production side is the window's primary figure
                vp = results[(results["check"] == "overfitting") & (results["metric"] == "validation_production")]
                for _, row in vp[vp["window_start"] == start].iterrows():
                    _agree(row["upper"], theirs[PRIMARY[spec.task]], metric=PRIMARY[spec.task], rows=labelled)
                    compared += 1
    assert compared >= 20


@pytest.mark.parametrize(
    ("model", "titles"),
    [
        ("churn", ["RocAuc metric (current)", "Current: Model Quality Metrics", "Current: Precision-Recall Table"]),
        (
            "hotel",
            ["R2 Score (current)", "Mean Absolute Percentage Error: Current", "Current: Model Quality (+/- std)"],
        ),
    ],
)
def test_a_window_opens_as_evidentlys_own_report(demo_settings, model, titles):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec(model)
        results = store.read_results(model=model, version=1, with_details=True)
        perf = results[(results["check"] == "performance") & results["value"].notna()]
        start = perf.sort_values(["n_rows", "window_start"]).iloc[-1]["window_start"]  # the most outcomes
        assert start in set(results[results["check"] == "drift"]["window_start"])
        html = window_report(store, model=model, version=1, start=start).decode("utf-8")
    for title in ["Data Drift", "DATA DRIFT", *titles]:
        assert title in html, title
    label = make_window(start, spec.window).label(spec.window)
    assert f"{spec.title} v1, {label}. Drift:" in html and "Model quality on the rows whose outcome arrived" in html
    # self-contained: Evidently's script and font inline, nothing loaded from elsewhere
    assert "<script src" not in html and "window.drawDashboard" in html and "data:font/ttf;base64," in html
    assert len(html) > 3_000_000
    # Evidently's own verdicts on this window are ours: the same inputs (and answers) drifted, except
    # those over the line that our chance test (core/monitoring/chance.py) found within luck
    here = results[results["window_start"] == start]
    drift = here[(here["check"] == "drift") & here["value"].notna()]
    answers = here[(here["check"] == "prediction_drift") & here["value"].notna()]
    luck = int(sum(bool(json.loads(d or "{}").get("chance")) for d in [*drift["details"], *answers["details"]]))
    ours = int((drift["status"] == "warn").sum() + (answers["status"] != "ok").sum()) + luck
    found = re.search(r"Drift is detected for [0-9.]+% of columns \((\d+) out of (\d+)\)", html)
    assert found is not None
    assert (int(found.group(1)), int(found.group(2))) == (ours, len(drift) + len(answers))
    assert json.loads(here[here["check"] == "drift_share"].iloc[0]["details"])["drifted"] is not None
