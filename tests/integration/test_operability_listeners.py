"""Probes and metrics on every HTTP listener, who may reach them when tokens are set, and the
security guards' refusals counted in the metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.reliability import wait_until
from tests.support.security import grpc_export, one_span_request
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

INGEST_TOKEN = "ingest-s3cret-0123456789"  # noqa: S105 - a test token
QUERY_TOKEN = "query-s3cret-9876543210"  # noqa: S105 - a test token
METRICS_TOKEN = "metrics-s3cret-5555555555"  # noqa: S105 - a test token
PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_query_listener_serves_probes_and_metrics_and_still_the_ui(obsvty: RunningObsvty) -> None:
    # Act
    live = httpx.get(f"{obsvty.api_url}/healthz")
    ready = httpx.get(f"{obsvty.api_url}/readyz")
    metrics = httpx.get(f"{obsvty.api_url}/metrics")
    ui = httpx.get(f"{obsvty.api_url}/")

    # Assert
    assert (live.status_code, ready.status_code, metrics.status_code) == (200, 200, 200)
    assert ready.json()["components"]["buffer"]["capacity"] == obsvty.settings.max_buffer_size
    assert ready.headers["cache-control"] == "no-store"
    samples = _samples(metrics.text)
    assert samples[("obsvty_buffer_capacity", ())] == obsvty.settings.max_buffer_size
    assert ui.status_code == 200
    assert ui.headers["content-type"].startswith("text/html")


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[RunningObsvty]:
    with running_obsvty(
        tmp_path,
        obsvty_ingest_tokens=INGEST_TOKEN,
        obsvty_query_tokens=QUERY_TOKEN,
        rate_limit_traces_rps=0.01,
        rate_limit_traces_burst=1,
    ) as server:
        yield server


def test_probes_and_metrics_need_no_ingest_or_query_token(secured: RunningObsvty) -> None:
    # Act
    answers = {
        f"{name}{path}": httpx.get(f"{base}{path}").status_code
        for name, base in (("ingest", secured.http_url), ("api", secured.api_url))
        for path in ("/healthz", "/readyz", "/metrics")
    }
    query_without_token = httpx.get(f"{secured.api_url}/api/v1/services")

    # Assert
    assert answers == dict.fromkeys(answers, 200)
    assert query_without_token.status_code == 401  # the API itself stays guarded


def test_refusals_counted_per_reason_and_protocol_without_tokens_in_labels(
    secured: RunningObsvty,
) -> None:
    # Arrange
    url = f"{secured.http_url}/v1/traces"
    payload = one_span_request()

    # Act: a wrong token on each listener, then a request over the rate limit
    wrong_http = httpx.post(url, content=payload, headers={**PROTOBUF, **_bearer("wrong")})
    with (
        grpc.insecure_channel(secured.grpc_endpoint) as channel,
        pytest.raises(grpc.RpcError) as wrong_grpc,
    ):
        grpc_export(channel, payload, (("authorization", "Bearer wrong-grpc-token"),))
    wrong_api = httpx.get(f"{secured.api_url}/api/v1/services", headers=_bearer("wrong-api"))
    first = httpx.post(url, content=payload, headers={**PROTOBUF, **_bearer(INGEST_TOKEN)})
    limited = httpx.post(url, content=payload, headers={**PROTOBUF, **_bearer(INGEST_TOKEN)})
    text = httpx.get(f"{secured.http_url}/metrics").text
    samples = _samples(text)

    # Assert
    assert (wrong_http.status_code, wrong_api.status_code) == (401, 401)
    assert wrong_grpc.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert (first.status_code, limited.status_code) == (200, 429)

    def refusals(reason: str, protocol: str) -> float:
        return samples[("obsvty_refusals_total", (("protocol", protocol), ("reason", reason)))]

    assert refusals("unauthenticated", "http") == 1
    assert refusals("unauthenticated", "grpc") == 1
    assert refusals("unauthenticated", "api") == 1
    assert refusals("rate_limited", "http") == 1
    refused = (("outcome", "refused"), ("protocol", "http"), ("signal", "traces"))
    assert samples[("obsvty_requests_total", refused)] == 2
    for secret in (INGEST_TOKEN, QUERY_TOKEN, "wrong", "wrong-grpc-token", "wrong-api"):
        assert secret not in text


def test_metrics_tokens_guard_metrics_on_every_listener_but_not_the_probes(
    tmp_path: Path,
) -> None:
    # Arrange
    with running_obsvty(
        tmp_path, obsvty_metrics_tokens=METRICS_TOKEN, obsvty_query_tokens=QUERY_TOKEN
    ) as server:
        bases = {"ingest": server.http_url, "api": server.api_url}

        # Act
        without = {n: httpx.get(f"{b}/metrics").status_code for n, b in bases.items()}
        query_token = {
            n: httpx.get(f"{b}/metrics", headers=_bearer(QUERY_TOKEN)).status_code
            for n, b in bases.items()
        }
        scraped = {
            n: httpx.get(f"{b}/metrics", headers=_bearer(METRICS_TOKEN)) for n, b in bases.items()
        }
        probes = {n: httpx.get(f"{b}/readyz").status_code for n, b in bases.items()}
        refused = _samples(scraped["ingest"].text)

    # Assert
    assert without == {"ingest": 401, "api": 401}
    assert query_token == {"ingest": 401, "api": 401}  # a query token is not a metrics token
    assert {n: r.status_code for n, r in scraped.items()} == {"ingest": 200, "api": 200}
    assert "obsvty_buffer_capacity" in scraped["api"].text
    assert probes == {"ingest": 200, "api": 200}
    reasons = (("protocol", "http"), ("reason", "unauthenticated"))
    assert refused[("obsvty_refusals_total", reasons)] == 2


def test_stats_show_the_retention_policy_and_its_deletions(
    tmp_path: Path, otlp_examples: Path
) -> None:
    # Arrange: the official example's span is from 2018, long past a one-hour retention
    example = (otlp_examples / "trace.json").read_bytes()
    with running_obsvty(
        tmp_path, obsvty_retention="1h", obsvty_max_db_size="10GB", retention_interval_s=0.05
    ) as server:
        posted = httpx.post(f"{server.http_url}/v1/traces", content=example, headers=JSON)
        server.flush()

        # Act: read the stats until a pass has deleted the span
        def stats() -> dict[str, Any]:
            body: dict[str, Any] = httpx.get(f"{server.api_url}/api/v1/stats").json()
            return body

        deleted = wait_until(lambda: stats()["retention"]["deleted_rows"]["spans"] == 1)
        retention = stats()["retention"]

    # Assert
    assert posted.status_code == 200
    assert deleted
    assert retention["enabled"] is True
    assert retention["max_age_seconds"] == 3600
    assert retention["max_bytes"] == 10_000_000_000
    assert retention["runs"] >= 1
    assert retention["last_run_unix"] > 0
    assert retention["last_error"] is None
    assert retention["deleted_rows"] == {"spans": 1, "logs": 0, "metric_points": 0}


def test_stats_retention_is_null_when_retention_is_off(obsvty: RunningObsvty) -> None:
    # Act
    stats = httpx.get(f"{obsvty.api_url}/api/v1/stats")

    # Assert
    assert stats.status_code == 200
    assert stats.json()["retention"] is None
