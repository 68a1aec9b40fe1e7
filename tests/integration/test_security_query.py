"""The query API and UI listener: query-token authentication, CORS closed unless allowed, security
headers, and every filter parameterised (SQL injection attempts through each one change nothing
and match nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.security import one_span_request, span_names
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

QUERY_TOKEN = "query-s3cret-abcdef"  # noqa: S105 - a test token
INGEST_TOKEN = "ingest-s3cret-abcdef"  # noqa: S105 - a test token
GRAFANA = "https://grafana.example"
INJECTIONS = [
    "'; DROP TABLE spans; --",
    "x' OR '1'='1",
    '" OR 1=1 --',
    "raw') UNION SELECT trace_id FROM spans --",
    "%' OR name LIKE '%",
    "\\'; DELETE FROM logs; --",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    with running_obsvty(
        tmp_path_factory.mktemp("query-security"),
        obsvty_query_tokens=QUERY_TOKEN,
        obsvty_ingest_tokens=INGEST_TOKEN,
        cors_allow_origins=GRAFANA,
    ) as running:
        response = httpx.post(
            f"{running.http_url}/v1/traces",
            content=one_span_request("raw"),
            headers={
                "Content-Type": "application/x-protobuf",
                "Authorization": f"Bearer {INGEST_TOKEN}",
            },
        )
        assert response.status_code == 200
        running.flush()
        yield running


def _get(
    server: RunningObsvty, path: str, token: str | None = QUERY_TOKEN, **kw: object
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.api_url}{path}", headers=headers, **kw)  # type: ignore[arg-type]


def test_query_api_with_the_query_token_reads(server: RunningObsvty) -> None:
    # Act
    response = _get(server, "/api/v1/traces")

    # Assert
    assert response.status_code == 200
    assert len(response.json()["traces"]) == 1


@pytest.mark.parametrize("token", [None, INGEST_TOKEN, "nope"])
def test_query_api_without_a_query_token_is_401(server: RunningObsvty, token: str | None) -> None:
    # Act
    response = _get(server, "/api/v1/traces", token)
    ui = _get(server, "/", token)

    # Assert
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="obsvty"')
    assert "traces" not in response.json()
    assert ui.status_code == 401


def test_query_token_in_the_ui_cookie_reads(server: RunningObsvty) -> None:
    # Act
    response = httpx.get(f"{server.api_url}/api/v1/services", cookies={"obsvty_token": QUERY_TOKEN})

    # Assert
    assert response.status_code == 200


def test_security_headers_on_every_answer_of_the_query_listener(server: RunningObsvty) -> None:
    # Act
    answers = [_get(server, "/"), _get(server, "/api/v1/services"), _get(server, "/x", None)]

    # Assert
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_cors_allows_only_the_configured_origins(server: RunningObsvty) -> None:
    # Arrange
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }

    # Act
    allowed = httpx.options(
        f"{server.api_url}/api/v1/traces", headers={"Origin": GRAFANA, **preflight}
    )
    other = httpx.options(
        f"{server.api_url}/api/v1/traces", headers={"Origin": "https://evil.example", **preflight}
    )

    # Assert
    assert allowed.headers["Access-Control-Allow-Origin"] == GRAFANA
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_is_closed_by_default(tmp_path: Path) -> None:
    # Arrange
    with running_obsvty(tmp_path) as server:
        # Act
        response = httpx.get(
            f"{server.api_url}/api/v1/services", headers={"Origin": "https://evil.example"}
        )

    # Assert
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("payload", INJECTIONS)
def test_every_query_filter_with_an_injection_matches_nothing_and_changes_nothing(
    server: RunningObsvty, payload: str
) -> None:
    # Arrange
    requests = [
        ("/api/v1/traces", {"service": payload}),
        ("/api/v1/traces", {"operation": payload}),
        ("/api/v1/traces", {"attr": f"k={payload}"}),
        ("/api/v1/traces", {"attr": f"{payload}=v"}),
        ("/api/v1/traces", {"span_kind": payload}),
        ("/api/v1/traces", {"min_duration": payload}),
        ("/api/v1/traces", {"start": payload}),
        ("/api/v1/traces", {"limit": payload}),
        ("/api/v1/logs", {"service": payload}),
        ("/api/v1/logs", {"body": payload}),
        ("/api/v1/logs", {"trace_id": payload}),
        ("/api/v1/logs", {"min_severity": payload}),
        ("/api/v1/logs", {"attr": f"k={payload}"}),
        ("/api/v1/logs", {"cursor": payload}),
        ("/api/v1/metrics", {"service": payload}),
        (f"/api/v1/metrics/{payload}/series", {}),
        ("/api/v1/metrics/m/series", {"attr": f"k={payload}", "service": payload}),
        (f"/api/v1/services/{payload}/operations", {}),
        (f"/api/v1/traces/{payload}", {}),
        ("/jaeger/api/traces", {"service": payload}),
        ("/jaeger/api/traces", {"service": "svc", "operation": payload, "tags": payload}),
        (f"/jaeger/api/services/{payload}/operations", {}),
    ]

    # Act
    answers = [(path, _get(server, path, params=params)) for path, params in requests]
    server.flush()

    # Assert
    for path, answer in answers:
        assert answer.status_code in (200, 400, 404), (path, answer.status_code, answer.text)
        if answer.status_code == 200:
            body = answer.json()
            hits = body.get("traces", body.get("logs", body.get("data", [])))
            assert not hits, (path, body)
    assert span_names(server.app.store.cursor()) == ["raw"]
