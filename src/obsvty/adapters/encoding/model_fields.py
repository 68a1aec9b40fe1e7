"""The domain model's parts as dicts of their fields: the one encoding that the DuckDB columns,
the MongoDB documents, the cloud sync's records, the query API and the OTLP/JSON export share.

Names are the stored ones (snake_case, the DuckDB column names, which are also the MongoDB field
names), in the order of the stored layout; trace and span ids are lower-case hex (``""`` when
absent); times are integer nanoseconds. What legitimately differs between the outputs is a
parameter, not a copy:

* ``attributes`` encodes each attribute map. As-is (the default) for the API and the sync
  records; ``typed_json.dumps`` for the DuckDB columns of resources, scopes and descriptors
  (events, links and exemplars are dumped as a whole list, bytes as ``{"$bytes": ..}``);
  ``mongodb.documents.encode_attributes`` for MongoDB (``{"k", "v"}`` pairs, so that dotted
  keys are not read as paths); the OTLP/JSON ``KeyValue`` list with ``AnyValue`` wrappers for
  the export's resource and scope.
* ``prefix`` names the resource's and scope's fields: ``resource_``/``scope_`` where they sit
  flat beside a record's own fields (stores, sync), ``""`` where they are an object of their
  own (API, OTLP/JSON).

What stays outside, because it differs: the OTLP/JSON export renames fields to lowerCamelCase,
leaves out defaults and writes 64-bit integers as strings (proto3 JSON, ``otlp.export``), and
writes a span's events and links itself (through these dicts the trace view was slower);
MongoDB adds ``_id``, ``ts`` and Decimal128 for uint64 counts; DuckDB builds whole columns
(Arrow) rather than a dict per record. A span's own fields are not here: the stores build them
column by column, and the API's span differs (kind and status by name, resource and scope
nested, duration).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from obsvty.domain.model import (
    Attributes,
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    Resource,
    SpanEvent,
    SpanLink,
)

Fields = dict[str, Any]
AttributesEncoder = Callable[[Attributes], Any]


def as_is(attributes: Attributes) -> Attributes:
    """The attribute map itself (the default encoder)."""
    return attributes


def event_fields(e: SpanEvent, attributes: AttributesEncoder = as_is) -> Fields:
    return {
        "time_unix_nano": e.time_unix_nano,
        "name": e.name,
        "attributes": attributes(e.attributes),
        "dropped_attributes_count": e.dropped_attributes_count,
    }


def link_fields(link: SpanLink, attributes: AttributesEncoder = as_is) -> Fields:
    return {
        "trace_id": link.trace_id.hex(),
        "span_id": link.span_id.hex(),
        "trace_state": link.trace_state,
        "attributes": attributes(link.attributes),
        "dropped_attributes_count": link.dropped_attributes_count,
        "flags": link.flags,
    }


def exemplar_fields(e: Exemplar, attributes: AttributesEncoder = as_is) -> Fields:
    return {
        "time_unix_nano": e.time_unix_nano,
        "value": e.value,
        "filtered_attributes": attributes(e.filtered_attributes),
        "trace_id": e.trace_id.hex(),
        "span_id": e.span_id.hex(),
    }


def quantile_fields(quantiles: Sequence[tuple[float, float]]) -> list[Fields]:
    return [{"quantile": q, "value": v} for q, v in quantiles]


def resource_fields(
    r: Resource, attributes: AttributesEncoder = as_is, prefix: str = "resource_"
) -> Fields:
    return {
        "service_name": r.service_name,
        prefix + "attributes": attributes(r.attributes),
        prefix + "dropped_attributes_count": r.dropped_attributes_count,
        prefix + "schema_url": r.schema_url,
    }


def scope_fields(
    s: InstrumentationScope, attributes: AttributesEncoder = as_is, prefix: str = "scope_"
) -> Fields:
    return {
        prefix + "name": s.name,
        prefix + "version": s.version,
        prefix + "attributes": attributes(s.attributes),
        prefix + "dropped_attributes_count": s.dropped_attributes_count,
        prefix + "schema_url": s.schema_url,
    }


def descriptor_fields(m: MetricDescriptor, attributes: AttributesEncoder = as_is) -> Fields:
    return {
        "metric_name": m.name,
        "metric_description": m.description,
        "metric_unit": m.unit,
        "metric_type": m.type,
        "aggregation_temporality": m.aggregation_temporality,
        "is_monotonic": m.is_monotonic,
        "metric_metadata": attributes(m.metadata),
    }


def log_fields(r: LogRecord, attributes: AttributesEncoder = as_is) -> Fields:
    """A log record's own fields (without its resource and scope)."""
    return {
        "time_unix_nano": r.time_unix_nano,
        "observed_time_unix_nano": r.observed_time_unix_nano,
        "severity_number": r.severity_number,
        "severity_text": r.severity_text,
        "body": r.body,
        "attributes": attributes(r.attributes),
        "dropped_attributes_count": r.dropped_attributes_count,
        "flags": r.flags,
        "trace_id": r.trace_id.hex(),
        "span_id": r.span_id.hex(),
        "event_name": r.event_name,
    }
