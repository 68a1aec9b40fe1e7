"""OTLP export: domain records -> export request (protobuf and OTLP/JSON) -> the receivers' own
decoders -> the very same records."""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obsvty.adapters.otlp import codec, export
from obsvty.domain.batches import LogBatch, SpanBatch
from obsvty.domain.model import (
    InstrumentationScope,
    LogRecord,
    Resource,
    Span,
    SpanEvent,
    SpanLink,
)
from tests.support.records import batch_rows, log_batch, metric_batch, span_batch
from tests.support.telemetry_dataset import LOGS, POINTS, SPANS, T

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


# The direct span encoder (``traces_to_otlp_dict``) against the official route: protobuf messages
# walked by ``json_format.MessageToDict``. Any difference in a field, a default left out or not,
# or a value's JSON form fails here.

_SCALARS = (
    st.none()
    | st.text(max_size=8)
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.binary(max_size=8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_ATTRIBUTES = st.dictionaries(st.text(max_size=6), _VALUES, max_size=4)


def _official(spans: list[Span]) -> dict[str, object]:
    return export.to_otlp_dict(export.traces_request(spans))


def test_traces_to_otlp_dict_data_set_equals_official_encoding() -> None:
    # Act + Assert
    assert export.traces_to_otlp_dict(SPANS) == _official(SPANS)
    assert export.traces_to_otlp_dict([]) == _official([]) == {}


def test_traces_to_otlp_dict_defaults_and_edge_values_equal_official_encoding() -> None:
    # Arrange: every field at its default, and the awkward attribute values
    span = Span(
        trace_id=b"",
        span_id=b"",
        parent_span_id=b"",
        name="",
        kind=0,
        start_time_unix_nano=0,
        end_time_unix_nano=0,
        resource=Resource(),
        scope=InstrumentationScope(""),
        attributes={
            "": None,
            "s": "",
            "i": 0,
            "d": -0.0,
            "nan": math.nan,
            "b": b"",
            "l": [],
            "m": {},
        },
        events=(SpanEvent(0, ""),),
        links=(SpanLink(b"", b""),),
    )

    # Act
    fast = export.traces_to_otlp_dict([span])

    # Assert
    assert fast == _official([span])
    assert fast["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"] == {}


@settings(max_examples=60, deadline=None)
@given(
    span_attributes=_ATTRIBUTES,
    resource_attributes=_ATTRIBUTES,
    event_attributes=_ATTRIBUTES,
    name=st.text(max_size=6),
    kind=st.integers(0, 5),
    status=st.integers(0, 2),
    flags=st.integers(0, 2**32 - 1),
    dropped=st.integers(0, 3),
)
def test_traces_to_otlp_dict_any_attributes_equal_official_encoding(
    span_attributes: dict[str, object],
    resource_attributes: dict[str, object],
    event_attributes: dict[str, object],
    name: str,
    kind: int,
    status: int,
    flags: int,
    dropped: int,
) -> None:
    # Arrange
    span = Span(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        parent_span_id=b"\x03" * 8 if dropped % 2 else b"",
        name=name,
        kind=kind,
        start_time_unix_nano=T,
        end_time_unix_nano=T + dropped,
        resource=Resource(resource_attributes, dropped, "s" * dropped),  # type: ignore[arg-type]
        scope=InstrumentationScope(name, name, span_attributes, dropped),  # type: ignore[arg-type]
        attributes=span_attributes,  # type: ignore[arg-type]
        dropped_attributes_count=dropped,
        events=(SpanEvent(T, name, event_attributes, dropped),),  # type: ignore[arg-type]
        links=(SpanLink(b"\x04" * 16, b"\x05" * 8, name, event_attributes, dropped, flags),),  # type: ignore[arg-type]
        status_code=status,
        status_message=name,
        flags=flags,
    )

    # Act + Assert
    assert export.traces_to_otlp_dict([span]) == _official([span])
