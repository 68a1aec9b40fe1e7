"""OTLP export: domain records -> export request (protobuf and OTLP/JSON) -> the receivers' own
decoders -> the very same records."""

from __future__ import annotations

import math

import orjson
import pytest

from obsvty.adapters.otlp import codec, export
from obsvty.domain.batches import LogBatch, SpanBatch
from obsvty.domain.model import InstrumentationScope, LogRecord, Resource
from tests.support.records import batch_rows, log_batch, metric_batch, span_batch
from tests.support.telemetry_dataset import LOGS, POINTS, SPANS

pytestmark = pytest.mark.unit


def _span_json_round_trip() -> SpanBatch:
    payload = export.traces_to_otlp_json(SPANS)
    decoded = codec.TRACES.to_domain(codec.TRACES.parse_json(payload))
    assert decoded.rejected == 0
    assert isinstance(decoded.batch, SpanBatch)
    return decoded.batch


def test_traces_to_otlp_json_reingested_every_field_equal() -> None:
    # Act
    batch = _span_json_round_trip()

    # Assert: the same spans, field by field (grouped by resource and scope, so reordered)
    assert batch_rows(batch) == batch_rows(span_batch(SPANS))


def test_traces_to_otlp_json_ids_hex_enums_integers() -> None:
    # Act
    doc = orjson.loads(export.traces_to_otlp_json(SPANS))

    # Assert
    spans = [s for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    by_id = {s["spanId"]: s for s in spans}
    root = by_id["00000000000000a1"]
    assert root["traceId"] == "0af7651916cd43dd8448eb211c80319c"
    assert root["kind"] == 2
    assert root["links"][0]["spanId"] == "00000000000000b1"
    assert "parentSpanId" not in root
    assert by_id["00000000000000a2"]["parentSpanId"] == "00000000000000a1"
    assert by_id["00000000000000a2"]["status"] == {"code": 2, "message": "boom"}


def test_traces_request_groups_by_resource_then_scope() -> None:
    # Act
    request = export.traces_request(SPANS)

    # Assert: frontend and backend resources, each scope once under its resource
    services = [
        next(a.value.string_value for a in rs.resource.attributes if a.key == "service.name")
        for rs in request.resource_spans
    ]
    assert sorted(services) == ["backend", "frontend"]
    assert sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans) == 5
    assert all(
        len({ss.scope.name for ss in rs.scope_spans}) == len(rs.scope_spans)
        for rs in request.resource_spans
    )


def test_logs_to_otlp_json_reingested_every_field_equal() -> None:
    # Act
    payload = export.logs_to_otlp_json(LOGS)
    decoded = codec.LOGS.to_domain(codec.LOGS.parse_json(payload))

    # Assert
    assert decoded.rejected == 0
    assert batch_rows(decoded.batch) == batch_rows(log_batch(LOGS))


def test_metrics_to_otlp_json_reingested_every_field_equal() -> None:
    # Act
    payload = export.metrics_to_otlp_json(POINTS)
    decoded = codec.METRICS.to_domain(codec.METRICS.parse_json(payload))

    # Assert
    assert decoded.rejected == 0
    assert batch_rows(decoded.batch) == batch_rows(metric_batch(POINTS))


def test_protobuf_request_round_trips_through_binary_decoder() -> None:
    # Arrange
    payload = export.metrics_request(POINTS).SerializeToString()

    # Act
    decoded = codec.METRICS.to_domain(codec.METRICS.parse_protobuf(payload))

    # Assert
    assert len(decoded.batch) == len(POINTS)


@pytest.mark.parametrize(
    "body",
    [[], {}, {"nested": [None, {"x": b"\x00"}]}, math.inf, -0.0, "", 0, False, b""],
)
def test_log_body_edge_values_survive_json(body: object) -> None:
    # Arrange
    record = LogRecord(1, 2, 9, "INFO", body, Resource(), InstrumentationScope())  # type: ignore[arg-type]

    # Act
    payload = export.logs_to_otlp_json([record])
    decoded = codec.LOGS.to_domain(codec.LOGS.parse_json(payload))

    # Assert
    assert isinstance(decoded.batch, LogBatch)
    assert repr(decoded.batch.body) == repr([body])
