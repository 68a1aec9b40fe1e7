"""The domain-span to Jaeger-JSON encoder, field by field."""

from __future__ import annotations

import pytest

from obsvty.adapters.api import jaeger_json
from obsvty.domain.model import (
    InstrumentationScope,
    Resource,
    Span,
    SpanEvent,
    SpanKind,
    SpanLink,
    StatusCode,
)

pytestmark = pytest.mark.unit

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
OTHER_TRACE = bytes.fromhex("0123456789abcdef0123456789abcdef")
ROOT = bytes.fromhex("eee19b7ec3c1b174")
CHILD = bytes.fromhex("eee19b7ec3c1b173")
MISSING = bytes.fromhex("00000000000000aa")
FRONTEND = Resource({"service.name": "frontend", "host.name": "h1"})
BACKEND = Resource({"service.name": "backend"})
SCOPE = InstrumentationScope("my.lib", "1.2.3")


def _span(span_id: bytes, parent: bytes = b"", **fields: object) -> Span:
    base: dict[str, object] = {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": "op",
        "kind": SpanKind.INTERNAL,
        "start_time_unix_nano": 1_544_712_660_000_000_000,
        "end_time_unix_nano": 1_544_712_661_000_000_000,
        "resource": FRONTEND,
        "scope": SCOPE,
    }
    base.update(fields)
    return Span(**base)  # type: ignore[arg-type]


def _tags(encoded: dict[str, object]) -> dict[str, tuple[str, object]]:
    return {t["key"]: (t["type"], t["value"]) for t in encoded["tags"]}  # type: ignore[attr-defined]


def test_encode_trace_root_and_child_references_times_and_processes() -> None:
    # Arrange
    root = _span(ROOT, name="GET /", kind=SpanKind.SERVER, flags=0x101)
    child = _span(
        CHILD,
        ROOT,
        name="SELECT",
        kind=SpanKind.CLIENT,
        resource=BACKEND,
        start_time_unix_nano=1_544_712_660_300_000_999,
        end_time_unix_nano=1_544_712_660_800_000_000,
    )

    # Act
    trace = jaeger_json.encode_trace([child, root])

    # Assert
    assert trace["traceID"] == TRACE.hex()
    assert trace["warnings"] is None
    first, second = trace["spans"]
    assert first["spanID"] == ROOT.hex()
    assert first["operationName"] == "GET /"
    assert first["references"] == []
    assert first["startTime"] == 1_544_712_660_000_000
    assert first["duration"] == 1_000_000
    assert first["flags"] == 1
    assert first["warnings"] is None
    assert second["references"] == [
        {"refType": "CHILD_OF", "traceID": TRACE.hex(), "spanID": ROOT.hex()}
    ]
    assert second["startTime"] == 1_544_712_660_300_000
    assert second["duration"] == 499_999
    assert trace["processes"] == {
        "p1": {
            "serviceName": "frontend",
            "tags": [{"key": "host.name", "type": "string", "value": "h1"}],
        },
        "p2": {"serviceName": "backend", "tags": []},
    }
    assert (first["processID"], second["processID"]) == ("p1", "p2")
    assert _tags(first)["span.kind"] == ("string", "server")
    assert _tags(second)["span.kind"] == ("string", "client")


def test_encode_trace_typed_attribute_values_become_typed_tags() -> None:
    # Arrange
    span = _span(
        ROOT,
        attributes={
            "s": "text",
            "b": True,
            "i": 200,
            "d": 1.5,
            "raw": b"\x00\xff",
            "arr": ["a", 1],
            "map": {"k": [True]},
            "empty": None,
        },
    )

    # Act
    tags = _tags(jaeger_json.encode_trace([span])["spans"][0])

    # Assert
    assert tags["s"] == ("string", "text")
    assert tags["b"] == ("bool", True)
    assert tags["i"] == ("int64", 200)
    assert tags["d"] == ("float64", 1.5)
    assert tags["raw"] == ("binary", "AP8=")
    assert tags["arr"] == ("string", '["a",1]')
    assert tags["map"] == ("string", '{"k":[true]}')
    assert tags["empty"] == ("string", "")


