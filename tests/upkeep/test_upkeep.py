"""Keeping a store whole: backup and restore round trip, `check`, damaged and read-only stores told apart,
a missing shadow model file that degrades instead of blocking, and reading commands beside a running writer."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from core.config import REPO_ROOT
from core.errors import ModelPulseError
from core.intake.traffic import log_predictions
from core.modeling.registry import load_version
from core.progress import quiet
from core.refresh import refresh
from core.store import Store
from core.store import quote_ident
from core.upkeep.backup import backup_store
from core.upkeep.backup import restore_store
from core.upkeep.backup import verify_backup
from core.upkeep.check import check_store
from core.upkeep.endpoint import Endpoint
from core.upkeep.endpoint import ask
from core.upkeep.endpoint import descriptor_path
from tests.conftest import churn_batch
from tests.conftest import make_settings
from tests.test_cli import _cli as cli


def _cli(*args, cfg, timeout: int = 300):
    """`python -m core ARGS` as its own process on the store and model files of `cfg`."""
    return cli(*args, db=cfg.db_path, models_dir=cfg.models_dir, timeout=timeout)


def _tables(db: Path) -> dict[str, list]:
    """Every row of every table, sorted, with the recorded model-file location left out (it moves)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (table,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='main'"
        ).fetchall():
            frame = con.execute(f"SELECT * FROM {quote_ident(table)}").df()  # noqa: S608 - names from the catalog
            if table == "model_versions":
                frame = frame.drop(columns=["weights_path"])
            out[table] = sorted(map(repr, frame.astype(str).itertuples(index=False)))
        return out
    finally:
        con.close()


def _files(models_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(models_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(models_dir.rglob("*"))
        if p.is_file()
    }


def test_backup_restores_every_table_and_model_file_somewhere_else(copied, tmp_path):
    with Store.open(copied.db_path) as store:
        result = backup_store(store, dest=tmp_path / "backup")
    assert result.model_files == 12 and result.tables >= 20
    assert verify_backup(tmp_path / "backup") == []
    target = make_settings(tmp_path / "elsewhere" / "mp")
    restored = restore_store(tmp_path / "backup", settings=target)
    assert "Restored" in restored.message
    assert _tables(target.db_path) == _tables(copied.db_path)
    assert _files(target.models_dir) == _files(copied.models_dir)
    shutil.rmtree(copied.models_dir)  # the original's files are gone: the restored store needs only its own
    with Store.open(target.db_path) as store:
        assert check_store(store).ok
        for info in store.list_versions("churn"):
            assert Path(info.weights_path).parts[0] == "models"  # recorded beside the store, portably
            model = load_version(store, model="churn", version=info.version)
            assert len(model.predict(churn_batch(20)).prediction) == 20


def test_a_changed_backup_is_refused_and_nothing_is_replaced(copied, tmp_path):
    with Store.open(copied.db_path) as store:
        backup_store(store, dest=tmp_path / "backup")
    weights = next((tmp_path / "backup" / "models").rglob("weights.pt"))
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    before = hashlib.sha256(copied.db_path.read_bytes()).hexdigest()
    with pytest.raises(ModelPulseError) as info:
        restore_store(tmp_path / "backup", settings=copied)
    assert "was not restored" in info.value.user_message and "checksum" in info.value.user_message
    assert hashlib.sha256(copied.db_path.read_bytes()).hexdigest() == before
    with pytest.raises(ModelPulseError, match="not an empty folder"):
        with Store.open(copied.db_path) as store:
            backup_store(store, dest=tmp_path / "backup")


def _damage(db: Path) -> None:
    """Overwrite 4 KiB in every 256 KiB block past the file's headers: data and metadata blocks alike."""
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        for offset in range(3 * 4096 + 262144, size - 4096, 262144):
            fh.seek(offset + 1000)
            fh.write(os.urandom(4096))


def test_a_damaged_store_is_reported_before_any_write_and_without_a_traceback(copied):
    _damage(copied.db_path)
    before = hashlib.sha256(copied.db_path.read_bytes()).hexdigest()
    check = _cli("check", cfg=copied)
    assert check.returncode == 1
    said = check.stdout + check.stderr
    assert "damaged" in said and "Traceback" not in said, said
    fresh = _cli("monitor", "--fresh", cfg=copied)
    assert fresh.returncode == 1 and "Traceback" not in fresh.stderr, fresh.stderr
    assert "damaged" in fresh.stderr and "was written" in fresh.stderr or "nothing was changed" in fresh.stderr
    assert hashlib.sha256(copied.db_path.read_bytes()).hexdigest() == before, "a refused command changed the file"


def _make_read_only(path: Path) -> None:
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"root cannot make a file immutable here ({done.stderr.decode().strip()}); not tested")


def test_a_read_only_store_is_told_apart_from_a_damaged_one(copied, tmp_path):
    batch = tmp_path / "batch.csv"
    churn_batch(30).to_csv(batch, index=False)
    _make_read_only(copied.db_path)
    try:
        out = _cli("ingest", str(batch), "--model", "churn", cfg=copied)
        assert out.returncode == 1
        assert "can be read but not written" in out.stderr and "damaged" not in out.stderr, out.stderr
        status = _cli("status", cfg=copied)
        assert status.returncode == 0 and "churn" in status.stdout, status.stderr
    finally:
        subprocess.run(["chattr", "-i", str(copied.db_path)], capture_output=True)
        copied.db_path.chmod(0o644)


