"""The read side: what the query API, the Jaeger API and the web UI ask of a store.

Every store (DuckDB, MongoDB, ...) implements :class:`TelemetryQueryPort` with *the same results*
for the same data; the contract suite in ``tests/contract/test_query_contract.py`` checks that.
Stores do what they do fast (filtering, sorting, limits, grouping by trace); aggregation that does
not depend on the store (rates, percentiles, steps) lives in ``application/metric_series.py`` and
``application/metric_histograms.py``.

Conventions shared by every query:

* Times are unix nanoseconds. A time range is half-open: ``start_unix_nano <= t < end_unix_nano``;
  ``None`` leaves that side open.
* Ids are raw bytes (``b""`` means absent), as in the domain records.
* ``limit`` is a positive number of results; a store never returns more.
* Attribute filters (:class:`AttributeFilter`) all have to match (AND). A filter matches an item
  when the item's own attributes *or* its resource's attributes hold the key with a matching value
  (see :meth:`AttributeFilter.matches`, the reference semantics every store follows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from obsvty.domain.model import (
    AttributeValue,
    LogRecord,
    MetricPoint,
    Signal,
    Span,
)

FilterValue: TypeAlias = str | bool | int | float
"""A value an attribute is compared with: a scalar OTLP attribute type (not bytes/array/map)."""


def filter_text(value: FilterValue) -> str:
    """The canonical text of a filter value: ``true``/``false``, ``200``, ``1.5``, or the string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """``key`` must hold ``value``, compared as users expect of typed attributes.

    * a ``str`` value matches only a string attribute equal to it;
    * a ``bool`` value matches only a boolean attribute equal to it;
    * an ``int`` or ``float`` value matches an int or double attribute with the same numeric value
      (``200`` matches the int ``200`` and the double ``200.0``);
    * a ``bool``, ``int`` or ``float`` value also matches a *string* attribute equal to its
      canonical text (:func:`filter_text`): ``http.status_code=200`` finds ``"200"`` too.

    Bytes, arrays, maps and empty values never match.
    """

    key: str
    value: FilterValue

    def matches(self, attribute: AttributeValue) -> bool:
        """The reference semantics (stores translate this into their own query language)."""
        value = self.value
        if isinstance(attribute, str):
            return attribute == (value if isinstance(value, str) else filter_text(value))
        if isinstance(value, bool) or isinstance(attribute, bool):
            return isinstance(value, bool) and isinstance(attribute, bool) and value == attribute
        if isinstance(value, int | float) and isinstance(attribute, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                return isinstance(attribute, float) and attribute == value
            return attribute == value
        return False


# ------------------------------------------------------------------------------------- traces


@dataclass(frozen=True, slots=True)
class Operation:
    """A span name seen for a service, with the span kind it was recorded with."""

    name: str
    span_kind: int


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """Find traces with at least one span that satisfies *every* span filter below.

    The span filters (``service``, ``operation``, ``span_kind``, the time range, the duration
    bounds, ``errors_only`` and ``attributes``) apply together to one and the same span: a trace is
    a hit when one of its spans is from ``service``, named ``operation``, starts within the range,
    lasts between ``min_duration_ns`` and ``max_duration_ns`` (inclusive), has status ERROR and
    holds the attributes. Hits are ordered by the start time of their earliest matching span,
    newest first, ties by trace id ascending; at most ``limit`` traces.
    """

    service: str | None = None
    operation: str | None = None
    span_kind: int | None = None
    start_unix_nano: int | None = None
    end_unix_nano: int | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    errors_only: bool = False
    attributes: tuple[AttributeFilter, ...] = ()
    limit: int = 20


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One trace found, summarised over *all* of its stored spans (not only the matching ones).

    The root span is the span without a parent; when none is stored (an incomplete trace) it is the
    earliest span (ties: lowest span id). ``start_time_unix_nano`` is the earliest span start,
    ``duration_ns`` the latest span end minus that start. ``services`` is sorted.
    """

    trace_id: bytes
    root_service: str
    root_name: str
    start_time_unix_nano: int
    duration_ns: int
    span_count: int
    error_count: int
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DependencyLink:
    """Calls from one service to another, as a service map (Jaeger's dependencies) draws them.

    A call is a span of ``child`` whose parent span, stored in the same trace, is of ``parent``, a
    different service (a span whose parent is of its own service is no call between services; a
    span whose parent was not stored is none either). ``call_count`` counts those spans;
    ``error_count`` those of them with status ERROR.
    """

    parent: str
    child: str
    call_count: int
    error_count: int


# --------------------------------------------------------------------------------------- logs


@dataclass(frozen=True, slots=True, order=True)
class LogCursor:
    """Where a page of logs ended: the last record's time and its store-assigned tie breaker.

    Logs are ordered newest first by ``(time, tiebreak)`` descending, where *time* is the record's
    ``time_unix_nano``, or its ``observed_time_unix_nano`` when the former is 0 (unset), and
    ``tiebreak`` is an integer the store assigns to each record, unique and never changing (DuckDB:
    an insert sequence number, not the row id, which a checkpoint after deletes can renumber;
    MongoDB: the ObjectId as an integer). The next page holds the records strictly
    after the cursor in that order, so paging never skips or repeats a record.
    """

    time_unix_nano: int
    tiebreak: int


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Find log records matching every filter, newest first (see :class:`LogCursor`).

    ``min_severity`` keeps records with ``severity_number >= min_severity``. ``body_contains``
    keeps records whose body is a *string* containing the text, case-insensitively. ``trace_id``
    keeps the records of one trace. The time range applies to the record's time as defined in
    :class:`LogCursor`. ``cursor`` continues from a previous page.
    """

    start_unix_nano: int | None = None
    end_unix_nano: int | None = None
    min_severity: int | None = None
    service: str | None = None
    trace_id: bytes | None = None
    body_contains: str | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    limit: int = 100
    cursor: LogCursor | None = None


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of logs; ``next_cursor`` is ``None`` when there is nothing after this page."""

    records: list[LogRecord]
    next_cursor: LogCursor | None


# ------------------------------------------------------------------------------------ metrics


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """A metric name as stored, with its type; ``unit`` and ``description`` are those of its most
    recent point (points of one name rarely disagree). ``services`` is sorted."""

    name: str
    type: str
    unit: str
    description: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """The points of one metric within a time range (on the point's ``time_unix_nano``), from one
    service if given, whose point attributes or resource attributes match every filter. Ordered
    by time ascending, ties in the store's insertion order; at most ``limit`` points."""

    name: str
    start_unix_nano: int | None = None
    end_unix_nano: int | None = None
    service: str | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    limit: int = 100_000


# -------------------------------------------------------------------------------------- stats


@dataclass(frozen=True, slots=True)
class SignalStats:
    """How many items of one signal are stored, and the time range they cover (``None`` when
    there are none). Span times are start times; log times as in :class:`LogCursor`."""

    count: int
    oldest_unix_nano: int | None = None
    newest_unix_nano: int | None = None


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What a store holds: per signal, and its size on disk (``None`` when it cannot tell)."""

    signals: dict[Signal, SignalStats] = field(default_factory=dict)
    size_bytes: int | None = None


# --------------------------------------------------------------------------------------- port


class TelemetryQueryPort(Protocol):
    """Reads telemetry back. Safe to call from several threads at once, next to ingestion."""

    def services(self, signal: Signal = Signal.TRACES) -> list[str]:
        """Every service name with stored items of ``signal``, sorted."""
        ...

    def operations(self, service: str, span_kind: int | None = None) -> list[Operation]:
        """Every distinct (span name, span kind) of ``service``, optionally of one kind only;
        sorted by name, then kind."""
        ...

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """The traces matching ``query``, summarised, in the order :class:`TraceQuery` defines."""
        ...

    def find_trace_spans(self, query: TraceQuery) -> list[list[Span]]:
        """The traces :meth:`find_traces` finds, in its order, each whole as :meth:`get_trace`
        returns it (what the Jaeger search answers), leaving out any removed meanwhile."""
        ...

    def get_trace(self, trace_id: bytes) -> list[Span]:
        """Every stored span of one trace with events, links, resource and scope, ordered by
        start time then span id; ``[]`` for an unknown trace."""
        ...

    def get_traces(self, trace_ids: Sequence[bytes]) -> list[list[Span]]:
        """:meth:`get_trace` of each of ``trace_ids``, in their order, at once (the Jaeger search
        returns whole traces: one read for all of them, not one per trace)."""
        ...

    def dependencies(
        self, start_unix_nano: int | None = None, end_unix_nano: int | None = None
    ) -> list[DependencyLink]:
        """The calls between services (see :class:`DependencyLink`) whose child span (the called
        side) starts within the range, wherever its parent lies in time; one link per (parent,
        child) pair, sorted by parent, then child."""
        ...

    def find_logs(self, query: LogQuery) -> LogPage:
        """One page of matching log records, newest first."""
        ...

    def metric_descriptors(self, service: str | None = None) -> list[MetricInfo]:
        """Every (metric name, type) stored, optionally from one service only; sorted by name,
        then type."""
        ...

    def metric_points(self, query: MetricQuery) -> list[MetricPoint]:
        """The data points matching ``query``, oldest first."""
        ...

    def stats(self) -> StoreStats:
        """Counts and time ranges per signal, and the store's size."""
        ...
