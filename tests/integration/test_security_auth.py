"""Bearer-token authentication on both receivers, with the SDK's own exporters as clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.support.security import grpc_export, one_span_request, sdk_spans, span_names
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

INGEST_TOKEN = "ingest-s3cret-0123456789"  # noqa: S105 - a test token
QUERY_TOKEN = "query-s3cret-9876543210"  # noqa: S105 - a test token


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[RunningObsvty]:
    tokens_file = tmp_path / "ingest-tokens"
    tokens_file.write_text(f"# ingest\n{INGEST_TOKEN}\n", encoding="utf-8")
    with running_obsvty(
        tmp_path,
        obsvty_ingest_tokens_file=tokens_file,
        obsvty_query_tokens=QUERY_TOKEN,
    ) as server:
        yield server


def test_sdk_exporters_with_the_ingest_token_store_over_grpc_and_http(
    secured: RunningObsvty,
) -> None:
    # Arrange
    auth = {"authorization": f"Bearer {INGEST_TOKEN}"}
    grpc_exporter = GrpcSpanExporter(endpoint=secured.grpc_endpoint, insecure=True, headers=auth)
    http_exporter = HttpSpanExporter(endpoint=f"{secured.http_url}/v1/traces", headers=auth)

    # Act
    over_grpc = grpc_exporter.export(sdk_spans("via-grpc"))
    over_http = http_exporter.export(sdk_spans("via-http"))
    secured.flush()

    # Assert
    assert over_grpc is SpanExportResult.SUCCESS
    assert over_http is SpanExportResult.SUCCESS
    assert span_names(secured.app.store.cursor()) == ["via-grpc", "via-http"]


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        (f"Bearer {INGEST_TOKEN}x", "invalid_token"),
        (f"Bearer {QUERY_TOKEN}", "invalid_token"),  # a query token cannot write
        (f"Basic {INGEST_TOKEN}", None),
    ],
)
def test_http_export_without_a_valid_ingest_token_is_401_and_nothing_stored(
    secured: RunningObsvty, authorization: str | None, error: str | None
) -> None:
    # Arrange
    headers = {"Content-Type": "application/x-protobuf"}
    if authorization is not None:
        headers["Authorization"] = authorization

    # Act
    response = httpx.post(
        f"{secured.http_url}/v1/traces", content=one_span_request(), headers=headers
    )
    secured.flush()

    # Assert
    assert response.status_code == 401
    expected = 'Bearer realm="obsvty"' + (f', error="{error}"' if error else "")
    assert response.headers["WWW-Authenticate"] == expected
    assert response.headers["content-type"] == "application/x-protobuf"
    assert INGEST_TOKEN not in response.text
    assert span_names(secured.app.store.cursor()) == []


def test_http_401_answers_json_requests_in_json(secured: RunningObsvty) -> None:
    # Act
    response = httpx.post(
        f"{secured.http_url}/v1/logs", content=b"{}", headers={"Content-Type": "application/json"}
    )

    # Assert
    assert response.status_code == 401
    assert response.json() == {
        "code": 16,
        "message": "missing bearer token: send 'Authorization: Bearer <token>'",
    }


@pytest.mark.parametrize(
    "metadata",
    [(), (("authorization", "Bearer nope"),), (("authorization", f"Bearer {QUERY_TOKEN}"),)],
)
def test_grpc_export_without_a_valid_ingest_token_is_unauthenticated(
    secured: RunningObsvty, metadata: tuple[tuple[str, str], ...]
) -> None:
    # Act
    with (
        grpc.insecure_channel(secured.grpc_endpoint) as channel,
        pytest.raises(grpc.RpcError) as failure,
    ):
        grpc_export(channel, one_span_request(), metadata)
    secured.flush()

    # Assert
    assert failure.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert span_names(secured.app.store.cursor()) == []


def test_tokens_never_appear_in_logs_or_answers(
    secured: RunningObsvty, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    caplog.set_level(logging.DEBUG)
    wrong = "Bearer " + INGEST_TOKEN[:-1]

    # Act
    answers = [
        httpx.post(
            f"{secured.http_url}/v1/traces",
            content=b"not protobuf",
            headers={"Content-Type": "application/x-protobuf", "Authorization": a},
        ).text
        for a in (wrong, f"Bearer {INGEST_TOKEN}")
    ]
    with grpc.insecure_channel(secured.grpc_endpoint) as channel:
        for authorization in (wrong, f"Bearer {INGEST_TOKEN}"):
            metadata = (("authorization", authorization),)
            with pytest.raises(grpc.RpcError) as failure:
                grpc_export(channel, b"\xff\xff\xff", metadata)
            answers.append(str(failure.value.details()))

    # Assert
    text = caplog.text + "".join(answers)
    assert INGEST_TOKEN[:-1] not in text
    assert QUERY_TOKEN not in text


def test_without_tokens_configured_loopback_ingest_is_open(obsvty: RunningObsvty) -> None:
    # Act
    response = httpx.post(
        f"{obsvty.http_url}/v1/traces",
        content=one_span_request("open"),
        headers={"Content-Type": "application/x-protobuf"},
    )

    # Assert
    assert response.status_code == 200