def test_a_missing_shadow_file_degrades_and_is_caught_up_once_it_is_back(copied):
    weights = copied.models_dir / "churn" / "v2" / "weights.pt"
    kept = weights.read_bytes()
    weights.unlink()
    with Store.open(copied.db_path) as store:
        spec = store.get_spec("churn")
        result = log_predictions(model="churn", frame=churn_batch(120), store=store, settings=copied, source="b.csv")
        assert result.rows == 120  # the live version's traffic is not blocked
        assert store.scoring_backlog(spec=spec, versions=[1, 2]) == {2: 120}
        report = check_store(store)
        assert [f.sentence for f in report.problems] == [
            f"v2 of `churn` cannot score: its weights file {weights} is missing."
        ]
        refresh(store=store, settings=copied, models=["churn"], progress=quiet)  # still missing: no catch-up
        assert store.scoring_backlog(spec=spec, versions=[1, 2]) == {2: 120}
    status = _cli("status", cfg=copied)
    assert "v2 cannot score" in status.stdout and status.returncode == 0
    weights.write_bytes(kept)
    with Store.open(copied.db_path) as store:
        summary = refresh(store=store, settings=copied, models=["churn"], progress=quiet)
        assert summary.caught_up == {"churn": {2: 120}}
        assert store.scoring_backlog(spec=spec, versions=[1, 2]) == {}
        assert check_store(store).ok
        window = store.read_results(model="churn", version=2)
        assert not window.empty


def test_the_endpoint_answers_reading_commands_and_nothing_else(copied):
    with Store.open(copied.db_path) as store:
        endpoint = Endpoint(store=store, settings=copied).start()
        try:
            path = descriptor_path(copied.db_path)
            assert path.stat().st_mode & 0o777 == 0o600
            answer = ask(copied.db_path, "status", {})
            assert answer.ok and any(line.startswith("churn") for line in answer.lines)
            assert ask(copied.db_path, "check", {}).lines[-1] == "Everything checks out."
            info = json.loads(path.read_text())
            for token, command, code in (("wrong", "status", 403), (info["token"], "ingest", 404)):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{info['port']}/answer",
                    data=json.dumps({"command": command, "args": {}}).encode(),
                    headers={"Authorization": f"Bearer {token}"},
                    method="POST",
                )
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(request, timeout=10)
                assert refused.value.code == code
        finally:
            endpoint.stop()
    assert not descriptor_path(copied.db_path).exists()
    assert ask(copied.db_path, "status", {}) is None


def _churn_rows(status: str) -> int:
    line = next(ln for ln in status.splitlines() if ln.startswith("churn"))
    return int(re.search(r"([\d,]+) production rows", line).group(1).replace(",", ""))


@pytest.mark.slow
def test_reading_commands_and_backup_work_beside_a_running_writer(copied, tmp_path):
    """`watch` holds the store (as the app does); status, alerts, check, report and backup answer through it
    while it goes on importing a file dropped into the inbox."""
    env = {**os.environ, "MODELPULSE_DB": str(copied.db_path), "MODELPULSE_MODELS_DIR": str(copied.models_dir)}
    env.update(
        {"MODELPULSE_INBOX": str(copied.inbox_dir), "MODELPULSE_SCHEDULER": "app", "MODELPULSE_DELIVERY_POLL": "1"}
    )
    watch = subprocess.Popen(
        [sys.executable, "-m", "core", "watch", "--seconds", "240"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not descriptor_path(copied.db_path).exists():
            assert watch.poll() is None and time.monotonic() < deadline, watch.stdout.read() if watch.stdout else ""
            time.sleep(0.5)
        rows_before = _churn_rows(_cli("status", cfg=copied).stdout)
        (copied.inbox_dir / "churn").mkdir(parents=True, exist_ok=True)
        churn_batch(200).to_csv(copied.inbox_dir / "churn" / "new.csv", index=False)
        for args in (("status",), ("alerts", "--state", "open"), ("check",)):
            out = _cli(*args, cfg=copied)
            assert out.returncode == 0 and "Traceback" not in out.stderr, (args, out.stderr)
        report = _cli("report", "--model", "churn", "--out", str(tmp_path / "r.html"), cfg=copied)
        assert report.returncode == 0, report.stderr
        assert (tmp_path / "r.html").read_text().lower().startswith("<!doctype html>")
        backup = _cli("backup", str(tmp_path / "backup"), cfg=copied)
        assert backup.returncode == 0 and "Backed up" in backup.stdout, backup.stderr
        assert verify_backup(tmp_path / "backup") == []
        deadline = time.monotonic() + 120
        while _churn_rows(_cli("status", cfg=copied).stdout) != rows_before + 200:  # the writer kept writing
            assert time.monotonic() < deadline, "the inbox file was never imported while reading beside it"
            time.sleep(2)
    finally:
        watch.terminate()
        watch.wait(60)
