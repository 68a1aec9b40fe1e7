"""Malformed requests to a real obsvty: each gets its clear error with the right status, in the
request's encoding, nothing of it is stored, and the server keeps serving (a valid request right
after still succeeds)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.support.duckdb_rows import rows
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

LIMIT = 64 * 1024
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _valid_request(span_number: int) -> trace_service_pb2.ExportTraceServiceRequest:
    span = trace_pb2.Span(
        trace_id=b"\x01" * 16,
        span_id=span_number.to_bytes(8, "big"),
        name="valid",
        start_time_unix_nano=1,
        end_time_unix_nano=2,
    )
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=[span])])]
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    """One server for every malformed request of this module: it must survive them all."""
    with running_obsvty(
        tmp_path_factory.mktemp("malformed"),
        http_max_request_size=LIMIT,
        grpc_max_message_length=LIMIT,
    ) as running:
        yield running


def _assert_still_serving(server: RunningObsvty, span_number: int) -> None:
    body = _valid_request(span_number).SerializeToString()
    response = httpx.post(
        f"{server.http_url}/v1/traces", content=body, headers={"Content-Type": PROTOBUF}
    )
    assert response.status_code == 200
    server.flush()
    stored = {r["span_id"] for r in rows(server.app.store.cursor(), "spans")}
    assert span_number.to_bytes(8, "big").hex() in stored


TRUNCATED = _valid_request(1).SerializeToString()[:-3]
HUGE_JSON_SPANS = json.dumps({"resourceSpans": [{"x": "y" * LIMIT}]}).encode()

# (id, content type, extra headers, body, expected HTTP status, expected message fragment)
HTTP_CASES: list[tuple[str, str, dict[str, str], bytes, int, str]] = [
    ("garbage-protobuf", PROTOBUF, {}, b"\x00\xffgarbage\xff", 400, "invalid protobuf"),
    ("truncated-protobuf", PROTOBUF, {}, TRUNCATED, 400, "invalid protobuf"),
    ("invalid-json", JSON, {}, b'{"resourceSpans": [', 400, "invalid JSON"),
    ("json-not-an-object", JSON, {}, b"[1, 2]", 400, "must be a JSON object"),
    ("json-wrong-shape", JSON, {}, b'{"resourceSpans": "nope"}', 400, "invalid OTLP/JSON"),
    (
        "json-bad-int",
        JSON,
        {},
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
        400,
        "invalid OTLP/JSON",
    ),
    ("bad-gzip", JSON, {"Content-Encoding": "gzip"}, b"this is not gzip", 400, "invalid gzip"),
    (
        "truncated-gzip",
        JSON,
        {"Content-Encoding": "gzip"},
        gzip.compress(b"{}" * 100)[:-8],
        400,
        "gzip",
    ),
    ("unknown-encoding", JSON, {"Content-Encoding": "br"}, b"{}", 400, "Content-Encoding"),
    ("oversize-body", JSON, {}, HUGE_JSON_SPANS, 413, "over"),
    (
        "oversize-after-gzip",
        PROTOBUF,
        {"Content-Encoding": "gzip"},
        gzip.compress(b"\x00" * (LIMIT * 4)),
        413,
        "decompressed body over",
    ),
]


@pytest.mark.parametrize(
    ("content_type", "headers", "body", "status", "fragment"),
    [case[1:] for case in HTTP_CASES],
    ids=[case[0] for case in HTTP_CASES],
)
def test_http_receiver_malformed_request_gets_status_in_request_encoding(
    server: RunningObsvty,
    content_type: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    fragment: str,
) -> None:
    # Arrange
    span_number = 1000 + len(rows(server.app.store.cursor(), "spans"))

    # Act
    response = httpx.post(
        f"{server.http_url}/v1/traces",
        content=body,
        headers={"Content-Type": content_type, **headers},
    )

    # Assert
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    if content_type == PROTOBUF:
        error = status_pb2.Status.FromString(response.content)
        code, message = error.code, error.message
    else:
        document = response.json()
        code, message = document["code"], document["message"]
    assert code == code_pb2.INVALID_ARGUMENT
    assert fragment in message
    _assert_still_serving(server, span_number)


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/grpc"])
def test_http_receiver_unsupported_content_type_is_415(
    server: RunningObsvty, content_type: str
) -> None:
    # Act
    response = httpx.post(
        f"{server.http_url}/v1/logs", content=b"{}", headers={"Content-Type": content_type}
    )

    # Assert
    assert response.status_code == 415
    assert "unsupported Content-Type" in response.json()["message"]
    _assert_still_serving(server, 2000 + len(content_type))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_http_receiver_non_post_is_405(server: RunningObsvty, method: str) -> None:
    # Act
    response = httpx.request(method, f"{server.http_url}/v1/metrics")

    # Assert
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


def test_http_receiver_healthz_answers_200_once_ready(server: RunningObsvty) -> None:
    # Act
    response = httpx.get(f"{server.http_url}/healthz")

    # Assert
    assert response.status_code == 200


def _raw_export(server: RunningObsvty, payload: bytes) -> Any:
    with grpc.insecure_channel(server.grpc_endpoint) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        return export(payload, timeout=10)


@pytest.mark.parametrize(
    "payload", [b"\x00\xffgarbage\xff", TRUNCATED], ids=["garbage", "truncated"]
)
def test_grpc_receiver_undecodable_request_is_invalid_argument(
    server: RunningObsvty, payload: bytes
) -> None:
    # Act
    with pytest.raises(grpc.RpcError) as caught:
        _raw_export(server, payload)

    # Assert
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid protobuf" in caught.value.details()
    _assert_still_serving(server, 3000 + len(payload))


def test_grpc_receiver_oversize_request_is_refused_and_serving_goes_on(
    server: RunningObsvty,
) -> None:
    # Arrange
    request = _valid_request(4000)
    request.resource_spans[0].scope_spans[0].spans[0].name = "n" * (LIMIT + 1)

    # Act
    with (
        grpc.insecure_channel(server.grpc_endpoint) as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=10)

    # Assert
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    server.flush()
    assert "0000000000000fa0" not in {
        r["span_id"] for r in rows(server.app.store.cursor(), "spans")
    }
    with grpc.insecure_channel(server.grpc_endpoint) as channel:
        response = trace_service_pb2_grpc.TraceServiceStub(channel).Export(
            _valid_request(4001), timeout=10
        )
    assert not response.HasField("partial_success")
