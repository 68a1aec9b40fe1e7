"""The query API answers the same on MongoDB as on DuckDB: a real obsvty on each store gets the
same OTLP requests, then every native and Jaeger query is asked of both and compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import running_obsvty

pytestmark = pytest.mark.integration

TRACE_ID = "5b8efff798038103d269b633813fc60c"
QUERIES = [
    "/api/v1/services",
    "/api/v1/services?signal=logs",
    "/api/v1/services/my.service/operations",
    "/api/v1/traces?start=0",
    "/api/v1/traces?start=0&service=my.service&min_duration=1ns",
    "/api/v1/traces?start=0&attr=my.span.attr=some%20value",
    "/api/v1/traces?start=0&attr=my.span.attr=other",
    "/api/v1/traces?start=0&status=error",
    f"/api/v1/traces/{TRACE_ID}",
    f"/api/v1/traces/{TRACE_ID}?format=otlp-json",
    "/api/v1/traces/00000000000000000000000000000001",
    "/api/v1/logs?start=0",
    "/api/v1/logs?start=0&body=EXAMPLE 1",
    "/api/v1/logs?start=0&min_severity=INFO",
    "/api/v1/logs?start=0&format=otlp-json",
    "/api/v1/metrics",
    "/api/v1/metrics/my.counter/series?start=0",
    "/api/v1/metrics/my.counter/series?start=0&mode=rate",
    "/api/v1/metrics/my.gauge/series?start=0&step=1m",
    "/api/v1/metrics/nothing/series?start=0",
    "/jaeger/api/services",
    "/jaeger/api/services/my.service/operations",
    "/jaeger/api/operations?service=my.service",
    "/jaeger/api/traces?service=my.service&start=0",
    f"/jaeger/api/traces/{TRACE_ID}",
    "/jaeger/api/v3/services",
    "/jaeger/api/v3/traces?query.service_name=my.service&query.start_time_min=1970-01-01T00:00:00Z&query.start_time_max=2100-01-01T00:00:00Z",
    f"/jaeger/api/v3/traces/{TRACE_ID}",
]


def _comparable(body: Any) -> Any:
    """A response without what legitimately differs between stores: log cursors (store tie
    breakers) and the size on disk."""
    if isinstance(body, dict):
        return {
            k: _comparable(v) for k, v in body.items() if k not in ("next_cursor", "size_bytes")
        }
    if isinstance(body, list):
        return [_comparable(v) for v in body]
    return body


def _answers(tmp_path: Path, otlp_examples: Path, **settings: Any) -> dict[str, Any]:
    with running_obsvty(tmp_path, **settings) as server:
        logs = (otlp_examples / "logs.json").read_text()
        requests = [
            ("traces", (otlp_examples / "trace.json").read_text()),
            ("metrics", (otlp_examples / "metrics.json").read_text()),
            *(("logs", logs.replace("Example log record", f"Example {n}")) for n in range(3)),
        ]
        for signal, content in requests:
            posted = httpx.post(
                f"{server.http_url}/v1/{signal}",
                content=content,
                headers={"Content-Type": "application/json"},
            )
            assert posted.status_code == 200
        server.flush()
        answers: dict[str, Any] = {}
        with httpx.Client(base_url=server.api_url) as client:
            for url in QUERIES:
                response = client.get(url)
                body = response.json() if response.content else None
                answers[url] = (response.status_code, _comparable(body))
            answers["stats"] = _comparable(client.get("/api/v1/stats").json())
            answers["log pages"] = _log_pages(client)
        return answers


def _log_pages(client: httpx.Client) -> list[Any]:
    """Every log record, one per page, following the cursors."""
    records: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        params = {"start": "0", "limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/logs", params=params).json()
        records.extend(page["records"] if "records" in page else page["logs"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return records


def test_query_api_mongodb_answers_every_query_as_duckdb(
    tmp_path: Path, otlp_examples: Path, mongodb_uri: str, mongodb_database: str
) -> None:
    # Arrange / Act
    duckdb = _answers(tmp_path / "duckdb", otlp_examples)
    mongodb = _answers(
        tmp_path / "mongodb",
        otlp_examples,
        obsvty_storage="mongodb",
        mongodb_uri=mongodb_uri,
        mongodb_database=mongodb_database,
    )

    # Assert: the queries found something, and both stores said the very same
    assert duckdb[f"/api/v1/traces/{TRACE_ID}"][0] == 200
    assert duckdb["stats"]["signals"]["traces"]["count"] > 0
    assert len(duckdb["log pages"]) > 1
    for url in [*QUERIES, "stats", "log pages"]:
        assert mongodb[url] == duckdb[url], url
