"""The rows the DuckDB query port reads, tied to their columns by name.

Each kind of row is a ``NamedTuple`` whose field names are the selected columns (or the aliases
of selected expressions): :func:`select_list` builds a SELECT list from the fields, and the
decoders read the fetched tuple through the same fields, so a column added or moved changes both
at once instead of silently shifting a position. The stored parts (events, links, exemplars,
quantiles, resources, scopes, descriptors) are decoded by ``adapters.encoding.stored_rows``, which
reads the same columns back from Arrow batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from obsvty.adapters.encoding import stored_rows
from obsvty.adapters.encoding.typed_json import loads_attributes, loads_value
from obsvty.domain.model import (
    InstrumentationScope,
    LogRecord,
    MetricPoint,
    Resource,
    Span,
)


class SpanRow(NamedTuple):
    """A ``spans`` row without its resource and scope."""

    trace_id: str
    span_id: str
    parent_span_id: str
    trace_state: str
    flags: int
    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: str
    dropped_attributes_count: int
    events: str
    dropped_events_count: int
    links: str
    dropped_links_count: int
    status_code: int
    status_message: str


class LogRow(NamedTuple):
    """A ``logs`` row without its resource and scope."""

    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int
    severity_text: str
    body: str | None
    attributes: str
    dropped_attributes_count: int
    flags: int
    trace_id: str
    span_id: str
    event_name: str


class MetricRow(NamedTuple):
    """A ``metric_points`` row without its resource and scope."""

    metric_name: str
    metric_description: str
    metric_unit: str
    metric_type: str
    aggregation_temporality: int
    is_monotonic: bool
    metric_metadata: str
    start_time_unix_nano: int
    time_unix_nano: int
    attributes: str
    flags: int
    exemplars: str
    value_int: int | None
    value_double: float | None
    count: int | None  # type: ignore[assignment]  # the column; shadows tuple.count, unused
    sum: float | None
    min: float | None
    max: float | None
    bucket_counts: list[int]
    explicit_bounds: list[float]
    scale: int | None
    zero_count: int | None
    zero_threshold: float | None
    positive_offset: int | None
    positive_bucket_counts: list[int]
    negative_offset: int | None
    negative_bucket_counts: list[int]
    quantile_values: str


class ResourceScopeRow(NamedTuple):
    """The resource and scope columns every table ends with (``RESOURCE_SCOPE_FIELDS``)."""

    service_name: str
    resource_attributes: str
    resource_dropped_attributes_count: int
    resource_schema_url: str
    scope_name: str
    scope_version: str
    scope_attributes: str
    scope_dropped_attributes_count: int
    scope_schema_url: str


class SummaryRow(NamedTuple):
    """A trace summarised over its spans (the expressions are in ``duckdb.query``)."""

    trace_id: str
    root_service: str
    root_name: str
    trace_start: int
    trace_duration: int
    span_count: int
    error_count: int
    services: list[str]


class LogKeyRow(NamedTuple):
    """A log record's place in the page order: the cursor's two values."""

    log_time: int
    log_seq: int


def select_list(*rows: type[tuple[Any, ...]], expressions: Mapping[str, str] = {}) -> str:
    """The SELECT list of ``rows``' fields in order: a field is its column, or ``expression AS
    field`` when ``expressions`` gives one."""
    fields = [f for row in rows for f in getattr(row, "_fields")]  # noqa: B009 - a NamedTuple
    unknown = set(expressions) - set(fields)
    if unknown:
        raise ValueError(f"expressions for no field: {sorted(unknown)}")
    return ", ".join(f"{expressions[f]} AS {f}" if f in expressions else f for f in fields)


SPAN_SELECT = select_list(SpanRow, ResourceScopeRow)
LOG_SELECT_WITHOUT_KEY = select_list(LogRow, ResourceScopeRow)
METRIC_SELECT = select_list(MetricRow, ResourceScopeRow)

_SPAN = len(SpanRow._fields)
_LOG = len(LogRow._fields)
_LOG_KEY = _LOG + len(ResourceScopeRow._fields)
_METRIC = len(MetricRow._fields)
_resource_key = attrgetter(*stored_rows.RESOURCE_COLUMNS)
_scope_key = attrgetter(*stored_rows.SCOPE_COLUMNS)
_descriptor_key = attrgetter(*stored_rows.DESCRIPTOR_COLUMNS)
"""The stored values of a part, by name, in the order ``stored_rows``' decoders take them."""


