"""Columnar batches: the unit that flows from the receivers through the buffer to a store.

A batch holds one list per field, all of equal length, one entry per item (span, log record or
metric data point). Decoders append straight into the columns, so the ingest hot path creates no
object per item; stores turn the columns into their own bulk format (Arrow for DuckDB, documents
for MongoDB). Resources and scopes are shared by reference between the items they describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar, Self, TypeAlias

from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.model import (
    Attributes,
    AttributeValue,
    Exemplar,
    InstrumentationScope,
    MetricDescriptor,
    Resource,
    Signal,
    SpanEvent,
    SpanLink,
)

_COLUMN_NAMES: dict[type[_Columns], tuple[str, ...]] = {}


def _column_names(batch_type: type[_Columns]) -> tuple[str, ...]:
    """A batch type's columns in order, remembered (``dataclasses.fields`` is too slow for
    ``len()``, which the buffer and the flusher call on every batch)."""
    names = _COLUMN_NAMES.get(batch_type)
    if names is None:
        names = _COLUMN_NAMES[batch_type] = tuple(f.name for f in fields(batch_type))
    return names


@dataclass(slots=True)
class _Columns:
    """Operations shared by every columnar batch; subclasses only declare their columns."""

    signal: ClassVar[Signal]

    def __len__(self) -> int:
        return len(getattr(self, _column_names(type(self))[0]))

    def slice(self, start: int, stop: int | None = None) -> Self:
        """Items ``start:stop`` as a new batch (the columns are copied, never shared)."""
        return type(self)(**{n: getattr(self, n)[start:stop] for n in _column_names(type(self))})

    def extend(self, other: Self) -> None:
        """Append every item of ``other`` to this batch."""
        for name in _column_names(type(self)):
            getattr(self, name).extend(getattr(other, name))

    @classmethod
    def concat(cls, batches: list[Self]) -> Self:
        merged = cls()
        for batch in batches:
            merged.extend(batch)
        return merged


@dataclass(slots=True)
class SpanBatch(_Columns):
    signal: ClassVar[Signal] = Signal.TRACES

    trace_id: list[bytes] = field(default_factory=list)
    span_id: list[bytes] = field(default_factory=list)
    parent_span_id: list[bytes] = field(default_factory=list)
    trace_state: list[str] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    start_time_unix_nano: list[int] = field(default_factory=list)
    end_time_unix_nano: list[int] = field(default_factory=list)
    attributes: list[Attributes] = field(default_factory=list)
    dropped_attributes_count: list[int] = field(default_factory=list)
    events: list[list[SpanEvent]] = field(default_factory=list)
    dropped_events_count: list[int] = field(default_factory=list)
    links: list[list[SpanLink]] = field(default_factory=list)
    dropped_links_count: list[int] = field(default_factory=list)
    status_code: list[int] = field(default_factory=list)
    status_message: list[str] = field(default_factory=list)
    resource: list[Resource] = field(default_factory=list)
    scope: list[InstrumentationScope] = field(default_factory=list)


@dataclass(slots=True)
class LogBatch(_Columns):
    signal: ClassVar[Signal] = Signal.LOGS

    time_unix_nano: list[int] = field(default_factory=list)
    observed_time_unix_nano: list[int] = field(default_factory=list)
    severity_number: list[int] = field(default_factory=list)
    severity_text: list[str] = field(default_factory=list)
    body: list[AttributeValue] = field(default_factory=list)
    attributes: list[Attributes] = field(default_factory=list)
    dropped_attributes_count: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    trace_id: list[bytes] = field(default_factory=list)
    span_id: list[bytes] = field(default_factory=list)
    event_name: list[str] = field(default_factory=list)
    resource: list[Resource] = field(default_factory=list)
    scope: list[InstrumentationScope] = field(default_factory=list)


@dataclass(slots=True)
class MetricBatch(_Columns):
    """One item per data point; fields that a point type does not have are ``None`` or empty."""

    signal: ClassVar[Signal] = Signal.METRICS

    metric: list[MetricDescriptor] = field(default_factory=list)
    start_time_unix_nano: list[int] = field(default_factory=list)
    time_unix_nano: list[int] = field(default_factory=list)
    attributes: list[Attributes] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    exemplars: list[list[Exemplar]] = field(default_factory=list)
    # gauge and sum points: exactly one of the two is set (or neither, for an empty value)
    value_int: list[int | None] = field(default_factory=list)
    value_double: list[float | None] = field(default_factory=list)
    # histogram, exponential histogram and summary points
    count: list[int | None] = field(default_factory=list)
    sum: list[float | None] = field(default_factory=list)
    min: list[float | None] = field(default_factory=list)
    max: list[float | None] = field(default_factory=list)
    bucket_counts: list[list[int]] = field(default_factory=list)
    explicit_bounds: list[list[float]] = field(default_factory=list)
    scale: list[int | None] = field(default_factory=list)
    zero_count: list[int | None] = field(default_factory=list)
    zero_threshold: list[float | None] = field(default_factory=list)
    positive_offset: list[int | None] = field(default_factory=list)
    positive_bucket_counts: list[list[int]] = field(default_factory=list)
    negative_offset: list[int | None] = field(default_factory=list)
    negative_bucket_counts: list[list[int]] = field(default_factory=list)
    quantile_values: list[list[tuple[float, float]]] = field(default_factory=list)
    resource: list[Resource] = field(default_factory=list)
    scope: list[InstrumentationScope] = field(default_factory=list)


ListBatch: TypeAlias = SpanBatch | LogBatch | MetricBatch
"""A batch of Python values per item (the reference decoder's, and what redaction and limits
work on)."""

Batch: TypeAlias = ListBatch | ArrowBatch
"""What flows from the receivers through the buffer to a store."""
