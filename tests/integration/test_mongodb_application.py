"""A real obsvty with OBSVTY_STORAGE=mongodb and a cloud replica: OTLP/HTTP in, MongoDB stored,
replicated to the cloud by the background sync, reported in /readyz-style health."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.support.mongodb import scratch_database
from tests.support.server import running_obsvty

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("storage", ["mongodb", "duckdb"])
def test_application_stores_otlp_and_syncs_it_to_the_cloud(
    tmp_path: Path, otlp_examples: Path, mongodb_uri: str, mongodb_database: str, storage: str
) -> None:
    with scratch_database(mongodb_uri) as cloud_db:
        # Arrange
        with running_obsvty(
            tmp_path,
            obsvty_storage=storage,
            mongodb_uri=mongodb_uri,
            mongodb_database=mongodb_database,
            mongodb_cloud_uri=mongodb_uri,
            mongodb_cloud_database=cloud_db,
            sync_interval_ms=50,
        ) as server:
            # Act
            for signal, name in (("traces", "trace.json"), ("logs", "logs.json")):
                response = httpx.post(
                    f"{server.http_url}/v1/{signal}",
                    content=(otlp_examples / name).read_bytes(),
                    headers={"Content-Type": "application/json"},
                )
                assert response.status_code == 200
            server.flush()
            sync = server.app.cloud_sync
            assert sync is not None
            sync.sync_until_idle()
            health = sync.health()
        # Assert
        client: MongoClient[dict[str, object]] = MongoClient(mongodb_uri)
        cloud = client[cloud_db]
        assert cloud["spans"].count_documents({}) >= 1
        assert cloud["logs"].count_documents({}) >= 1
        if storage == "mongodb":
            local = client[mongodb_database]
            for name in ("spans", "logs"):
                local_ids = {d["_id"] for d in local[name].find({}, {"_id": 1})}
                assert {d["_id"] for d in cloud[name].find({}, {"_id": 1})} == local_ids
        client.close()
        assert health.ready
        assert health.lag == 0
        assert health.details["breaker"] == "closed"