def log_key(row: Sequence[Any]) -> LogKeyRow:
    """The page key of a row selected as ``LogRow, ResourceScopeRow, LogKeyRow``."""
    return LogKeyRow._make(row[_LOG_KEY:])


class RowDecoder:
    """Rows back into domain records; resources, scopes and metric descriptors are decoded once
    per distinct stored value, so the spans of one trace share them as they did on ingest."""

    def __init__(self) -> None:
        self._resources = stored_rows.Shared(stored_rows.resource)
        self._scopes = stored_rows.Shared(stored_rows.scope)
        self._descriptors = stored_rows.Shared(stored_rows.metric_descriptor)
        self._resource_scopes: dict[tuple[Any, ...], tuple[Resource, InstrumentationScope]] = {}

    def _resource_scope(self, values: tuple[Any, ...]) -> tuple[Resource, InstrumentationScope]:
        """The resource and scope of a row's ``ResourceScopeRow`` part, found by the whole part
        (one lookup per row), each still shared with the rows of other scopes or resources."""
        found = self._resource_scopes.get(values)
        if found is None:
            part = ResourceScopeRow._make(values)
            found = self._resource_scopes[values] = (
                self._resources.get(_resource_key(part)),
                self._scopes.get(_scope_key(part)),
            )
        return found

    def span(self, row: tuple[Any, ...]) -> Span:
        """A row selected as ``SPAN_SELECT``."""
        s = SpanRow._make(row[:_SPAN])
        resource, scope = self._resource_scope(row[_SPAN:])
        return Span(
            trace_id=bytes.fromhex(s.trace_id),
            span_id=bytes.fromhex(s.span_id),
            parent_span_id=bytes.fromhex(s.parent_span_id),
            trace_state=s.trace_state,
            flags=s.flags,
            name=s.name,
            kind=s.kind,
            start_time_unix_nano=s.start_time_unix_nano,
            end_time_unix_nano=s.end_time_unix_nano,
            attributes=loads_attributes(s.attributes),
            dropped_attributes_count=s.dropped_attributes_count,
            events=tuple(stored_rows.span_events(s.events)),
            dropped_events_count=s.dropped_events_count,
            links=tuple(stored_rows.span_links(s.links)),
            dropped_links_count=s.dropped_links_count,
            status_code=s.status_code,
            status_message=s.status_message,
            resource=resource,
            scope=scope,
        )

    def log(self, row: tuple[Any, ...]) -> LogRecord:
        """A row selected as ``LOG_SELECT_WITHOUT_KEY`` (a page key after it is ignored)."""
        r = LogRow._make(row[:_LOG])
        resource, scope = self._resource_scope(row[_LOG:_LOG_KEY])
        return LogRecord(
            time_unix_nano=r.time_unix_nano,
            observed_time_unix_nano=r.observed_time_unix_nano,
            severity_number=r.severity_number,
            severity_text=r.severity_text,
            body=loads_value(r.body),
            attributes=loads_attributes(r.attributes),
            dropped_attributes_count=r.dropped_attributes_count,
            flags=r.flags,
            trace_id=bytes.fromhex(r.trace_id),
            span_id=bytes.fromhex(r.span_id),
            event_name=r.event_name,
            resource=resource,
            scope=scope,
        )

    def metric_point(self, row: tuple[Any, ...]) -> MetricPoint:
        """A row selected as ``METRIC_SELECT``."""
        m = MetricRow._make(row[:_METRIC])
        resource, scope = self._resource_scope(row[_METRIC:])
        return MetricPoint(
            metric=self._descriptors.get(_descriptor_key(m)),
            start_time_unix_nano=m.start_time_unix_nano,
            time_unix_nano=m.time_unix_nano,
            attributes=loads_attributes(m.attributes),
            flags=m.flags,
            exemplars=tuple(stored_rows.exemplars(m.exemplars)),
            value_int=m.value_int,
            value_double=m.value_double,
            count=m.count,
            sum=m.sum,
            min=m.min,
            max=m.max,
            bucket_counts=tuple(m.bucket_counts),
            explicit_bounds=tuple(m.explicit_bounds),
            scale=m.scale,
            zero_count=m.zero_count,
            zero_threshold=m.zero_threshold,
            positive_offset=m.positive_offset,
            positive_bucket_counts=tuple(m.positive_bucket_counts),
            negative_offset=m.negative_offset,
            negative_bucket_counts=tuple(m.negative_bucket_counts),
            quantile_values=tuple(stored_rows.quantile_values(m.quantile_values)),
            resource=resource,
            scope=scope,
        )
