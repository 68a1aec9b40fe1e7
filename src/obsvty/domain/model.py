"""Telemetry records as the OpenTelemetry data model defines them.

Attribute values keep their OTLP types as native Python values: ``str``, ``bool``, ``int``
(int64), ``float`` (double), ``bytes``, ``list`` (array), ``dict`` (key-value list) and ``None``
(an empty ``AnyValue``). Trace and span ids are raw bytes; ``b""`` means absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TypeAlias

AttributeValue: TypeAlias = (
    str | bool | int | float | bytes | list["AttributeValue"] | dict[str, "AttributeValue"] | None
)
Attributes: TypeAlias = dict[str, AttributeValue]

UNKNOWN_SERVICE = "unknown_service"
SERVICE_NAME_KEY = "service.name"


class SpanKind(IntEnum):
    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class StatusCode(IntEnum):
    UNSET = 0
    OK = 1
    ERROR = 2


class AggregationTemporality(IntEnum):
    UNSPECIFIED = 0
    DELTA = 1
    CUMULATIVE = 2


class MetricType(StrEnum):
    GAUGE = "gauge"
    SUM = "sum"
    HISTOGRAM = "histogram"
    EXPONENTIAL_HISTOGRAM = "exponential_histogram"
    SUMMARY = "summary"


class Signal(StrEnum):
    TRACES = "traces"
    LOGS = "logs"
    METRICS = "metrics"


@dataclass(frozen=True, slots=True, eq=True)
class Resource:
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    schema_url: str = ""

    @property
    def service_name(self) -> str:
        name = self.attributes.get(SERVICE_NAME_KEY)
        return name if isinstance(name, str) and name else UNKNOWN_SERVICE


@dataclass(frozen=True, slots=True, eq=True)
class InstrumentationScope:
    name: str = ""
    version: str = ""
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    schema_url: str = ""


@dataclass(frozen=True, slots=True)
class SpanEvent:
    time_unix_nano: int
    name: str
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0


@dataclass(frozen=True, slots=True)
class SpanLink:
    trace_id: bytes
    span_id: bytes
    trace_state: str = ""
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Exemplar:
    time_unix_nano: int
    value: int | float | None
    filtered_attributes: Attributes = field(default_factory=dict)
    trace_id: bytes = b""
    span_id: bytes = b""


@dataclass(frozen=True, slots=True)
class Span:
    """One span as read back from a store."""

    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    resource: Resource
    scope: InstrumentationScope
    trace_state: str = ""
    flags: int = 0
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    events: tuple[SpanEvent, ...] = ()
    dropped_events_count: int = 0
    links: tuple[SpanLink, ...] = ()
    dropped_links_count: int = 0
    status_code: int = StatusCode.UNSET
    status_message: str = ""

    @property
    def duration_ns(self) -> int:
        return self.end_time_unix_nano - self.start_time_unix_nano


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log record as read back from a store."""

    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int
    severity_text: str
    body: AttributeValue
    resource: Resource
    scope: InstrumentationScope
    attributes: Attributes = field(default_factory=dict)
    dropped_attributes_count: int = 0
    flags: int = 0
    trace_id: bytes = b""
    span_id: bytes = b""
    event_name: str = ""


@dataclass(frozen=True, slots=True)
class MetricDescriptor:
    """What every data point of one metric shares."""

    name: str
    description: str
    unit: str
    type: str
    aggregation_temporality: int = 0
    is_monotonic: bool = False
    metadata: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One metric data point as read back from a store (any point type).

    Fields a point type does not have are ``None`` or empty, exactly as in ``MetricBatch``:
    gauges and sums set ``value_int`` or ``value_double``; histograms set ``count``, ``sum``,
    ``min``, ``max``, ``bucket_counts`` and ``explicit_bounds``; exponential histograms set
    ``count``, ``sum``, ``min``, ``max``, ``scale``, ``zero_count``, ``zero_threshold`` and the
    positive/negative buckets; summaries set ``count``, ``sum`` and ``quantile_values``.
    """

    metric: MetricDescriptor
    resource: Resource
    scope: InstrumentationScope
    start_time_unix_nano: int
    time_unix_nano: int
    attributes: Attributes = field(default_factory=dict)
    flags: int = 0
    exemplars: tuple[Exemplar, ...] = ()
    value_int: int | None = None
    value_double: float | None = None
    count: int | None = None
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()
    scale: int | None = None
    zero_count: int | None = None
    zero_threshold: float | None = None
    positive_offset: int | None = None
    positive_bucket_counts: tuple[int, ...] = ()
    negative_offset: int | None = None
    negative_bucket_counts: tuple[int, ...] = ()
    quantile_values: tuple[tuple[float, float], ...] = ()

    @property
    def value(self) -> int | float | None:
        """The gauge or sum value, whichever of int or double is set."""
        return self.value_int if self.value_int is not None else self.value_double
