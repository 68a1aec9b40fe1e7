"""Per-client rate limits: refused with the retry hint OTLP clients honour, and the SDK's own
exporters, retrying, lose nothing."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.support.security import grpc_export, one_span_request, sdk_spans, span_names
from tests.support.server import running_obsvty

pytestmark = pytest.mark.integration

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def test_over_the_rate_http_is_429_with_retry_after_and_grpc_resource_exhausted_with_retry_info(
    tmp_path: Path,
) -> None:
    # Arrange: one request per 100 s, so the second one is refused whatever the timing
    with running_obsvty(tmp_path, rate_limit_traces_rps=0.01, rate_limit_traces_burst=1) as server:
        url = f"{server.http_url}/v1/traces"

        # Act
        first = httpx.post(url, content=one_span_request("first"), headers=PROTOBUF)
        second = httpx.post(url, content=one_span_request("second"), headers=PROTOBUF)
        logs = httpx.post(f"{server.http_url}/v1/logs", content=b"", headers=PROTOBUF)
        with (
            grpc.insecure_channel(server.grpc_endpoint) as channel,
            pytest.raises(grpc.RpcError) as refused,
        ):
            grpc_export(channel, one_span_request("third"))
        server.flush()
        stored = span_names(server.app.store.cursor())

    # Assert
    assert first.status_code == 200
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 100
    assert logs.status_code == 200  # another signal, not limited
    assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    retry_info = error_details_pb2.RetryInfo.FromString(
        dict(refused.value.trailing_metadata())["google.rpc.retryinfo-bin"]
    )
    assert 0 < retry_info.retry_delay.ToNanoseconds() <= 100 * 10**9
    assert stored == ["first"]


def test_sdk_exporters_over_the_rate_retry_and_lose_nothing(tmp_path: Path) -> None:
    # Arrange: a burst of one; each further request has to wait for its token
    with running_obsvty(tmp_path, rate_limit_traces_rps=4, rate_limit_traces_burst=1) as server:
        grpc_exporter = GrpcSpanExporter(endpoint=server.grpc_endpoint, insecure=True)
        http_exporter = HttpSpanExporter(endpoint=f"{server.http_url}/v1/traces")

        # Act
        results = [grpc_exporter.export(sdk_spans(f"grpc-{n}")) for n in range(3)]
        results += [http_exporter.export(sdk_spans(f"http-{n}")) for n in range(2)]
        server.flush()
        stored = span_names(server.app.store.cursor())
        refused = server.app.security.limiter.refused

    # Assert
    assert refused >= 1  # the limit did bite, and the exporters retried
    assert results == [SpanExportResult.SUCCESS] * 5
    assert stored == ["grpc-0", "grpc-1", "grpc-2", "http-0", "http-1"]
