"""Many writers on one shared (DuckLake) store: ingest processes at the same time lose and duplicate nothing,
a batch sent twice is stored once, readers work meanwhile, two people pressing one button take turns, and
two schedulers never hold one lease.

Everything real: a PostgreSQL server and a DuckLake catalog (tests/lakes.py) holding the reduced demo, and
separate `python` processes for the writers, the readers and the lease takers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

from core.config import REPO_ROOT
from core.errors import StoreError
from core.progress import quiet
from core.store import Store
from core.upkeep.migrate import migrate_store
from tests.conftest import churn_batch
from tests.lakes import lake_env
from tests.lakes import new_lake

pytestmark = pytest.mark.slow
WRITERS, BATCHES, SIZE = 4, 3, 100


@pytest.fixture
def lake(copied, lake_server, tmp_path):
    """The reduced demo in a lake of its own."""
    cfg = new_lake(lake_server, tmp_path / "shared")
    migrate_store(copied, to=cfg.store, data=cfg.home, progress=quiet)
    return cfg


def _python(cfg, code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO_ROOT,
        env=lake_env(cfg),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


WRITER = """
    import sys
    import pandas as pd
    from core.config import load_settings
    from core.intake.traffic import log_labels, log_predictions
    from core.store import Store

    me, path = sys.argv[1], sys.argv[2]
    frame = pd.read_parquet(path)
    settings = load_settings()
    with Store.at(settings) as store:
        parts = [frame.iloc[i : i + {size}] for i in range(0, len(frame), {size})]
        for b, part in enumerate(parts):
            done = log_predictions(model="churn", frame=part.drop(columns=["churn"]), store=store,
                                   settings=settings, source=f"{{me}}-{{b}}", by=me, batch_id=f"{{me}}-b{{b}}")
            print("stored", done.rows, flush=True)
        again = log_predictions(model="churn", frame=parts[0].drop(columns=["churn"]), store=store,
                                settings=settings, source="retry", by=me, batch_id=f"{{me}}-b0")
        print("again", again.message, flush=True)
        outcomes = frame[["customer_id", "churn"]]
        log_labels(model="churn", frame=outcomes, store=store, settings=settings, source="outcomes", by=me,
                   batch_id=f"{{me}}-labels")
        print("labels", len(outcomes), flush=True)
