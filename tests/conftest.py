"""Shared fixtures: small real slices of the demo data, a reduced seeded store, settings on tmp paths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import REPO_ROOT
from core.config import Settings
from core.demo.datasets import CHURN
from core.errors import DataError
from core.intake.mapping import Mapping
from core.schema import BusinessConfig
from core.store import Store

pytest_plugins = ["tests.lakes"]  # lake_server, lake_settings, any_settings: stores on DuckLake for any test

# a reduced demo: every model, a fraction of the rows, few epochs. Enough to exercise every path.
REDUCED_FRACTION = {"churn": 1.0, "hotel": 0.5, "flights": 0.12}
REDUCED_EPOCHS = 4
REDUCED_DAYS = 120  # production replayed: 4 months of churn, ~17 weeks of hotel and flights


def make_settings(root: Path) -> Settings:
    """Settings whose store and model files live under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    return Settings.under(root / "modelpulse.duckdb", seed=7, threads=2)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "mp")


def seed_reduced_demo(root: Path) -> Settings:
    """Seed the reduced demo (monitoring included) under `root`; the same-behaviour snapshot is taken of it."""
    from core.demo.seed import seed_demo

    cfg = make_settings(root)
    seed_demo(
        settings=cfg,
        fraction=REDUCED_FRACTION,
        max_epochs=REDUCED_EPOCHS,
        production_days=REDUCED_DAYS,
        monitor=True,
        progress=lambda _: None,
    )
    return cfg


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A reduced demo, seeded once per test session (monitoring included)."""
    return seed_reduced_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def demo_env(demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point MODELPULSE_* at the reduced demo for code that reads settings from the environment."""
    monkeypatch.setenv("MODELPULSE_DB", str(demo_settings.db_path))
    monkeypatch.setenv("MODELPULSE_MODELS_DIR", str(demo_settings.models_dir))
    monkeypatch.setenv("MODELPULSE_INBOX", str(demo_settings.inbox_dir))
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    monkeypatch.setenv("MODELPULSE_INBOX_POLL", "0")
    monkeypatch.setenv("MODELPULSE_SCHEDULER", "off")  # the shared demo store takes no scheduler's writes
    return demo_settings


@pytest.fixture
def copied(demo_settings, tmp_path):
    """A private copy of the reduced demo store (so writes here touch no other test)."""
    cfg = make_settings(tmp_path / "copy")
    shutil.copy(demo_settings.db_path, cfg.db_path)
    shutil.copytree(demo_settings.models_dir, cfg.models_dir)
    return cfg


def app_on(monkeypatch: pytest.MonkeyPatch, cfg: Settings) -> None:
    """Point the app (under AppTest) at the store and model files of `cfg`: no inbox watcher, no scheduler, no
    secrets file and no password."""
    for key, value in {
        "MODELPULSE_DB": str(cfg.db_path),
        "MODELPULSE_MODELS_DIR": str(cfg.models_dir),
        "MODELPULSE_INBOX": str(cfg.inbox_dir),
        "MODELPULSE_INBOX_POLL": "0",
        "MODELPULSE_SCHEDULER": "off",
        "MODELPULSE_SECRETS": str(cfg.db_path.parent / "none.toml"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)


def churn_batch(n: int = 300) -> pd.DataFrame:
    """Real churn rows as a customer would send them: new ids, a signup time, features, the outcome."""
    frame = CHURN.load(REPO_ROOT / "data").head(n).copy()
    frame["customer_id"] = [f"NEW{i:04d}" for i in range(len(frame))]
    frame["signed_up_at"] = pd.Timestamp("2018-04-02") + pd.to_timedelta(np.arange(len(frame)) * 90, unit="m")
    return frame


@pytest.fixture(scope="module")
def churn_rows() -> pd.DataFrame:
    return churn_batch(300)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as the CSV file a founder would upload."""
    return frame.to_csv(index=False).encode("utf-8")


def counts(cfg) -> dict:
    """Row counts of every table of the store at `cfg`."""
    with Store.open(cfg.db_path, read_only=True) as s:
        return s.counts()


def refused(cfg, fn, match: str) -> str:
    """Run `fn(store)`, expect one DataError sentence containing `match`, and the store unchanged."""
    before = counts(cfg)
    with Store.open(cfg.db_path) as store, pytest.raises(DataError) as info:
        fn(store)
    assert counts(cfg) == before, "a refused file changed the store"
    message = info.value.user_message
    assert match in message, message
    assert "\n" not in message and "Traceback" not in message
    return message


def churn_mapping(**kw) -> Mapping:
    """The mapping a founder would pick for a churn export (`churn_batch`), with `kw` changed."""
    base = dict(
        name="acme_churn",
        title="Acme churn",
        task="binary",
        timestamp="signed_up_at",
        entity="customer_id",
        target="churn",
        numerical=("tenure", "monthly_charges"),
        categorical=("contract", "payment_method"),
        positive_class="Yes",
        window="month",
        business=BusinessConfig(
            kind="revenue_at_risk",
            value_column="monthly_charges",
            entity="customer",
            positive="customers who leave",
            unit="revenue",
        ),
    )
    base.update(kw)
    return Mapping(**base)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")  # evidently telemetry off
    os.environ.setdefault("MODELPULSE_THREADS", "2")
