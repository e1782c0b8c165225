"""The DuckLake backend's edges: the setting, passwords kept out of every message, a catalog that is missing
or unreachable told apart in a sentence, and the keyless schema (a real PostgreSQL server, tests/lakes.py)."""

from __future__ import annotations

import socket

import pytest

from core.config import load_settings
from core.errors import ConfigError
from core.errors import StoreError
from core.errors import StoreMissingError
from core.store import Store
from core.store.lake import display
from core.store.lake import keys_of
from core.store.lake import without_keys
from core.store.migrations import MIGRATIONS
from tests.lakes import create_database
from tests.lakes import lake_url


def test_one_setting_names_a_shared_store_and_its_folder(tmp_path):
    env = {"MODELPULSE_STORE": "ducklake:postgres:dbname=mp host=db user=mp", "MODELPULSE_STORE_DATA": str(tmp_path)}
    cfg = load_settings(env=env)
    assert cfg.shared and cfg.store == env["MODELPULSE_STORE"]
    assert cfg.db_path == tmp_path / "lake" and cfg.models_dir == tmp_path / "models" and cfg.home == tmp_path
    assert not load_settings(env={}).shared
    with pytest.raises(ConfigError, match="MODELPULSE_STORE_DATA"):
        load_settings(env={"MODELPULSE_STORE": env["MODELPULSE_STORE"]})
    with pytest.raises(ConfigError, match="key_id and secret go together"):
        load_settings(env={**env, "MODELPULSE_S3_KEY_ID": "k"})


def test_passwords_stay_out_of_settings_and_messages(tmp_path):
    env = {
        "MODELPULSE_STORE": "ducklake:postgres:dbname=mp host=db user=mp password=hunter2",
        "MODELPULSE_STORE_DATA": str(tmp_path),
        "MODELPULSE_S3_KEY_ID": "AKIAEXAMPLE",
        "MODELPULSE_S3_SECRET": "s3-secret-value",
    }
    cfg = load_settings(env=env)
    assert "hunter2" not in repr(cfg) and "s3-secret-value" not in repr(cfg)
    assert display(cfg.store) == "ducklake:postgres:dbname=mp host=db user=mp password=***"
    assert display("ducklake:postgres:postgresql://mp:hunter2@db/mp") == "ducklake:postgres:postgresql://mp:***@db/mp"


def test_an_unreachable_catalog_is_a_sentence_without_its_password(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    url = f"ducklake:postgres:dbname=mp host=127.0.0.1 port={port} user=mp password=hunter2"
    with pytest.raises(StoreError) as info:
        Store.open(url, data_path=tmp_path / "lake", create=True)
    message = info.value.user_message
    assert "cannot be reached" in message and f"port={port}" in message and "hunter2" not in message
    assert "\n" not in message


def test_a_catalog_without_a_lake_is_missing_until_created(lake_server, tmp_path):
    create_database(lake_server, "empty_catalog")
    url = lake_url(lake_server, "empty_catalog")
    assert not Store.exists(url)
    with pytest.raises(StoreMissingError, match="No ModelPulse store in the DuckLake catalog"):
        Store.open(url)
    with pytest.raises(StoreError, match="MODELPULSE_STORE_DATA"):
        Store.open(url, create=True)  # nowhere to put its data files
    Store.open(url, create=True, data_path=tmp_path / "lake").close()
    assert Store.exists(url) and (tmp_path / "lake").is_dir()


def test_the_lake_schema_is_the_file_schema_without_keys():
    keys = keys_of(MIGRATIONS)
    assert keys["labels"] == ("model", "entity_id") and keys["models"] == ("name",)
    assert keys["segment_stats"] == ("model", "version", "window_start", "column_name", "segment")
    statements = [s for steps in MIGRATIONS.values() for s in steps if isinstance(s, str)]
    assert len(statements) > 20  # the steps written as functions (filling a new column) declare no table
    for statement in statements:
        assert "PRIMARY KEY" not in without_keys(statement).upper()


def test_a_read_only_open_refuses_writes_with_a_sentence(lake_settings):
    with Store.at(lake_settings, read_only=True) as store, pytest.raises(StoreError, match="read-only"):
        store.prune_claims(before=__import__("datetime").datetime(2100, 1, 1))
