"""Moving a store between backends: the reduced demo into a shared DuckLake store and back, nothing lost.

The lake is a real DuckLake catalog in a PostgreSQL server started for the test session (tests/lakes.py).
"""

from __future__ import annotations

import pytest

from core.errors import ModelPulseError
from core.errors import StoreError
from core.modeling.versions import loadable_versions
from core.progress import quiet
from core.refresh import refresh
from core.store import Store
from core.upkeep.migrate import migrate_store
from tests.lakes import new_lake
from tests.test_cli import _cli


def _sums(store: Store) -> dict:
    return {t: v for t, v in store.checksums().items() if t != "schema_version"}


@pytest.fixture
def lake_copy(copied, lake_server, tmp_path):
    """(the file store's settings, a lake holding the same store, the migration's result)."""
    lake = new_lake(lake_server, tmp_path / "shared")
    done = migrate_store(copied, to=lake.store, data=lake.home, progress=quiet)
    return copied, lake, done


def test_a_file_store_moves_into_a_lake_whole(lake_copy):
    source, lake, done = lake_copy
    assert "every table's rows and checksum match" in done.message and "MODELPULSE_STORE=" in done.message
    assert "password" not in done.message
    with Store.at(source, read_only=True) as src, Store.at(lake) as dst:
        want = _sums(src)
        assert _sums(dst) == want and done.rows == sum(n for n, _ in want.values()) > 50_000
        assert done.model_files == 2 * sum(len(src.list_versions(s.name)) for s in src.list_specs())
        # the lake's models score from the shared folder, and its monitoring is already up to date
        models, missing = loadable_versions(dst, "churn")
        assert set(models) == {1, 2} and not missing
        summary = refresh(store=dst, settings=lake, progress=quiet)
        assert summary.total_computed == 0
        assert _sums(dst)["check_results"] == want["check_results"]


def test_a_lake_moves_back_into_a_file_unchanged(lake_copy, tmp_path):
    source, lake, _ = lake_copy
    back = tmp_path / "back" / "modelpulse.duckdb"
    done = migrate_store(lake, to=str(back), progress=quiet)
    assert f"MODELPULSE_DB={back}" in done.message
    with Store.at(source, read_only=True) as src, Store.open(back, read_only=True) as again:
        assert _sums(again) == _sums(src)
    assert (back.parent / "models" / "churn" / "v1" / "weights.pt").is_file()


def test_a_copy_goes_only_into_an_empty_store(lake_copy, tmp_path):
    source, lake, _ = lake_copy
    with Store.at(lake, read_only=True) as dst:
        before = _sums(dst)
    with pytest.raises(StoreError, match="already holds data"):
        migrate_store(source, to=lake.store, data=lake.home, progress=quiet)
    with Store.at(lake, read_only=True) as dst:
        assert _sums(dst) == before
    with pytest.raises(ModelPulseError, match="needs --data"):
        migrate_store(source, to=lake.store, progress=quiet)
    with pytest.raises(ModelPulseError, match="same store"):
        migrate_store(source, to=str(source.db_path), progress=quiet)


def test_the_cli_copies_a_backup_file_into_a_lake(copied, lake_server, tmp_path):
    lake = new_lake(lake_server, tmp_path / "shared")
    out = _cli(
        "migrate",
        "--from",
        str(copied.db_path),
        "--to",
        lake.store,
        "--data",
        str(lake.home),
        db=tmp_path / "unused.duckdb",
    )
    assert out.returncode == 0, out.stderr
    assert "checksum match" in out.stdout and "models/" not in out.stderr
    with Store.at(copied, read_only=True) as src, Store.at(lake, read_only=True) as dst:
        assert _sums(dst) == _sums(src)


def test_a_shared_store_backs_up_to_a_file_that_comes_back_through_migrate(lake_copy, lake_server, tmp_path):
    from core.upkeep.backup import backup_store
    from core.upkeep.backup import restore_store
    from core.upkeep.backup import verify_backup

    source, lake, _ = lake_copy
    with Store.at(lake) as store:
        done = backup_store(store, dest=tmp_path / "backup")
        want = _sums(store)
    assert verify_backup(tmp_path / "backup") == [] and done.model_files > 0
    with pytest.raises(ModelPulseError, match="migrate --from"):  # never a file swapped into a lake's folder
        restore_store(tmp_path / "backup", settings=lake)
    again = new_lake(lake_server, tmp_path / "again")
    migrate_store(source, to=again.store, data=again.home, source=str(tmp_path / "backup" / "modelpulse.duckdb"))
    with Store.at(again, read_only=True) as store:
        assert _sums(store) == want
