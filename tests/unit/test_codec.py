"""The OTLP wire codec: OTLP/JSON's differences from proto3 JSON, protobuf parsing, responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from obsvty.adapters.otlp import codec
from obsvty.application.ingest import IngestResult
from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch

pytestmark = pytest.mark.unit

TRACE_HEX = "5b8efff798038103d269b633813fc60c"
SPAN_HEX = "eee19b7ec3c1b174"


def _traces(**span: Any) -> bytes:
    base = {"traceId": TRACE_HEX, "spanId": SPAN_HEX, "startTimeUnixNano": 1, "endTimeUnixNano": 2}
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{**base, **span}]}]}]}
    return json.dumps(doc).encode()


def _decode_spans(payload: bytes) -> tuple[SpanBatch, int, str]:
    decoded = codec.TRACES.to_domain(codec.TRACES.parse_json(payload))
    assert isinstance(decoded.batch, SpanBatch)
    return decoded.batch, decoded.rejected, decoded.error_message


@pytest.mark.parametrize("transform", [str.lower, str.upper], ids=["lower", "upper"])
def test_parse_json_hex_ids_any_case_become_bytes(transform: Any) -> None:
    # Act
    batch, rejected, _ = _decode_spans(
        _traces(traceId=transform(TRACE_HEX), spanId=transform(SPAN_HEX), parentSpanId="00" * 8)
    )

    # Assert
    assert rejected == 0
    assert batch.trace_id == [bytes.fromhex(TRACE_HEX)]
    assert batch.span_id == [bytes.fromhex(SPAN_HEX)]
    assert batch.parent_span_id == [b""]


def test_parse_json_int64_as_string_or_number_are_equal() -> None:
    # Act
    as_strings, _, _ = _decode_spans(
        _traces(startTimeUnixNano="1544712660000000000", endTimeUnixNano="1544712660000000001")
    )
    as_numbers, _, _ = _decode_spans(
        _traces(startTimeUnixNano=1544712660000000000, endTimeUnixNano=1544712660000000001)
    )

    # Assert
    assert as_strings.start_time_unix_nano == as_numbers.start_time_unix_nano
    assert as_strings.end_time_unix_nano == [1544712660000000001]


def test_parse_json_enum_as_int_and_unknown_fields_ignored() -> None:
    # Act
    batch, rejected, _ = _decode_spans(_traces(kind=3, newField={"x": 1}, status={"code": 2}))

    # Assert
    assert rejected == 0
    assert (batch.kind, batch.status_code) == ([3], [2])


@pytest.mark.parametrize(
    ("ids", "fragment"),
    [
        ({"traceId": "zz" * 16}, "trace_id must be 16 bytes"),
        ({"spanId": "abc"}, "span_id must be 8 bytes"),  # odd length
        ({"spanId": "00" * 8}, "span_id must not be all zero"),
        ({"traceId": TRACE_HEX + "00"}, "trace_id must be 16 bytes, got 17"),
        ({"parentSpanId": "nothex!"}, "parent_span_id"),
    ],
)
def test_parse_json_invalid_hex_id_rejects_the_item_not_the_request(
    ids: dict[str, str], fragment: str
) -> None:
    # Act
    batch, rejected, message = _decode_spans(_traces(**ids))

    # Assert
    assert (len(batch), rejected) == (0, 1)
    assert fragment in message


def test_parse_json_log_and_exemplar_ids_are_hex() -> None:
    # Arrange
    logs = {
        "resourceLogs": [
            {"scopeLogs": [{"logRecords": [{"traceId": TRACE_HEX.upper(), "spanId": SPAN_HEX}]}]}
        ]
    }
    exemplar = {"timeUnixNano": 1, "asInt": "5", "traceId": TRACE_HEX, "spanId": SPAN_HEX}
    point = {"timeUnixNano": "2", "asDouble": 1.5, "exemplars": [exemplar]}
    metrics = {
        "resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"name": "g", "gauge": {"dataPoints": [point]}}]}]}
        ]
    }

    # Act
    log_batch = codec.LOGS.to_domain(codec.LOGS.parse_json(json.dumps(logs).encode())).batch
    metric_batch = codec.METRICS.to_domain(
        codec.METRICS.parse_json(json.dumps(metrics).encode())
    ).batch

    # Assert
    assert isinstance(log_batch, LogBatch)
    assert isinstance(metric_batch, MetricBatch)
    assert (log_batch.trace_id, log_batch.span_id) == (
        [bytes.fromhex(TRACE_HEX)],
        [bytes.fromhex(SPAN_HEX)],
    )
    (ex,) = metric_batch.exemplars[0]
    assert (ex.trace_id, ex.span_id, ex.value) == (
        bytes.fromhex(TRACE_HEX),
        bytes.fromhex(SPAN_HEX),
        5,
    )


def test_parse_json_bytes_attribute_stays_base64_as_proto3_json_says() -> None:
    # Arrange: only ids are hex in OTLP/JSON; a bytesValue is base64
    attr = {"key": "raw", "value": {"bytesValue": "AAE="}}

    # Act
    batch, _, _ = _decode_spans(_traces(attributes=[attr]))

    # Assert
    assert batch.attributes == [{"raw": b"\x00\x01"}]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"{", "invalid JSON"),
        (b"", "invalid JSON"),
        (b'"text"', "must be a JSON object"),
        (b'{"resourceSpans": {"a": 1}}', "invalid OTLP/JSON"),
    ],
)
def test_parse_json_undecodable_payload_raises_payload_error(payload: bytes, fragment: str) -> None:
    # Act / Assert
    with pytest.raises(codec.PayloadError, match=fragment):
        codec.TRACES.parse_json(payload)


def test_parse_json_deeply_nested_value_is_a_payload_error_not_a_crash() -> None:
    # Arrange: an attribute value nested far beyond any real use
    depth = 300
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"leaf"}' + "]}}" * depth
    doc = '{"resourceSpans":[{"resource":{"attributes":[{"key":"deep","value":' + value + "}]}}]}"

    # Act / Assert
    with pytest.raises(codec.PayloadError):
        codec.TRACES.parse_json(doc.encode())


@pytest.mark.parametrize("payload", [b"\x00garbage", b"\x0a\x05\x0a"], ids=["garbage", "truncated"])
def test_parse_protobuf_undecodable_payload_raises_payload_error(payload: bytes) -> None:
    # Act / Assert
    with pytest.raises(codec.PayloadError, match="invalid protobuf ExportTraceServiceRequest"):
        codec.TRACES.parse_protobuf(payload)


def test_response_without_rejections_has_no_partial_success() -> None:
    # Act
    response = codec.TRACES.response(IngestResult(3, 0, "", 1))

    # Assert
    assert isinstance(response, ExportTraceServiceResponse)
    assert not response.HasField("partial_success")
    assert codec.message_to_json(response) == b"{}"


def test_response_with_rejections_sets_the_signal_field_and_message() -> None:
    # Act
    response = codec.LOGS.response(IngestResult(1, 2, "2 item(s) rejected; first: x", 1))

    # Assert
    assert isinstance(response, ExportLogsServiceResponse)
    assert response.partial_success.rejected_log_records == 2
    assert json.loads(codec.message_to_json(response)) == {
        "partialSuccess": {
            "rejectedLogRecords": "2",
            "errorMessage": "2 item(s) rejected; first: x",
        }
    }
