"""Input limits on what one export request may carry, applied between decoding and the buffer.

Every limit is optional; with none configured :func:`limited_codec` returns the codec unchanged,
so the ingest hot path pays nothing. What each limit does, following the OpenTelemetry SDK's own
attribute limits where there is one:

- ``max_items``: a request with more spans, log records or data points is refused whole
  (``INVALID_ARGUMENT`` / HTTP 400) before anything of it is decoded into the domain.
- ``max_attributes``: attributes beyond the first N of an item (or of its resource, scope, event
  or link) are discarded and added to that item's ``dropped_attributes_count``, as the SDK does
  (metric data points have no such field: those are counted in
  :attr:`LimitCounters.dropped_point_attributes`).
- ``max_events`` / ``max_links``: span events or links beyond the first N are discarded and added
  to the span's ``dropped_events_count`` / ``dropped_links_count``.
- ``max_value_length``: string and bytes values longer than N (also inside arrays and maps) are
  truncated to N. Per the SDK specification truncation does not drop the attribute, so it does not
  change ``dropped_attributes_count``; each truncated value is counted in
  :attr:`LimitCounters.truncated_values` (the ``obsvty_attribute_values_truncated`` metric).
- ``max_depth``: an item with an attribute value (or log body) whose arrays/maps nest deeper than N
  is rejected, alone, through ``partial_success``: nothing of it is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from obsvty.adapters.otlp.codec import PayloadError, SignalCodec
from obsvty.application.ingest import DecodedRequest
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import ListBatch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Attributes, AttributeValue, Signal

_ITEM_NAMES = {Signal.TRACES: "spans", Signal.LOGS: "log records", Signal.METRICS: "data points"}


@dataclass(frozen=True, slots=True)
class ItemLimits:
    max_items: int | None = None
    max_attributes: int | None = None
    max_value_length: int | None = None
    max_depth: int | None = None
    max_events: int | None = None
    max_links: int | None = None

    @property
    def per_item(self) -> bool:
        return any(
            v is not None
            for v in (
                self.max_attributes,
                self.max_value_length,
                self.max_depth,
                self.max_events,
                self.max_links,
            )
        )

    @property
    def enabled(self) -> bool:
        return self.max_items is not None or self.per_item


@dataclass(slots=True)
class LimitCounters:
    """What the limits changed, for metrics. Confined to the serving event loop."""

    truncated_values: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(Signal, 0))
    rejected_items: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(Signal, 0))
    refused_requests: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(Signal, 0))
    dropped_point_attributes: int = 0
    """Attributes dropped from metric data points, which have no ``dropped_attributes_count``."""


def count_items(signal: Signal, request: Any) -> int:
    """Spans, log records or data points in a protobuf export request, without decoding them."""
    if signal is Signal.TRACES:
        return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    if signal is Signal.LOGS:
        return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                total += len(getattr(metric, kind).data_points) if kind else 1
    return total


def _too_deep(value: AttributeValue, budget: int) -> bool:
    if isinstance(value, list):
        return budget == 0 or any(_too_deep(v, budget - 1) for v in value)
    if isinstance(value, dict):
        return budget == 0 or any(_too_deep(v, budget - 1) for v in value.values())
    return False


class _Enforcer:
    """Applies the per-item limits to one decoded batch."""

    def __init__(self, limits: ItemLimits, signal: Signal, counters: LimitCounters) -> None:
        self._limits = limits
        self._signal = signal
        self._counters = counters
        self._truncated = 0

    def _truncate(self, value: AttributeValue, limit: int) -> AttributeValue:
        if isinstance(value, str | bytes):
            if len(value) > limit:
                self._truncated += 1
                return value[:limit]
            return value
        if isinstance(value, list):
            return [self._truncate(v, limit) for v in value]
        if isinstance(value, dict):
            return {k: self._truncate(v, limit) for k, v in value.items()}
        return value

    def attributes(self, attrs: Attributes) -> tuple[int, str | None]:
        """Limit ``attrs`` in place: how many were dropped, and why the item must go, if so."""
        limits = self._limits
        dropped = 0
        if limits.max_attributes is not None and len(attrs) > limits.max_attributes:
            extra = list(attrs)[limits.max_attributes :]
            for key in extra:
                del attrs[key]
            dropped = len(extra)
        if limits.max_depth is not None:
            for key, value in attrs.items():
                if _too_deep(value, limits.max_depth):
                    return dropped, (
                        f"attribute {key[:64]!r} nests arrays/maps deeper than {limits.max_depth}"
                    )
        if limits.max_value_length is not None:
            for key, value in attrs.items():
                if isinstance(value, str | bytes | list | dict):
                    attrs[key] = self._truncate(value, limits.max_value_length)
        return dropped, None

    def _shared(self, batch: ListBatch) -> dict[int, str]:
        """Limit each distinct resource and scope once; problems by their ``id``."""
        problems: dict[int, str] = {}
        replaced: dict[int, Any] = {}
        for column in (batch.resource, batch.scope):
            for obj in {id(o): o for o in column}.values():
                dropped, problem = self.attributes(obj.attributes)
                if problem is not None:
                    problems[id(obj)] = problem
                if dropped:
                    replaced[id(obj)] = dataclasses.replace(
                        obj, dropped_attributes_count=obj.dropped_attributes_count + dropped
                    )
            if replaced:
                column[:] = [replaced.get(id(o), o) for o in column]
        return problems

    def _nested(self, items: list[Any], limit: int | None) -> tuple[list[Any], int, str | None]:
        """Events or links of one span: capped at ``limit``, each one's attributes limited."""
        dropped = 0
        if limit is not None and len(items) > limit:
            dropped = len(items) - limit
            items = items[:limit]
        out = []
        for item in items:
            lost, problem = self.attributes(item.attributes)
            if problem is not None:
                return items, dropped, problem
            out.append(
                dataclasses.replace(
                    item, dropped_attributes_count=item.dropped_attributes_count + lost
                )
                if lost
                else item
            )
        return out, dropped, None

    def apply(self, decoded: DecodedRequest) -> None:
        batch = decoded.batch
        if isinstance(batch, ArrowBatch):  # limits wrap the reference decoder only
            raise TypeError("input limits work on list-based batches, not on Arrow batches")
        limits = self._limits
        problems = self._shared(batch)
        resources, scopes = batch.resource, batch.scope
        bad: list[int] = []
        lost_on_points = 0
        for i, attrs in enumerate(batch.attributes):
            problem = problems.get(id(resources[i])) or problems.get(id(scopes[i]))
            dropped, own = self.attributes(attrs)
            problem = problem or own
            if isinstance(batch, MetricBatch):  # data points carry no dropped count
                lost_on_points += dropped
            else:
                batch.dropped_attributes_count[i] += dropped
            if isinstance(batch, SpanBatch) and problem is None:
                problem = self._span_children(batch, i)
            elif (
                isinstance(batch, LogBatch)
                and problem is None
                and limits.max_depth is not None
                and _too_deep(batch.body[i], limits.max_depth)
            ):
                problem = f"log body nests arrays/maps deeper than {limits.max_depth}"
            if problem is not None:
                bad.append(i)
                decoded.reject(problem)
        if bad:
            decoded.batch = _without(batch, bad)
            self._counters.rejected_items[self._signal] += len(bad)
        if lost_on_points:
            self._counters.dropped_point_attributes += lost_on_points
        if self._truncated:
            self._counters.truncated_values[self._signal] += self._truncated

    def _span_children(self, batch: SpanBatch, i: int) -> str | None:
        limits = self._limits
        if batch.events[i]:
            events, dropped, problem = self._nested(batch.events[i], limits.max_events)
            batch.events[i] = events
            batch.dropped_events_count[i] += dropped
            if problem is not None:
                return f"event: {problem}"
        if batch.links[i]:
            links, dropped, problem = self._nested(batch.links[i], limits.max_links)
            batch.links[i] = links
            batch.dropped_links_count[i] += dropped
            if problem is not None:
                return f"link: {problem}"
        return None


