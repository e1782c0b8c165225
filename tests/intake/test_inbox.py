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


def test_an_excel_workbook_dropped_in_the_inbox_is_imported(copied, churn_rows):
    folder = copied.inbox_dir / "churn"
    folder.mkdir(parents=True)
    rows = churn_rows.drop(columns=["churn"]).iloc[100:130]
    rows.to_excel(folder / "from_sales.xlsx", index=False, engine="openpyxl")
    imported_alone(copied, folder / "from_sales.xlsx", rows)


def imported_alone(cfg, path, rows) -> None:
    """`path`, dropped in the churn inbox, is the one file imported, and it stored `rows` at their own times."""
    import time

    old = time.time() - 10
    os.utime(path, (old, old))
    with Store.open(cfg.db_path) as store:
        items = process_inbox(store=store, settings=cfg, monitor=False)
        assert [(i.path.parent.name, i.ok) for i in items] == [("done", True)]
        stored = store.query_df(
            "SELECT _entity_id, _ts FROM rows__churn WHERE _entity_id IN (SELECT unnest(?))",
            [list(rows["customer_id"])],
        )
    assert len(stored) == len(rows)
    expected = rows.set_index("customer_id")["signed_up_at"]
    assert (stored.set_index("_entity_id")["_ts"] == expected.loc[stored["_entity_id"]].to_numpy()).all()
