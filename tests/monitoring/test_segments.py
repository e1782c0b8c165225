"""Segments on a real store: group statistics equal pandas' groupby on the same rows, groups add up to the
window, and a change planted in one group raises one alert that names that group and no other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.intake.create import create_external_model
from core.monitoring.segments import OTHER
from core.monitoring.segments import plan_segments
from core.monitoring.stats import pool
from core.refresh import refresh
from core.schema import BusinessConfig
from core.store import Store
from tests.conftest import churn_mapping
from tests.conftest import make_settings

WEEKS_REF, WEEKS_PROD = 12, 8
PLANTED = "Month-to-month"


def _frame(seed: int = 3) -> pd.DataFrame:
    """Weekly customers: churn 20% in every group, except month-to-month customers in production (55%)."""
    rng = np.random.default_rng(seed)
    n = 1_800 * (WEEKS_REF + WEEKS_PROD)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 7 * (WEEKS_REF + WEEKS_PROD), n), unit="D")
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.4, 0.35, 0.25])
    payment = rng.choice(["card", "bank", "check", "rare"], n, p=[0.45, 0.35, 0.19, 0.01])
    production = ts >= pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=WEEKS_REF)
    rate = np.where(production & (contract == PLANTED), 0.55, 0.20)
    churn = rng.random(n) < rate
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "signed_up_at": ts,
            "tenure": rng.integers(1, 72, n).astype(float),
            "monthly_charges": rng.uniform(20, 120, n).round(2),
            "contract": contract,
            "payment_method": payment,
            "p_churn": np.clip(0.2 + rng.normal(0, 0.05, n), 0.01, 0.99),
            "churn": np.where(churn, "Yes", "No"),
        }
    )


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    cfg = make_settings(tmp_path_factory.mktemp("segments"))
    frame = _frame()
    mapping = churn_mapping(
        name="seg_churn",
        window="week",
        probabilities=("p_churn",),
        business=BusinessConfig(
            kind="revenue_at_risk",
            value_column="monthly_charges",
            entity="customer",
            positive="customers who leave",
            unit="monthly revenue",
        ),
    )
    with Store.open(cfg.db_path, create=True) as store:
        spec = create_external_model(
            store=store,
            mapping=mapping,
            frame=frame,
            source="seg.csv",
            reference_start=pd.Timestamp("2024-01-01"),
            reference_end=pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=WEEKS_REF) - pd.Timedelta(seconds=1),
            settings=cfg,
        )
        refresh(store=store, settings=cfg, progress=lambda _: None)
    return cfg, spec, frame


def test_group_statistics_equal_pandas_groupby_and_add_up(monitored):
    cfg, spec, frame = monitored
    with Store.open(cfg.db_path, read_only=True) as store:
        stats = store.read_segment_stats(model=spec.name, version=1)
        windows = store.read_window_stats(model=spec.name, version=1)
    assert set(stats["column"]) >= {"contract", "payment_method", "tenure", "monthly_charges"}
    prod = frame[frame["signed_up_at"] >= pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=WEEKS_REF)]
    by_contract = stats[stats["column"] == "contract"]
    pooled = {seg: pool(list(g["stats"])) for seg, g in by_contract.groupby("segment")}
    expected = prod.groupby("contract").agg(
        n=("churn", "size"), left=("churn", lambda s: int((s == "Yes").sum())), value=("monthly_charges", "sum")
    )
    for seg, row in expected.iterrows():
        got = pooled[seg]
        assert got["n"] == row["n"]
        assert got["tp"] + got["fn"] == row["left"]
        assert got["value_total"] == pytest.approx(row["value"], rel=1e-9)
    # the payment method used by 1% of customers is pooled, never a group of its own
    payments = set(stats[stats["column"] == "payment_method"]["segment"])
    assert "rare" not in payments and OTHER in payments
    # every input's groups add up to each window: counts and money exactly
    for column, part in stats.groupby("column"):
        for start, groups in part.groupby("window_start"):
            whole = windows[windows["window_start"] == start].iloc[0]["stats"]
            summed = pool(list(groups["stats"]))
            assert summed["n"] == whole["n"], (column, start)
            assert summed["tp"] == whole["tp"] and summed["fn"] == whole["fn"], (column, start)
            assert summed["value_total"] == pytest.approx(whole["value_total"], rel=1e-9), (column, start)


def test_planted_group_change_raises_one_alert_naming_that_group_only(monitored):
    cfg, spec, _ = monitored
    with Store.open(cfg.db_path, read_only=True) as store:
        alerts = store.list_alerts(model=spec.name)
        results = store.read_results(model=spec.name, version=1, check="segment", with_details=True)
    segment = alerts[alerts["rule"] == "segment"]
    assert len(segment) == 1, alerts[["rule", "title"]]
    alert = segment.iloc[0]
    assert "contract Month-to-month" in alert["title"]
    assert "customers who leave among customers with contract Month-to-month" in alert["what"]
    assert "other group" not in alert["what"]
    for other in ("One year", "Two year", "card", "bank", "check", "tenure", "monthly charges"):
        assert other not in alert["title"] + alert["what"], other
    assert alert["cost_value"] > 0 and "of monthly revenue at risk" in alert["cost"]
    # the groups that did not change never fired in any window
    fired = results[results["status"].isin(["warn", "alert"])]
    assert set(fired["column"]) == {"contract"}
    assert {__import__("json").loads(d)["segment"] for d in fired["details"]} == {PLANTED}


def test_numeric_inputs_split_at_reference_quartiles():
    frame = _frame().head(4_000)
    spec_like = churn_mapping(probabilities=("p_churn",))
    from core.intake.mapping import validate_model_file

    parts = validate_model_file(spec_like, frame, source="x.csv", external=True, limits=make_settings_limits())
    plans = {p.column: p for p in plan_segments(parts.spec, frame, ["tenure", "contract"])}
    tenure = plans["tenure"]
    assert len(tenure.labels) == 4 and tenure.labels[0].startswith("under ")
    shares = pd.Series(tenure.assign(frame["tenure"])).value_counts(normalize=True)
    assert shares.max() < 0.30 and shares.min() > 0.20  # quartiles: about a quarter each
    assert set(plans["contract"].assign(frame["contract"])) == {"Month-to-month", "One year", "Two year"}


def make_settings_limits():
    from core.config import load_settings

    return load_settings().limits


def test_views_read_groups_that_add_up_and_rank_the_planted_change_first(monitored):
    from core.views.cohorts import cohort_sentence
    from core.views.cohorts import cohort_table
    from core.views.movers import what_changed
    from core.views.segments import propose_columns
    from core.views.segments import segment_table

    cfg, spec, frame = monitored
    with Store.open(cfg.db_path, read_only=True) as store:
        table = segment_table(store, spec, version=1, column="contract")
        windows = store.read_window_stats(model=spec.name, version=1)
        proposals = propose_columns(store, spec, version=1)
        cohorts = cohort_table(store, spec, version=1)
        movers = what_changed(store, spec, version=1, period="week")
    total = pool(list(windows["stats"]))
    assert table["n"].sum() == total["n"] and table["n_labelled"].sum() == total["n_labelled"]
    assert table["share"].sum() == pytest.approx(1.0)
    # rates are pooled from counts: the groups' rates weighted by their outcomes give the model's own rate
    overall = (total["tp"] + total["fn"]) / total["n_labelled"]
    assert (table["outcome_rate"] * table["n_labelled"]).sum() / table["n_labelled"].sum() == pytest.approx(overall)
    m2m = table.set_index("segment").loc[PLANTED]
    assert m2m["outcome_rate"] > 0.5 and m2m["reference_outcome"] < 0.25
    # churn differs by contract and by nothing else: contract is proposed first
    assert proposals and proposals[0].column == "contract"
    assert "Month-to-month" in proposals[0].sentence
    # cohorts: months of production add up to the model's traffic
    assert cohorts.table["n"].sum() == total["n"]
    assert cohort_sentence(spec, cohorts) is not None
    # what changed: week to week, nothing was planted, so no group moves by more than chance allows
    assert all(abs(m.after - m.before) < 0.2 for m in movers)


def test_what_changed_ranks_a_group_that_moved_between_weeks_first(tmp_path):
    from core.views.movers import what_changed

    cfg = make_settings(tmp_path / "movers")
    frame = _frame(seed=5)
    newest = frame["signed_up_at"].max().normalize()
    last_week = frame["signed_up_at"] >= newest - pd.Timedelta(days=newest.weekday())
    bank = last_week & (frame["payment_method"] == "bank")
    rng = np.random.default_rng(9)
    frame.loc[bank, "churn"] = np.where(rng.random(int(bank.sum())) < 0.8, "Yes", "No")
    with Store.open(cfg.db_path, create=True) as store:
        spec = create_external_model(
            store=store,
            mapping=churn_mapping(name="seg_movers", window="week", probabilities=("p_churn",)),
            frame=frame,
            source="m.csv",
            reference_start=pd.Timestamp("2024-01-01"),
            reference_end=pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=WEEKS_REF) - pd.Timedelta(seconds=1),
            settings=cfg,
        )
        refresh(store=store, settings=cfg, progress=lambda _: None)
        movers = what_changed(store, spec, version=1, period="week")
    assert movers, "nothing moved"
    top = movers[0]
    assert (top.column, top.segment) == ("payment_method", "bank"), movers[:3]
    assert top.after > top.before + 0.3 and top.money > 0
    assert "Customers with payment method bank: customers who leave rose from" in top.sentence
    assert [m.money for m in movers] == sorted((m.money for m in movers), key=lambda v: -abs(v))


def test_same_distribution_windows_raise_no_segment_alert_however_many_groups(monitored):
    from core.monitoring.segments import segment_checks
    from core.monitoring.segments import segment_stats
    from core.monitoring.thresholds import Thresholds

    _, spec, _ = monitored
    rng = np.random.default_rng(11)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "tenure": rng.integers(1, 72, n).astype(float),
                "monthly_charges": rng.uniform(20, 120, n),
                "contract": rng.choice(["Month-to-month", "One year", "Two year"], n),
                "payment_method": rng.choice(["card", "bank", "check"], n),
                "_probability": rng.uniform(0, 1, n),
                "_label": (rng.random(n) < 0.2).astype(float),
            }
        )

    reference = draw(20_000)
    plans = plan_segments(spec, reference, ["tenure", "monthly_charges", "contract", "payment_method"])
    ref_stats = {(c, g): s for c, g, s in segment_stats(spec, plans, reference, threshold=0.5)}
    fired = 0
    for _ in range(150):
        window = draw(1_000)
        checks = segment_checks(
            spec=spec,
            plans=plans,
            current=window,
            reference=reference,
            current_stats=segment_stats(spec, plans, window, threshold=0.5),
            reference_stats=ref_stats,
            thresholds=Thresholds(segment_shift=Thresholds().segment_shift.__class__(warn=0.02, alert=0.2)),
            threshold=0.5,
        )
        fired += any(c.failed for c in checks)
    # 14 groups judged per window: at 3 standard errors each about 1 window in 50 would fire by chance
    assert fired <= 1, fired
