"""The rows the DuckDB query port reads, tied to their columns by name.

A row of a table is decoded by a :class:`RowDecoder` method whose parameters are named after the
columns it reads, and the SELECT list is built from those names (:func:`select_list`), so a
column added or moved changes both at once instead of silently shifting a ``row[17]``. The short
rows of aggregates (``SummaryRow``, ``LogKeyRow``) and the resource and scope part every table ends
with (``ResourceScopeRow``) are ``NamedTuple``s whose fields name the selected columns or aliases.
The stored parts (events, links, exemplars, quantiles, resources, scopes, descriptors) are decoded
by ``adapters.encoding.stored_rows``, which reads the same columns back from Arrow batches.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
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


def select_list(*parts: Sequence[str], expressions: Mapping[str, str] = {}) -> str:
    """The SELECT list of the field names of ``parts`` in order: a field is its column, or
    ``expression AS field`` when ``expressions`` gives one."""
    fields = [f for part in parts for f in part]
    unknown = set(expressions) - set(fields)
    if unknown:
        raise ValueError(f"expressions for no field: {sorted(unknown)}")
    return ", ".join(f"{expressions[f]} AS {f}" if f in expressions else f for f in fields)


def _columns(decode: Callable[..., Any]) -> tuple[str, ...]:
    """The columns a decoder reads: its named positional parameters, in order (the rest of the
    row, the resource and scope, arrives in its ``*resource_scope``)."""
    return tuple(
        name
        for name, p in inspect.signature(decode).parameters.items()
        if p.kind is p.POSITIONAL_OR_KEYWORD and name != "self"
    )


_RESOURCE_SCOPE = len(ResourceScopeRow._fields)
_resource_key = attrgetter(*stored_rows.RESOURCE_COLUMNS)
_scope_key = attrgetter(*stored_rows.SCOPE_COLUMNS)
"""The stored values of a part, by name, in the order ``stored_rows``' decoders take them."""


class RowDecoder:
    """Rows back into domain records, each row passed as ``decoder.span(*row)``: a decoder's
    parameters name the columns it reads, and ``SPAN_SELECT`` (and the others) are built from
    them, so the SELECT list and the decoding cannot disagree on a position (and locals are
    faster to read than ``row[i]``). Resources, scopes and metric descriptors are decoded once
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

    def span(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str,
        trace_state: str,
        flags: int,
        name: str,
        kind: int,
        start_time_unix_nano: int,
        end_time_unix_nano: int,
        attributes: str,
        dropped_attributes_count: int,
        events: str,
        dropped_events_count: int,
        links: str,
        dropped_links_count: int,
        status_code: int,
        status_message: str,
        *resource_scope: Any,
    ) -> Span:
        """A row selected as ``SPAN_SELECT``."""
        resource, scope = self._resource_scope(resource_scope)
        return Span(
            trace_id=bytes.fromhex(trace_id),
            span_id=bytes.fromhex(span_id),
            parent_span_id=bytes.fromhex(parent_span_id),
            trace_state=trace_state,
            flags=flags,
            name=name,
            kind=kind,
            start_time_unix_nano=start_time_unix_nano,
            end_time_unix_nano=end_time_unix_nano,
            attributes=loads_attributes(attributes),
            dropped_attributes_count=dropped_attributes_count,
            events=tuple(stored_rows.span_events(events)),
            dropped_events_count=dropped_events_count,
            links=tuple(stored_rows.span_links(links)),
            dropped_links_count=dropped_links_count,
            status_code=status_code,
            status_message=status_message,
            resource=resource,
            scope=scope,
        )

    def log(
        self,
        time_unix_nano: int,
        observed_time_unix_nano: int,
        severity_number: int,
        severity_text: str,
        body: str | None,
        attributes: str,
        dropped_attributes_count: int,
        flags: int,
        trace_id: str,
        span_id: str,
        event_name: str,
        *resource_scope: Any,
    ) -> LogRecord:
        """A row selected as ``LOG_COLUMNS`` (a ``LogKeyRow`` after it is ignored)."""
        resource, scope = self._resource_scope(resource_scope[:_RESOURCE_SCOPE])
        return LogRecord(
            time_unix_nano=time_unix_nano,
            observed_time_unix_nano=observed_time_unix_nano,
            severity_number=severity_number,
            severity_text=severity_text,
            body=loads_value(body),
            attributes=loads_attributes(attributes),
            dropped_attributes_count=dropped_attributes_count,
            flags=flags,
            trace_id=bytes.fromhex(trace_id),
            span_id=bytes.fromhex(span_id),
            event_name=event_name,
            resource=resource,
            scope=scope,
        )

    def metric_point(
        self,
        metric_name: str,
        metric_description: str,
        metric_unit: str,
        metric_type: str,
        aggregation_temporality: int,
        is_monotonic: bool,
        metric_metadata: str,
        start_time_unix_nano: int,
        time_unix_nano: int,
        attributes: str,
        flags: int,
        exemplars: str,
        value_int: int | None,
        value_double: float | None,
        count: int | None,
        sum: float | None,
        min: float | None,
        max: float | None,
        bucket_counts: list[int],
        explicit_bounds: list[float],
        scale: int | None,
        zero_count: int | None,
        zero_threshold: float | None,
        positive_offset: int | None,
        positive_bucket_counts: list[int],
        negative_offset: int | None,
        negative_bucket_counts: list[int],
        quantile_values: str,
        *resource_scope: Any,
    ) -> MetricPoint:
        """A row selected as ``METRIC_SELECT``."""
        resource, scope = self._resource_scope(resource_scope)
        descriptor = (
            metric_name,
            metric_description,
            metric_unit,
            metric_type,
            aggregation_temporality,
            is_monotonic,
            metric_metadata,
        )
        return MetricPoint(
            metric=self._descriptors.get(descriptor),
            start_time_unix_nano=start_time_unix_nano,
            time_unix_nano=time_unix_nano,
            attributes=loads_attributes(attributes),
            flags=flags,
            exemplars=tuple(stored_rows.exemplars(exemplars)),
            value_int=value_int,
            value_double=value_double,
            count=count,
            sum=sum,
            min=min,
            max=max,
            bucket_counts=tuple(bucket_counts),
            explicit_bounds=tuple(explicit_bounds),
            scale=scale,
            zero_count=zero_count,
            zero_threshold=zero_threshold,
            positive_offset=positive_offset,
            positive_bucket_counts=tuple(positive_bucket_counts),
            negative_offset=negative_offset,
            negative_bucket_counts=tuple(negative_bucket_counts),
            quantile_values=tuple(stored_rows.quantile_values(quantile_values)),
            resource=resource,
            scope=scope,
        )


SPAN_COLUMNS = (*_columns(RowDecoder.span), *ResourceScopeRow._fields)
LOG_COLUMNS = (*_columns(RowDecoder.log), *ResourceScopeRow._fields)
METRIC_COLUMNS = (*_columns(RowDecoder.metric_point), *ResourceScopeRow._fields)
"""The columns each decoder reads, in the order it takes them (a page of logs selects a
``LogKeyRow`` after its columns)."""
SPAN_SELECT = select_list(SPAN_COLUMNS)
METRIC_SELECT = select_list(METRIC_COLUMNS)


def log_key(row: Sequence[Any]) -> LogKeyRow:
    """The page key of a row selected as ``LOG_COLUMNS`` then ``LogKeyRow``."""
    return LogKeyRow._make(row[len(LOG_COLUMNS) :])