def test_encode_trace_error_status_scope_and_tracestate_become_tags() -> None:
    # Arrange
    span = _span(
        ROOT,
        status_code=StatusCode.ERROR,
        status_message="boom",
        trace_state="k=v",
        kind=SpanKind.UNSPECIFIED,
    )

    # Act
    tags = _tags(jaeger_json.encode_trace([span])["spans"][0])

    # Assert
    assert tags["otel.status_code"] == ("string", "ERROR")
    assert tags["error"] == ("bool", True)
    assert tags["otel.status_description"] == ("string", "boom")
    assert tags["otel.scope.name"] == ("string", "my.lib")
    assert tags["otel.scope.version"] == ("string", "1.2.3")
    assert tags["w3c.tracestate"] == ("string", "k=v")
    assert "span.kind" not in tags


def test_encode_trace_ok_and_unset_status_carry_no_error_tag() -> None:
    # Arrange
    ok = _span(ROOT, status_code=StatusCode.OK)
    unset = _span(CHILD, ROOT, start_time_unix_nano=1_544_712_660_000_000_001)

    # Act
    first, second = jaeger_json.encode_trace([ok, unset])["spans"]

    # Assert
    assert _tags(first)["otel.status_code"] == ("string", "OK")
    assert "error" not in _tags(first)
    assert "otel.status_code" not in _tags(second)
    assert "error" not in _tags(second)


def test_encode_trace_attribute_wins_over_synthetic_tag_of_same_name() -> None:
    # Arrange
    span = _span(ROOT, kind=SpanKind.SERVER, attributes={"span.kind": "custom"})

    # Act
    encoded = jaeger_json.encode_trace([span])["spans"][0]

    # Assert
    assert [t for t in encoded["tags"] if t["key"] == "span.kind"] == [
        {"key": "span.kind", "type": "string", "value": "custom"}
    ]


def test_encode_trace_events_become_logs_and_links_follows_from() -> None:
    # Arrange
    span = _span(
        ROOT,
        events=(
            SpanEvent(1_544_712_660_500_000_000, "exception", {"exception.type": "ValueError"}),
            SpanEvent(1_544_712_660_600_000_000, "named", {"event": "own"}),
        ),
        links=(SpanLink(OTHER_TRACE, CHILD, attributes={"a": 1}),),
    )

    # Act
    encoded = jaeger_json.encode_trace([span])["spans"][0]

    # Assert
    assert encoded["logs"] == [
        {
            "timestamp": 1_544_712_660_500_000,
            "fields": [
                {"key": "event", "type": "string", "value": "exception"},
                {"key": "exception.type", "type": "string", "value": "ValueError"},
            ],
        },
        {
            "timestamp": 1_544_712_660_600_000,
            "fields": [{"key": "event", "type": "string", "value": "own"}],
        },
    ]
    assert encoded["references"] == [
        {"refType": "FOLLOWS_FROM", "traceID": OTHER_TRACE.hex(), "spanID": CHILD.hex()}
    ]


def test_encode_trace_orphan_and_dropped_counts_are_warned() -> None:
    # Arrange
    orphan = _span(CHILD, MISSING, dropped_attributes_count=2, dropped_events_count=1)

    # Act
    encoded = jaeger_json.encode_trace([orphan])["spans"][0]

    # Assert
    assert encoded["references"][0]["spanID"] == MISSING.hex()
    assert encoded["warnings"] == [
        f"invalid parent span IDs={MISSING.hex()}; parent span not received",
        "2 attributes dropped by the sender",
        "1 events dropped by the sender",
    ]


def test_encode_trace_same_resource_shares_one_process() -> None:
    # Arrange
    spans = [_span(ROOT), _span(CHILD, ROOT, resource=Resource(dict(FRONTEND.attributes)))]

    # Act
    trace = jaeger_json.encode_trace(spans)

    # Assert
    assert list(trace["processes"]) == ["p1"]
    assert {s["processID"] for s in trace["spans"]} == {"p1"}


def test_encode_trace_without_service_name_uses_unknown_service() -> None:
    # Arrange
    span = _span(ROOT, resource=Resource({}))

    # Act
    trace = jaeger_json.encode_trace([span])

    # Assert
    assert trace["processes"]["p1"]["serviceName"] == "unknown_service"


def test_encode_trace_no_spans_is_refused() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="at least one span"):
        jaeger_json.encode_trace([])


def test_envelope_and_error_envelope_match_jaeger_shape() -> None:
    # Act
    ok = jaeger_json.envelope(["a", "b"])
    error = jaeger_json.error_envelope(404, "trace not found")

    # Assert
    assert ok == {"data": ["a", "b"], "total": 2, "limit": 0, "offset": 0, "errors": None}
    assert error == {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": 404, "msg": "trace not found"}],
    }
