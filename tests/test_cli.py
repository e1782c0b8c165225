"""`python -m core`: status, alerts, ingest (and the second writer), score and train, as real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from core.config import REPO_ROOT
from core.errors import StoreLockedError
from core.store import Store


def _cli(*args, db, models_dir=None, timeout: int = 300):
    """`python -m core ARGS` as its own process on the store at `db`."""
    env = {"MODELPULSE_DB": str(db), "PATH": "/usr/bin:/bin", "DO_NOT_TRACK": "1", "MODELPULSE_THREADS": "2"}
    if models_dir is not None:
        env["MODELPULSE_MODELS_DIR"] = str(models_dir)
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_cli_status_reports_every_model(demo_settings):
    out = _cli("status", db=demo_settings.db_path)
    assert out.returncode == 0, out.stderr
    for name in ("churn", "hotel", "flights"):
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith(name))
        assert "live v1" in line and "production rows" in line and "labels" in line


def test_cli_on_a_missing_store_says_what_to_do(tmp_path):
    out = _cli("status", db=tmp_path / "none.duckdb")
    assert out.returncode == 1
    assert "No ModelPulse store at" in out.stderr and "make run" in out.stderr
    assert "Traceback" not in out.stderr
    alerts = _cli("alerts", "--state", "sleeping", db=tmp_path / "none.duckdb")
    assert alerts.returncode == 1 and "State must be open, acknowledged or resolved" in alerts.stderr


def test_cli_alerts_lists_plain_english(demo_settings):
    out = _cli("alerts", "--state", "open", db=demo_settings.db_path)
    assert out.returncode == 0, out.stderr
    assert "[open]" in out.stdout and "id " in out.stdout


def test_cli_ingest_and_the_second_writer(copied, churn_rows, tmp_path):
    path = tmp_path / "batch.csv"
    churn_rows.drop(columns=["churn"]).head(50).to_csv(path, index=False)
    ok = _cli("ingest", str(path), "--model", "churn", "--no-monitor", db=copied.db_path, models_dir=copied.models_dir)
    assert ok.returncode == 0, ok.stderr
    assert "Stored 50 predictions for Customer churn." in ok.stdout
    # Excel's plain CSV on Windows, amounts as it shows them: the command says how it read the file
    shown = (
        churn_rows.drop(columns=["churn"])
        .iloc[50:60]
        .assign(monthly_charges=lambda f: f["monthly_charges"].map("${:,.2f}".format), contract="Mês a mês")
    )
    windows = tmp_path / "windows.csv"
    windows.write_bytes(shown.to_csv(index=False).encode("cp1252"))
    said = _cli(
        "ingest", str(windows), "--model", "churn", "--no-monitor", db=copied.db_path, models_dir=copied.models_dir
    )
    assert said.returncode == 0, said.stderr
    assert "Read as Windows-1252 text (Excel's plain 'CSV' on Windows), not UTF-8." in said.stdout
    assert "`monthly_charges` ('$" in said.stdout and "Stored 10 predictions for Customer churn." in said.stdout
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(copied.db_path)!r})
        print("ready", flush=True)
        sys.stdin.read()"""),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        second = _cli("ingest", str(path), "--model", "churn", db=copied.db_path, models_dir=copied.models_dir)
        with pytest.raises(StoreLockedError):
            Store.open(copied.db_path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    assert f"is open in another process (process {holder.pid})" in second.stderr
    assert "drop the file into" in second.stderr


def test_cli_score_and_train_a_new_version(copied, churn_rows, tmp_path):
    path = tmp_path / "new.csv"
    churn_rows.drop(columns=["churn"]).head(40).to_csv(path, index=False)
    out = _cli("score", "--model", "churn", "--data", str(path), db=copied.db_path, models_dir=copied.models_dir)
    assert out.returncode == 0, out.stderr
    assert "Stored 40 predictions for Customer churn. Scored by v1 (live) and 1 shadow version(s)." in out.stdout
    trained = _cli(
        "train", "--model", "churn", "--max-epochs", "3", db=copied.db_path, models_dir=copied.models_dir, timeout=600
    )
    assert trained.returncode == 0, trained.stderr
    assert "Saved churn v3" in trained.stdout
    with Store.open(copied.db_path, read_only=True) as store:
        assert [v.version for v in store.list_versions("churn")] == [1, 2, 3]
        assert store.live_version("churn").version == 1  # a new version starts in the shadow
        missing = store.rows_without_predictions(spec=store.get_spec("churn"), version=3)
        assert missing.empty  # it scored every stored row, so it compares on the same traffic
        assert not store.read_window_stats(model="churn", version=3).empty  # and monitoring ran for it


def test_outcomes_after_people_resolved_and_acknowledged_alerts(copied, tmp_path):
    """The normal production flow: predictions, people act on the alerts, the outcomes arrive later."""
    from core.demo.datasets import HOTEL

    with Store.open(copied.db_path) as store:
        alerts = store.list_alerts(model="hotel", state="open")
        assert len(alerts) >= 2
        for i, aid in enumerate(alerts["id"]):
            state = "resolved" if i % 2 == 0 else "acknowledged"
            store.set_alert_state(alert_id=aid, state=state, actor="ana@example.com", comment="seen")
        last = store.model_status("hotel").last_ts
    frame = HOTEL.load(REPO_ROOT / "data")
    later = frame[frame["arrival_at"] > last].head(300)
    later.drop(columns=[HOTEL.spec.target]).to_csv(tmp_path / "bookings.csv", index=False)
    later[["booking_id", HOTEL.spec.target]].to_csv(tmp_path / "prices.csv", index=False)

    def run(*args):
        out = _cli(*args, db=copied.db_path)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        return out.stdout

    assert "Stored 300 predictions" in run("ingest", str(tmp_path / "bookings.csv"), "--model", "hotel")
    assert "Stored 300 outcomes" in run("ingest", str(tmp_path / "prices.csv"), "--model", "hotel", "--labels")
    assert "hotel" in run("monitor", "--model", "hotel")
    with Store.open(copied.db_path, read_only=True) as store:
        states = store.list_alerts(model="hotel")
        assert set(states["state"]) <= {"open", "acknowledged", "resolved"}
        resolved = states[states["state"] == "resolved"]
        assert resolved["resolved_at"].notna().all()


def test_cli_lists_and_removes_a_batch(copied, churn_rows, tmp_path):
    path = tmp_path / "april.csv"
    churn_rows.drop(columns=["churn"]).head(20).to_csv(path, index=False)

    def run(*args):
        return _cli(*args, db=copied.db_path)

    assert run("ingest", str(path), "--model", "churn", "--no-monitor").returncode == 0
    listed = run("batches", "--model", "churn")
    assert listed.returncode == 0, listed.stderr
    first = listed.stdout.splitlines()[0]
    assert "april.csv" in first and "by cli" in first and "predictions" in first
    removed = run("batches", "remove", first.split()[0], "--by", "ana")
    assert removed.returncode == 0, removed.stderr
    assert "20 rows with their 40 predictions" in removed.stdout
    assert run("batches", "--model", "churn").stdout.splitlines()[0].endswith("by ana")
    again = run("batches", "remove", first.split()[0])
    assert again.returncode == 1 and "already removed" in again.stderr and "Traceback" not in again.stderr


def test_an_uploaded_model_retrains_from_its_stored_rows(tmp_path):
    from core.intake.create import create_trained_model
    from core.schema import ArchConfig
    from tests.conftest import churn_batch
    from tests.conftest import churn_mapping
    from tests.conftest import make_settings

    cfg = make_settings(tmp_path / "up")
    with Store.open(cfg.db_path, create=True) as store:
        create_trained_model(
            store=store,
            settings=cfg,
            mapping=churn_mapping(name="acme", window="week"),
            frame=churn_batch(1200),
            source="acme.csv",
            arch=ArchConfig(hidden=(16,), max_epochs=2),
            progress=lambda _: None,
        )
    out = _cli("train", "--model", "acme", "--max-epochs", "2", db=cfg.db_path, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "Training on the 1,200 stored cases of Acme churn whose outcome is known." in out.stdout
    assert "Saved acme v2" in out.stdout and "windows computed" in out.stdout
    with Store.open(cfg.db_path, read_only=True) as store:
        assert not store.read_window_stats(model="acme", version=2).empty
        assert store.rows_without_predictions(spec=store.get_spec("acme"), version=2).empty


def test_delete_removes_a_model_for_good_and_logs_it(copied):
    assert (copied.models_dir / "hotel").is_dir()
    refused = _cli("delete", "hotel", db=copied.db_path, models_dir=copied.models_dir)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    done = _cli("delete", "hotel", "--yes", "--by", "maya@startup.com", db=copied.db_path, models_dir=copied.models_dir)
    assert done.returncode == 0, done.stderr
    assert not (copied.models_dir / "hotel").exists()
    with Store.open(copied.db_path, read_only=True) as store:
        assert "hotel" not in [s.name for s in store.list_specs()]
        assert store.list_alerts(model="hotel").empty and store.read_results(model="hotel", version=1).empty
        log = store.audit.read(action="model.delete")
    assert list(log["actor"]) == ["maya@startup.com"] and list(log["model"]) == ["hotel"]
