"""A shared store whose data files live on S3-compatible object storage (DuckDB's httpfs): a real S3 server
on loopback (moto's server mode) and a real DuckLake catalog in PostgreSQL (tests/lakes.py).

The reduced demo is copied into it, reads back whole, monitors from there, and its files are objects in the
bucket; the secret never appears in a message.
"""

from __future__ import annotations

import socket

import pytest

from core.config import ObjectStorage
from core.config import Settings
from core.errors import StoreError
from core.progress import quiet
from core.refresh import refresh
from core.store import Store
from core.upkeep.migrate import migrate_store
from tests.lakes import create_database
from tests.lakes import lake_url

pytestmark = pytest.mark.slow
BUCKET = "modelpulse-lake"


@pytest.fixture(scope="module")
def s3():
    """An S3-compatible server on a free loopback port with one empty bucket; its access settings."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="mp-key",
            aws_secret_access_key="mp-secret-value",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield (
            client,
            ObjectStorage(
                endpoint=f"127.0.0.1:{port}",
                region="us-east-1",
                key_id="mp-key",
                secret="mp-secret-value",
                url_style="path",
                use_ssl=False,
            ),
        )
    finally:
        server.stop()


def test_a_store_on_object_storage_holds_the_demo_and_monitors_from_it(copied, lake_server, s3, tmp_path):
    client, access = s3
    create_database(lake_server, "on_s3")
    source = Settings(**{**copied.__dict__, "s3": access})
    done = migrate_store(
        source,
        to=lake_url(lake_server, "on_s3"),
        data=tmp_path / "shared",
        lake_data=f"s3://{BUCKET}/lake/",
        progress=quiet,
    )
    assert "every table's rows and checksum match" in done.message and "mp-secret-value" not in done.message
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="lake/").get("Contents", [])]
    assert len(keys) > 30 and all(k.endswith(".parquet") for k in keys)
    assert not list((tmp_path / "shared").rglob("*.parquet"))  # no data file on the local disk
    lake = Settings.shared_under(
        lake_url(lake_server, "on_s3"), tmp_path / "shared", lake_data=f"s3://{BUCKET}/lake/", s3=access
    )
    with Store.at(copied, read_only=True) as a, Store.at(lake) as b:
        want = {t: v for t, v in a.checksums().items() if t != "schema_version"}
        assert {t: v for t, v in b.checksums().items() if t != "schema_version"} == want
        assert refresh(store=b, settings=lake, progress=quiet).total_computed == 0
        b.clear_monitoring(model="churn")
        assert refresh(store=b, settings=lake, models=["churn"], progress=quiet).computed["churn"] == 8
    with pytest.raises(StoreError) as info:  # no credentials for the bucket: a sentence, not a hang
        Store.open(lake.store, home=lake.db_path).checksums()
    assert "mp-secret-value" not in info.value.user_message
