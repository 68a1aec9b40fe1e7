"""The shared encoding of the domain model (``encoding.model_fields``): stored names in the
stored order, attribute maps through the given encoder, resource and scope names by prefix; and
the API's serialisers give the same fields (the functions they are to call)."""

from __future__ import annotations

import pytest

from obsvty.adapters.api.query_serialisers import log_doc, span_doc
from obsvty.adapters.encoding.model_fields import (
    descriptor_fields,
    event_fields,
    exemplar_fields,
    link_fields,
    log_fields,
    quantile_fields,
    resource_fields,
    scope_fields,
)
from obsvty.adapters.storage.mongodb.documents import encode_attributes
from obsvty.domain.model import (
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    Resource,
    Span,
    SpanEvent,
    SpanLink,
)

pytestmark = pytest.mark.unit

RESOURCE = Resource({"service.name": "checkout", "host": "a"}, 1, "https://schema/r")
SCOPE = InstrumentationScope("lib", "1.0", {"k": 1}, 2, "https://schema/s")
EVENT = SpanEvent(5, "retry", {"attempt": 2}, 1)
LINK = SpanLink(b"\x01" * 16, b"\x02" * 8, "st=1", {"a": b"\x00"}, 3, 1)


def test_resource_and_scope_fields_prefixed_flat_unprefixed_nested() -> None:
    # Act
    flat = {**resource_fields(RESOURCE), **scope_fields(SCOPE)}
    nested = (resource_fields(RESOURCE, prefix=""), scope_fields(SCOPE, prefix=""))

    # Assert
    assert list(flat) == [
        "service_name",
        "resource_attributes",
        "resource_dropped_attributes_count",
        "resource_schema_url",
        "scope_name",
        "scope_version",
        "scope_attributes",
        "scope_dropped_attributes_count",
        "scope_schema_url",
    ]
    assert nested[0] == {
        "service_name": "checkout",
        "attributes": RESOURCE.attributes,
        "dropped_attributes_count": 1,
        "schema_url": "https://schema/r",
    }
    assert list(nested[1]) == [
        "name",
        "version",
        "attributes",
        "dropped_attributes_count",
        "schema_url",
    ]


def test_fields_attribute_maps_through_the_given_encoder_ids_as_hex() -> None:
    # Arrange
    exemplar = Exemplar(7, 1.5, {"f": "x"}, b"\x03" * 16, b"")
    descriptor = MetricDescriptor("m", "d", "ms", "sum", 2, True, {"meta": "y"})

    # Act
    link = link_fields(LINK, encode_attributes)
    encoded = (
        event_fields(EVENT, encode_attributes)["attributes"],
        exemplar_fields(exemplar, encode_attributes),
        descriptor_fields(descriptor, encode_attributes)["metric_metadata"],
    )

    # Assert
    assert link == {
        "trace_id": "01" * 16,
        "span_id": "02" * 8,
        "trace_state": "st=1",
        "attributes": [{"k": "a", "v": b"\x00"}],
        "dropped_attributes_count": 3,
        "flags": 1,
    }
    assert encoded[0] == [{"k": "attempt", "v": 2}]
    assert encoded[1]["trace_id"] == "03" * 16
    assert encoded[1]["span_id"] == ""
    assert encoded[1]["filtered_attributes"] == [{"k": "f", "v": "x"}]
    assert encoded[2] == [{"k": "meta", "v": "y"}]
    assert quantile_fields([(0.5, 1.0)]) == [{"quantile": 0.5, "value": 1.0}]


def test_api_serialisers_give_the_shared_fields() -> None:
    # Arrange
    ids = (b"\x01" * 16, b"\x02" * 8, b"")
    span = Span(*ids, "GET", 2, 1, 9, RESOURCE, SCOPE, events=(EVENT,), links=(LINK,))
    record = LogRecord(1, 2, 9, "INFO", {"m": [1]}, RESOURCE, SCOPE, {"a": 1}, 0, 1, b"", b"", "e")

    # Act
    span_json, log_json = span_doc(span), log_doc(record)

    # Assert
    assert span_json["events"] == [event_fields(EVENT)]
    assert span_json["links"] == [link_fields(LINK)]
    assert span_json["resource"] == resource_fields(RESOURCE, prefix="")
    assert span_json["scope"] == scope_fields(SCOPE, prefix="")
    assert log_json == {
        **log_fields(record),
        "resource": resource_fields(RESOURCE, prefix=""),
        "scope": scope_fields(SCOPE, prefix=""),
    }