def _without(batch: ListBatch, bad: list[int]) -> ListBatch:
    drop = set(bad)
    keep = [i for i in range(len(batch)) if i not in drop]
    columns = {f.name: [getattr(batch, f.name)[i] for i in keep] for f in dataclasses.fields(batch)}
    return type(batch)(**columns)


def limited_codec(
    codec: SignalCodec[Any], limits: ItemLimits, counters: LimitCounters
) -> SignalCodec[Any]:
    """``codec`` with ``limits`` applied to every request it decodes (itself when none are set)."""
    if not limits.enabled:
        return codec
    signal = codec.signal
    inner: Callable[[Any], DecodedRequest] = codec.to_domain
    what = _ITEM_NAMES[signal]

    def to_domain(request: Any) -> DecodedRequest:
        if limits.max_items is not None:
            items = count_items(signal, request)
            if items > limits.max_items:
                counters.refused_requests[signal] += 1
                raise PayloadError(
                    f"request carries {items} {what}, over the limit of {limits.max_items}"
                )
        decoded = inner(request)
        if limits.per_item and len(decoded.batch):
            _Enforcer(limits, signal, counters).apply(decoded)
        return decoded

    # the limits work on list-based batches: the compiled decoder is not used under them
    return dataclasses.replace(codec.reference(), to_domain=to_domain)
