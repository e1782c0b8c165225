"""The drop folder: good files are imported, bad ones explained."""

from __future__ import annotations

import os

from core.intake.inbox import process_inbox
from core.store import Store


def test_inbox_imports_good_files_and_explains_bad_ones(copied, churn_rows):
    folder = copied.inbox_dir / "churn"
    (folder / "labels").mkdir(parents=True)
    good = churn_rows.drop(columns=["churn"]).head(40)
    good.to_csv(folder / "batch1.csv", index=False)
    bad = good.assign(customer_id=[f"X{i}" for i in range(40)]).drop(columns=["tenure"])
    bad.to_csv(folder / "batch2.csv", index=False)
    (folder / "batch3.csv.tmp").write_text("still being written")
    import time

    old = time.time() - 10
    for p in folder.glob("*.csv"):
        os.utime(p, (old, old))
    with Store.open(copied.db_path) as store:
        items = process_inbox(store=store, settings=copied, monitor=False)
        assert store.known_entities(model="churn", ids=list(good["customer_id"])) == set(good["customer_id"])
    assert [(i.path.parent.name, i.ok) for i in items] == [("done", True), ("failed", False)]
    error = next(folder.glob("failed/*.error.txt")).read_text()
    assert "has no column `tenure`" in error
    assert (folder / "batch3.csv.tmp").exists()
