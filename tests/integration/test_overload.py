"""A full buffer under the ``reject`` policy: only retryable answers, never a 500 — HTTP 503 with
Retry-After, gRPC UNAVAILABLE with RetryInfo — and the same request succeeds once there is room."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.support.duckdb_rows import rows
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration


def _request(first: int, count: int) -> trace_service_pb2.ExportTraceServiceRequest:
    spans = [
        trace_pb2.Span(
            trace_id=b"\x02" * 16,
            span_id=(first + i).to_bytes(8, "big"),
            name="load",
            start_time_unix_nano=10,
            end_time_unix_nano=20,
        )
        for i in range(count)
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )


@pytest.fixture
def full_server(tmp_path: Path) -> Iterator[RunningObsvty]:
    """A server whose 3-item buffer holds 2 spans and is only flushed when the test says so."""
    with running_obsvty(
        tmp_path,
        max_buffer_size=3,
        buffer_overflow_policy="reject",
        flush_interval_ms=3_600_000,
        flush_batch_size=1000,
    ) as server:
        response = httpx.post(
            f"{server.http_url}/v1/traces",
            content=_request(1, 2).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert response.status_code == 200
        yield server


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
def test_http_receiver_full_buffer_reject_policy_answers_503_retry_after(
    full_server: RunningObsvty, content_type: str
) -> None:
    # Arrange
    request = _request(10, 2)
    if content_type == "application/json":
        body = (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":['
            b'{"traceId":"02020202020202020202020202020202","spanId":"000000000000000a",'
            b'"startTimeUnixNano":"10","endTimeUnixNano":"20"},'
            b'{"traceId":"02020202020202020202020202020202","spanId":"000000000000000b",'
            b'"startTimeUnixNano":"10","endTimeUnixNano":"20"}]}]}]}'
        )
    else:
        body = request.SerializeToString()
    url = f"{full_server.http_url}/v1/traces"

    # Act
    refused = httpx.post(url, content=body, headers={"Content-Type": content_type})
    full_server.flush()
    retried = httpx.post(url, content=body, headers={"Content-Type": content_type})
    full_server.flush()

    # Assert
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    assert refused.headers["content-type"] == content_type
    if content_type == "application/json":
        code = refused.json()["code"]
    else:
        code = status_pb2.Status.FromString(refused.content).code
    assert code == code_pb2.UNAVAILABLE
    assert retried.status_code == 200
    stored = sorted(r["span_id"] for r in rows(full_server.app.store.cursor(), "spans"))
    assert stored == [
        "0000000000000001",
        "0000000000000002",
        "000000000000000a",
        "000000000000000b",
    ]


def test_grpc_receiver_full_buffer_reject_policy_answers_unavailable_with_retry_info(
    full_server: RunningObsvty,
) -> None:
    # Arrange
    request = _request(20, 2)

    # Act
    with grpc.insecure_channel(full_server.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Export(request, timeout=10)
        full_server.flush()
        retried = stub.Export(request, timeout=10)

    # Assert
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(caught.value)
    assert status is not None
    retry_infos = [d for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
    assert len(retry_infos) == 1
    info = error_details_pb2.RetryInfo()
    retry_infos[0].Unpack(info)
    assert info.retry_delay.seconds >= 1
    # the OpenTelemetry Python exporter reads the delay from this trailing key
    trailing = dict(caught.value.trailing_metadata() or ())
    assert error_details_pb2.RetryInfo.FromString(trailing["google.rpc.retryinfo-bin"]) == info
    assert not retried.HasField("partial_success")


def test_receivers_buffer_full_to_capacity_refuse_before_decoding(
    full_server: RunningObsvty,
) -> None:
    # Arrange: fill the buffer to its last item, then offer bytes that are no OTLP at all
    url = f"{full_server.http_url}/v1/traces"
    headers = {"Content-Type": "application/x-protobuf"}
    assert httpx.post(url, content=_request(5, 1).SerializeToString(), headers=headers).is_success
    garbage = b"\xff\xff\xff not protobuf"

    # Act: a full buffer answers retryably without decoding; with room, the bytes are judged
    refused_http = httpx.post(url, content=garbage, headers=headers)
    with grpc.insecure_channel(full_server.grpc_endpoint) as channel:
        export = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=None,
            response_deserializer=None,
        )
        with pytest.raises(grpc.RpcError) as refused_grpc:
            export(garbage, timeout=10)
        full_server.flush()
        with pytest.raises(grpc.RpcError) as judged_grpc:
            export(garbage, timeout=10)
    judged_http = httpx.post(url, content=garbage, headers=headers)

    # Assert
    assert refused_http.status_code == 503
    assert refused_grpc.value.code() is grpc.StatusCode.UNAVAILABLE
    assert judged_http.status_code == 400
    assert judged_grpc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