"""


def test_writers_on_four_processes_lose_and_duplicate_nothing_while_readers_read(lake, tmp_path):
    with Store.at(lake, read_only=True) as store:
        before = store.counts()
    files = []
    for w in range(WRITERS):
        frame = churn_batch(BATCHES * SIZE)
        frame["customer_id"] = [f"W{w}-{i:04d}" for i in range(len(frame))]
        files.append(tmp_path / f"w{w}.parquet")
        frame.to_parquet(files[-1])
    writers = [_python(lake, WRITER.format(size=SIZE), f"w{w}", str(f)) for w, f in enumerate(files)]
    reads, failed_reads = 0, []
    while any(w.poll() is None for w in writers):  # readers work while the writers write
        out = subprocess.run(
            [sys.executable, "-m", "core", "status"], cwd=REPO_ROOT, env=lake_env(lake), capture_output=True, text=True
        )
        reads += 1
        if out.returncode != 0 or "churn" not in out.stdout:
            failed_reads.append(out.stderr[-500:])
    for w in writers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err[-3000:]
        assert out.count("stored 100") == BATCHES and "nothing was written twice" in out
    assert reads >= 1 and not failed_reads, failed_reads[:1]
    with Store.at(lake, read_only=True) as store:
        after = store.counts()
        new = WRITERS * BATCHES * SIZE
        assert after["rows__churn"] - before["rows__churn"] == new
        assert after["predictions"] - before["predictions"] == 2 * new  # live and shadow version, once each
        assert after["labels"] - before["labels"] == new
        assert after["batches"] - before["batches"] == WRITERS * (BATCHES + 1)
        assert store.duplicate_keys() == {}
        ids = store.query_df('SELECT count(*) AS n, count(DISTINCT _row_id) AS d FROM "rows__churn"')
        assert int(ids["n"][0]) == int(ids["d"][0])
        scored = store.query_df(
            "SELECT count(*) AS n FROM (SELECT version, row_id FROM predictions WHERE model = 'churn' "
            "GROUP BY ALL HAVING count(*) > 1)"
        )
        assert int(scored["n"][0]) == 0


def test_two_people_acknowledging_one_alert_take_turns(lake):
    with Store.at(lake, read_only=True) as store:
        alert = store.list_alerts(state="open").iloc[0]["id"]
    stores = [Store.at(lake), Store.at(lake)]  # two connections, two write-lock sessions
    gate, outcomes = threading.Barrier(2), []

    def press(store: Store, who: str) -> None:
        gate.wait()
        try:
            store.set_alert_state(alert_id=alert, state="acknowledged", actor=who, comment="on it")
            outcomes.append(("done", who))
        except StoreError as exc:
            outcomes.append(("refused", exc.user_message))

    threads = [threading.Thread(target=press, args=(s, w)) for s, w in zip(stores, ["ana", "ben"], strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.close()
    assert sorted(o[0] for o in outcomes) == ["done", "refused"]
    winner = next(o[1] for o in outcomes if o[0] == "done")
    refusal = next(o[1] for o in outcomes if o[0] == "refused")
    assert f"already acknowledged by {winner}" in refusal and "nothing was changed" in refusal
    with Store.at(lake, read_only=True) as store:
        events = store.alert_events(alert)
        assert (events["event"] == "acknowledged").sum() == 1
        assert store.get_alert(alert)["state"] == "acknowledged"


LEASES = """
    import sys, time
    from core.config import load_settings
    from core.store import Store

    me, rounds, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    with Store.at(load_settings()) as store:
        while time.time() < start:
            time.sleep(0.01)
        wins = sum(store.acquire_lease(name=f"round-{{i}}", holder=me, seconds=60) for i in range(rounds))
    print("wins", wins, flush=True)
"""


def test_two_schedulers_never_hold_one_lease(lake):
    rounds, start = 40, time.time() + 8  # both processes begin at the same moment, once imported
    takers = [_python(lake, LEASES.format(), who, str(rounds), str(start)) for who in ("a", "b")]
    wins = []
    for p in takers:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        wins.append(int(out.split()[-1]))
    assert sum(wins) == rounds  # each lease won exactly once
    with Store.at(lake, read_only=True) as store:
        held = store.query_df("SELECT name, count(*) AS n FROM leases WHERE name LIKE 'round-%' GROUP BY name")
    assert len(held) == rounds and (held["n"] == 1).all()
    assert pd.Series(wins).min() >= 0


INBOX = """
    import sys, time
    from core.config import load_settings
    from core.intake.inbox import process_inbox
    from core.store import Store

    start = float(sys.argv[1])
    settings = load_settings()
    with Store.at(settings) as store:
        while time.time() < start:
            time.sleep(0.01)
        items = process_inbox(store=store, settings=settings, monitor=False)
    print("imported", sum(i.ok for i in items), flush=True)
"""


def test_two_app_replicas_sharing_one_inbox_import_each_file_once(lake, tmp_path):
    folder = lake.home / "inbox" / "churn"
    folder.mkdir(parents=True)
    files = 6
    for f in range(files):
        frame = churn_batch(50).drop(columns=["churn"])
        frame["customer_id"] = [f"IN{f}-{i}" for i in range(len(frame))]
        frame.to_csv(folder / f"drop{f}.csv", index=False)
        old = time.time() - 10  # settled: written more than two seconds ago
        os.utime(folder / f"drop{f}.csv", (old, old))
    with Store.at(lake, read_only=True) as store:
        before = store.counts()["rows__churn"]
    start = time.time() + 10
    replicas = [_python(lake, INBOX, str(start)) for _ in range(2)]
    imported = []
    for p in replicas:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        imported.append(int(out.split()[-1]))
    assert sum(imported) == files  # every file once, whichever replica took it
    assert len(list((folder / "done").iterdir())) == files and not list(folder.glob("*.csv"))
    with Store.at(lake, read_only=True) as store:
        assert store.counts()["rows__churn"] - before == files * 50
        assert store.duplicate_keys() == {}
