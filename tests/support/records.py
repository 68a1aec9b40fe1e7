"""Domain records -> columnar batches, so tests can write exactly the records they later expect to
read back through the query port (and compare with ``==``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields

from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import LogRecord, MetricPoint, Span


def span_batch(spans: Iterable[Span]) -> SpanBatch:
    b = SpanBatch()
    for s in spans:
        b.trace_id.append(s.trace_id)
        b.span_id.append(s.span_id)
        b.parent_span_id.append(s.parent_span_id)
        b.trace_state.append(s.trace_state)
        b.flags.append(s.flags)
        b.name.append(s.name)
        b.kind.append(s.kind)
        b.start_time_unix_nano.append(s.start_time_unix_nano)
        b.end_time_unix_nano.append(s.end_time_unix_nano)
        b.attributes.append(s.attributes)
        b.dropped_attributes_count.append(s.dropped_attributes_count)
        b.events.append(list(s.events))
        b.dropped_events_count.append(s.dropped_events_count)
        b.links.append(list(s.links))
        b.dropped_links_count.append(s.dropped_links_count)
        b.status_code.append(s.status_code)
        b.status_message.append(s.status_message)
        b.resource.append(s.resource)
        b.scope.append(s.scope)
    return b


def log_batch(records: Iterable[LogRecord]) -> LogBatch:
    b = LogBatch()
    for r in records:
        b.time_unix_nano.append(r.time_unix_nano)
        b.observed_time_unix_nano.append(r.observed_time_unix_nano)
        b.severity_number.append(r.severity_number)
        b.severity_text.append(r.severity_text)
        b.body.append(r.body)
        b.attributes.append(r.attributes)
        b.dropped_attributes_count.append(r.dropped_attributes_count)
        b.flags.append(r.flags)
        b.trace_id.append(r.trace_id)
        b.span_id.append(r.span_id)
        b.event_name.append(r.event_name)
        b.resource.append(r.resource)
        b.scope.append(r.scope)
    return b


def metric_batch(points: Iterable[MetricPoint]) -> MetricBatch:
    b = MetricBatch()
    for p in points:
        b.metric.append(p.metric)
        b.start_time_unix_nano.append(p.start_time_unix_nano)
        b.time_unix_nano.append(p.time_unix_nano)
        b.attributes.append(p.attributes)
        b.flags.append(p.flags)
        b.exemplars.append(list(p.exemplars))
        b.value_int.append(p.value_int)
        b.value_double.append(p.value_double)
        b.count.append(p.count)
        b.sum.append(p.sum)
        b.min.append(p.min)
        b.max.append(p.max)
        b.bucket_counts.append(list(p.bucket_counts))
        b.explicit_bounds.append(list(p.explicit_bounds))
        b.scale.append(p.scale)
        b.zero_count.append(p.zero_count)
        b.zero_threshold.append(p.zero_threshold)
        b.positive_offset.append(p.positive_offset)
        b.positive_bucket_counts.append(list(p.positive_bucket_counts))
        b.negative_offset.append(p.negative_offset)
        b.negative_bucket_counts.append(list(p.negative_bucket_counts))
        b.quantile_values.append(list(p.quantile_values))
        b.resource.append(p.resource)
        b.scope.append(p.scope)
    return b


def batch_rows(batch: LogBatch | MetricBatch | SpanBatch) -> list[tuple[object, ...]]:
    """Every item as a tuple of all its fields, in a canonical order: equal (``==``) for batches
    holding the same items in any order (the export groups items by resource and scope)."""
    columns = [getattr(batch, f.name) for f in fields(batch)]
    return sorted(zip(*columns, strict=True), key=_canonical)


def _canonical(row: tuple[object, ...]) -> str:
    # an enum member and its plain value are equal, but their reprs differ
    return _ENUM_REPR.sub(r"\1", repr(row))


_ENUM_REPR = re.compile(r"<\w+\.\w+: ('?\w+'?)>")
