"""A request whose framing parses but one of whose span attributes is not a ``KeyValue`` is
refused whole over both transports (the official parser refuses it whole too), nothing of it is
stored, and the receivers keep serving."""

from __future__ import annotations

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from obsvty.adapters.otlp import to_domain
from tests.support.server import RunningObsvty

pytestmark = pytest.mark.integration

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _request(span_byte: int, bad_attribute: bytes | None) -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes([7] * 16)
    span.span_id = bytes([span_byte] * 8)
    span.start_time_unix_nano = 1_700_000_000_000_000_000
    span.end_time_unix_nano = 1_700_000_000_000_000_001
    span.attributes.add(key="ok", value=AnyValue(string_value="yes"))
    view = to_domain.TRACE_REQUEST_VIEW.FromString(request.SerializeToString())
    if bad_attribute is not None:
        view.resource_spans[0].scope_spans[0].spans[0].attributes.append(bad_attribute)  # type: ignore[attr-defined]
    return view.SerializeToString()


def _stored_span_ids(obsvty: RunningObsvty) -> list[str]:
    obsvty.flush()
    rows = obsvty.app.store.cursor().execute("SELECT span_id FROM spans ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def test_grpc_receiver_malformed_span_attribute_is_invalid_argument_and_not_stored(
    obsvty: RunningObsvty,
) -> None:
    # Arrange
    with grpc.insecure_channel(obsvty.grpc_endpoint) as channel:
        export = channel.unary_unary(EXPORT)

        # Act
        with pytest.raises(grpc.RpcError) as caught:
            export(_request(1, b"\x0a\x02\xff\xfe"), timeout=10)
        export(_request(2, None), timeout=10)

    # Assert
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid protobuf ExportTraceServiceRequest" in caught.value.details()
    assert _stored_span_ids(obsvty) == ["0202020202020202"]


def test_http_receiver_malformed_span_attribute_is_400_and_not_stored(
    obsvty: RunningObsvty,
) -> None:
    # Arrange
    headers = {"Content-Type": "application/x-protobuf"}
    url = f"{obsvty.http_url}/v1/traces"

    # Act
    bad = httpx.post(url, content=_request(3, b"\xff"), headers=headers)
    good = httpx.post(url, content=_request(4, None), headers=headers)

    # Assert
    assert bad.status_code == 400
    assert good.status_code == 200
    assert _stored_span_ids(obsvty) == ["0404040404040404"]
