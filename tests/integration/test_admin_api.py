"""The dead-letter admin endpoints of a real obsvty with a cloud sync: records a cloud validator
refuses are listed, counted in /api/v1/stats and /metrics, retried once the cloud takes them, and
purged; all behind the query token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.support.mongodb import scratch_database
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

TOKEN = "admin-test-token"  # noqa: S105 - a test credential
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def cloud(mongodb_uri: str) -> Iterator[tuple[str, str]]:
    """A cloud database whose ``logs`` refuse records of the service ``refused``."""
    with scratch_database(mongodb_uri) as name:
        client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
        client[name].create_collection("logs", validator={"service_name": {"$ne": "refused"}})
        client.close()
        yield mongodb_uri, name


def _send_logs(server: RunningObsvty, otlp_examples: Path, service: str, body: str) -> None:
    content = (
        (otlp_examples / "logs.json")
        .read_text()
        .replace('"my.service"', f'"{service}"')
        .replace("Example log record", body)
    )
    response = httpx.post(
        f"{server.http_url}/v1/logs",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    server.flush()
    assert server.app.cloud_sync is not None
    server.app.cloud_sync.sync_until_idle()


def _dead_letter_gauge(server: RunningObsvty) -> str:
    metrics = httpx.get(f"{server.http_url}/metrics").text
    return next(
        line for line in metrics.splitlines() if line.startswith("obsvty_sink_dead_letters")
    )


def test_admin_dead_letters_listed_counted_retried_and_purged(
    tmp_path: Path,
    otlp_examples: Path,
    cloud: tuple[str, str],
) -> None:
    # Arrange: one record the cloud refuses, one it takes (the sync's source is the DuckDB file,
    # read in obsvty's process)
    uri, cloud_db = cloud
    with running_obsvty(
        tmp_path,
        mongodb_cloud_uri=uri,
        mongodb_cloud_database=cloud_db,
        obsvty_query_tokens=TOKEN,
        sync_interval_ms=60_000,
    ) as server:
        _send_logs(server, otlp_examples, "refused", "first refused")
        _send_logs(server, otlp_examples, "accepted", "taken")
        api = httpx.Client(base_url=server.api_url)

        # Act / Assert: the admin API is behind the query token
        assert api.get("/api/v1/admin/dead-letters").status_code == 401
        assert api.post("/api/v1/admin/dead-letters/purge", json={"all": True}).status_code == 401

        listed = api.get("/api/v1/admin/dead-letters?document=true", headers=AUTH).json()
        assert listed["count"] == 1
        (letter,) = listed["dead_letters"]
        assert letter["collection"] == "logs"
        assert "121" in letter["error"] or "validation" in letter["error"].lower()
        assert letter["document"]["service_name"] == "refused"
        assert letter["document"]["body"] == "first refused"
        stats = api.get("/api/v1/stats", headers=AUTH).json()
        assert stats["cloud_sync"]["dead_letters"] == 1
        assert stats["cloud_sync"]["backlog"] == 0
        assert _dead_letter_gauge(server).endswith(" 1.0")

        # still refused: it stays, with one more attempt
        retried = api.post("/api/v1/admin/dead-letters/retry", headers=AUTH).json()
        assert retried == {"resent": 0, "still_failing": 1, "dead_letters": 1}
        again = api.get("/api/v1/admin/dead-letters", headers=AUTH).json()["dead_letters"]
        assert again[0]["attempts"] == 2
        assert "document" not in again[0]

        # the cloud takes it now: the retry moves it there and empties the queue
        client: MongoClient[dict[str, Any]] = MongoClient(uri)
        client[cloud_db].command("collMod", "logs", validator={})
        retried = api.post(
            "/api/v1/admin/dead-letters/retry", json={"ids": [letter["id"]]}, headers=AUTH
        ).json()
        assert retried == {"resent": 1, "still_failing": 0, "dead_letters": 0}
        assert client[cloud_db]["logs"].count_documents({"service_name": "refused"}) == 1
        assert _dead_letter_gauge(server).endswith(" 0.0")

        # purge: nothing without a selection, the named ones otherwise
        client[cloud_db].command("collMod", "logs", validator={"service_name": {"$ne": "refused"}})
        _send_logs(server, otlp_examples, "refused", "second refused")
        client.close()
        (second,) = api.get("/api/v1/admin/dead-letters", headers=AUTH).json()["dead_letters"]
        empty = api.post("/api/v1/admin/dead-letters/purge", json={}, headers=AUTH)
        assert empty.status_code == 400
        assert api.get("/api/v1/stats", headers=AUTH).json()["cloud_sync"]["dead_letters"] == 1
        purged = api.post(
            "/api/v1/admin/dead-letters/purge", json={"ids": [second["id"]]}, headers=AUTH
        ).json()
        assert purged == {"purged": 1, "dead_letters": 0}
        api.close()


def test_admin_without_cloud_sync_not_mounted(tmp_path: Path) -> None:
    # Arrange
    with running_obsvty(tmp_path) as server:
        # Act
        response = httpx.get(f"{server.api_url}/api/v1/admin/dead-letters")
        stats = httpx.get(f"{server.api_url}/api/v1/stats").json()

    # Assert
    assert response.status_code == 404
    assert "cloud_sync" not in stats


def test_admin_changes_refused_on_open_non_loopback_api(
    tmp_path: Path, cloud: tuple[str, str]
) -> None:
    # Arrange: no query token (opted in), and an API host that obsvty cannot tell is loopback
    # ("127.1" is not an IP address literal, so it counts as a network name; it binds 127.0.0.1)
    uri, cloud_db = cloud
    with running_obsvty(
        tmp_path,
        mongodb_cloud_uri=uri,
        mongodb_cloud_database=cloud_db,
        obsvty_api_host="127.1",
        obsvty_allow_unauthenticated_query_api=True,
    ) as server:
        port = server.api_url.rsplit(":", 1)[1]
        base = f"http://127.0.0.1:{port}/api/v1/admin/dead-letters"

        # Act
        listed = httpx.get(base)
        purge = httpx.post(f"{base}/purge", json={"all": True})
        retry = httpx.post(f"{base}/retry")

    # Assert: reading is as open as every query; changing is not
    assert listed.status_code == 200
    assert (purge.status_code, retry.status_code) == (403, 403)
    assert "OBSVTY_QUERY_TOKENS" in purge.json()["message"]
