"""Query use cases: parameters from text, log cursors, and store-independent series aggregation.

Adapters (the native API, the CLI) turn raw text parameters into values with the ``parse_*``
functions, which raise :class:`QueryError` naming the bad parameter. :class:`QueryService` asks the
store (any :class:`TelemetryQueryPort`) and turns metric points into series: gauges as values, sums
as values or per-second rates, histograms as count/sum plus percentiles estimated from buckets.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

import orjson

from obsvty.domain.model import (
    AggregationTemporality,
    Attributes,
    MetricPoint,
    MetricType,
    Signal,
    Span,
    SpanKind,
)
from obsvty.ports.query import (
    AttributeFilter,
    LogCursor,
    LogPage,
    LogQuery,
    MetricInfo,
    MetricQuery,
    Operation,
    StoreStats,
    TelemetryQueryPort,
    TraceQuery,
    TraceSummary,
)

NS_PER_S = 1_000_000_000
MAX_LIMIT = 1000
MAX_SERIES_STEPS = 11_000
MAX_METRIC_POINTS = 200_000
DEFAULT_PERCENTILES = (50.0, 90.0, 95.0, 99.0)

_T = TypeVar("_T")


class QueryError(ValueError):
    """A query parameter is invalid; ``parameter`` names it, ``str()`` says why."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"invalid parameter {parameter!r}: {message}")
        self.parameter = parameter
        self.message = message


class NotFoundError(LookupError):
    """What was asked for (a trace, a metric) is not stored."""


# ----------------------------------------------------------------------- parameter parsing

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_S,
    "m": 60 * NS_PER_S,
    "h": 3600 * NS_PER_S,
    "d": 86400 * NS_PER_S,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_SEVERITIES = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "WARNING": 13, "ERROR": 17}
_SEVERITIES["FATAL"] = 21


def parse_duration(parameter: str, text: str) -> int:
    """``1h30m``, ``250ms``, ``1.5s``, ``100us``, ``2d`` (Go style), or integer nanoseconds."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    total = 0.0
    at = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != at:
            break
        total += float(match.group(1)) * _UNITS_NS[match.group(2)]
        at = match.end()
    if at == 0 or at != len(text):
        raise QueryError(
            parameter, f"{text!r} is not a duration (e.g. 250ms, 1.5s, 1h30m, or nanoseconds)"
        )
    return round(total)


def parse_time(parameter: str, text: str, now_ns: int | None = None) -> int:
    """Unix nanoseconds from ``now``, ``now-15m``, an RFC 3339 time (``2024-01-10T10:00:00Z``;
    no offset means UTC) or an integer of unix nanoseconds."""
    text = text.strip()
    now = time.time_ns() if now_ns is None else now_ns
    if text.lstrip("-").isdigit():
        return int(text)
    if text == "now":
        return now
    if text.startswith("now-"):
        return now - parse_duration(parameter, text[4:])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(
            parameter,
            f"{text!r} is not a time (RFC 3339, now, now-1h, or unix nanoseconds)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def parse_trace_id(parameter: str, text: str) -> bytes:
    """A trace id as 32 hex digits (16 are accepted and zero-padded, as Jaeger writes them)."""
    text = text.strip().lower()
    if len(text) not in (16, 32) or not all(c in "0123456789abcdef" for c in text):
        raise QueryError(parameter, f"{text!r} is not a trace id (32 hex digits)")
    trace_id = bytes.fromhex(text.rjust(32, "0"))
    if not any(trace_id):
        raise QueryError(parameter, "the all-zero trace id is invalid")
    return trace_id


def parse_attribute_filter(parameter: str, text: str) -> AttributeFilter:
    """``key=value``; the value is a JSON literal when it is one (``200`` an int, ``1.5`` a
    double, ``true`` a boolean, ``"200"`` a string), otherwise the text itself."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise QueryError(parameter, f"{text!r} is not key=value")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    if not isinstance(value, str | bool | int | float):
        value = raw  # null, arrays and objects: compare as text
    return AttributeFilter(key, value)


def parse_limit(parameter: str, text: str | None, default: int, maximum: int = MAX_LIMIT) -> int:
    if text is None:
        return default
    try:
        limit = int(text)
    except ValueError:
        raise QueryError(parameter, f"{text!r} is not an integer") from None
    if not 1 <= limit <= maximum:
        raise QueryError(parameter, f"must be between 1 and {maximum}")
    return limit


def parse_severity(parameter: str, text: str) -> int:
    """A severity number 1-24 or a name: TRACE, DEBUG, INFO, WARN, ERROR, FATAL."""
    upper = text.strip().upper()
    if upper in _SEVERITIES:
        return _SEVERITIES[upper]
    if upper.isdigit() and 0 <= int(upper) <= 24:
        return int(upper)
    raise QueryError(parameter, f"{text!r} is not a severity (1-24, or TRACE..FATAL)")


def parse_span_kind(parameter: str, text: str) -> int:
    """A span kind by name (``server``, ``SPAN_KIND_SERVER``) or number (0-5)."""
    name = text.strip().upper().removeprefix("SPAN_KIND_")
    if name in SpanKind.__members__:
        return int(SpanKind[name])
    if name.isdigit() and int(name) in SpanKind._value2member_map_:
        return int(name)
    raise QueryError(parameter, f"{text!r} is not a span kind (server, client, internal, ...)")


def check_range(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and start >= end:
        raise QueryError("start", "must be before end")


def encode_cursor(cursor: LogCursor) -> str:
    """An opaque, URL-safe text for a log cursor."""
    # the text form of the numbers: a tie breaker may exceed 64 bits (MongoDB: a 96-bit ObjectId)
    raw = f"[{cursor.time_unix_nano},{cursor.tiebreak}]".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(parameter: str, text: str) -> LogCursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        t, tiebreak = json.loads(raw)
        if not (isinstance(t, int) and isinstance(tiebreak, int)):
            raise TypeError
    except (binascii.Error, ValueError, TypeError):
        raise QueryError(parameter, "not a cursor returned by a previous page") from None
    return LogCursor(t, tiebreak)


# ---------------------------------------------------------------------------------- series


class SeriesMode(StrEnum):
    VALUE = "value"
    RATE = "rate"


@dataclass(frozen=True, slots=True)
class SeriesSample:
    """One step of a series (or one point, without a step).

    ``value``: the gauge or sum value (the last in the step; for delta sums, their total), or the
    per-second rate. ``count``/``sum``: for histograms, what was observed in the step (cumulative
    points are turned into increments); for summaries, the last point's. ``percentiles``: ``p50``
    etc., estimated by linear interpolation within histogram buckets, or a summary's quantiles.
    """

    time_unix_nano: int
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    percentiles: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Series:
    service: str
    attributes: Attributes
    samples: list[SeriesSample]


@dataclass(frozen=True, slots=True)
class MetricSeries:
    name: str
    type: str
    unit: str
    description: str
    mode: SeriesMode
    step_ns: int | None
    series: list[Series]
    truncated: bool = False


@dataclass(slots=True)
class _Distribution:
    """Observations of a histogram over an interval: (lower, upper, count) ranges, ascending."""

    count: int
    sum: float | None
    ranges: list[tuple[float, float, int]]

    def quantile(self, q: float) -> float | None:
        total = sum(c for _, _, c in self.ranges)
        if total <= 0:
            return None
        rank = q * total
        seen = 0
        for lower, upper, count in self.ranges:
            if count and seen + count >= rank:
                fraction = (rank - seen) / count
                return lower + (upper - lower) * max(0.0, fraction)
            seen += count
        return self.ranges[-1][1]  # pragma: no cover - rank <= total always stops above


def _explicit_ranges(
    bounds: Sequence[float], counts: Sequence[int], low: float | None, high: float | None
) -> list[tuple[float, float, int]]:
    ranges = []
    for i, count in enumerate(counts):
        if i == 0:
            lower = low if low is not None else (0.0 if bounds and bounds[0] > 0 else -math.inf)
        else:
            lower = bounds[i - 1]
        upper = bounds[i] if i < len(bounds) else (high if high is not None else math.inf)
        if low is not None:
            lower = max(lower, low)
        if high is not None:
            upper = min(upper, high)
        if math.isinf(lower):
            lower = upper
        if math.isinf(upper):
            upper = lower
        ranges.append((lower, max(lower, upper), count))
    return ranges


def _exponential_ranges(p: MetricPoint) -> list[tuple[float, float, int]]:
    scale = p.scale or 0
    base = 2.0 ** (2.0**-scale)
    ranges: list[tuple[float, float, int]] = []
    offset = p.negative_offset or 0
    for i in reversed(range(len(p.negative_bucket_counts))):
        index = offset + i
        ranges.append((-(base ** (index + 1)), -(base**index), p.negative_bucket_counts[i]))
    threshold = p.zero_threshold or 0.0
    if p.zero_count:
        ranges.append((-threshold, threshold, p.zero_count))
    offset = p.positive_offset or 0
    for i, count in enumerate(p.positive_bucket_counts):
        index = offset + i
        ranges.append((base**index, base ** (index + 1), count))
    return ranges


def _point_distribution(p: MetricPoint) -> _Distribution:
    if p.metric.type == MetricType.HISTOGRAM:
        ranges = _explicit_ranges(p.explicit_bounds, p.bucket_counts, p.min, p.max)
    else:
        ranges = _exponential_ranges(p)
    return _Distribution(p.count or 0, p.sum, ranges)


def _bucket_shape(p: MetricPoint) -> tuple[object, ...]:
    return (
        p.explicit_bounds,
        len(p.bucket_counts),
        p.scale,
        p.positive_offset,
        len(p.positive_bucket_counts),
        p.negative_offset,
        len(p.negative_bucket_counts),
        p.zero_threshold,
    )


def _histogram_increment(prev: MetricPoint | None, p: MetricPoint) -> MetricPoint:
    """What a cumulative histogram point adds to the previous one (the point itself after a
    reset, a restart, or a change of buckets)."""
    if (
        prev is None
        or prev.start_time_unix_nano != p.start_time_unix_nano
        or _bucket_shape(prev) != _bucket_shape(p)
        or (p.count or 0) < (prev.count or 0)
    ):
        return p

    def minus(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
        return tuple(x - y for x, y in zip(a, b, strict=True))

    return replace(
        p,
        count=(p.count or 0) - (prev.count or 0),
        sum=None if p.sum is None or prev.sum is None else p.sum - prev.sum,
        min=None,
        max=None,
        bucket_counts=minus(p.bucket_counts, prev.bucket_counts),
        zero_count=(p.zero_count or 0) - (prev.zero_count or 0),
        positive_bucket_counts=minus(p.positive_bucket_counts, prev.positive_bucket_counts),
        negative_bucket_counts=minus(p.negative_bucket_counts, prev.negative_bucket_counts),
    )


def _merge_distributions(parts: list[_Distribution]) -> _Distribution:
    ranges: dict[tuple[float, float], int] = {}
    for part in parts:
        for lower, upper, count in part.ranges:
            ranges[(lower, upper)] = ranges.get((lower, upper), 0) + count
    sums = [p.sum for p in parts]
    return _Distribution(
        sum(p.count for p in parts),
        None if any(s is None for s in sums) else sum(s for s in sums if s is not None),
        [(lo, hi, c) for (lo, hi), c in sorted(ranges.items())],
    )


def percentile_key(p: float) -> str:
    return f"p{p:g}"


class _SeriesBuilder:
    """Turns the points of one series (time-ordered) into samples."""

    def __init__(self, mode: SeriesMode, step_ns: int | None, percentiles: Sequence[float]) -> None:
        self.mode = mode
        self.step = step_ns
        self.percentiles = percentiles

    def _slot(self, t: int) -> int:
        return t if self.step is None else t - t % self.step

    def samples(self, kind: str, points: list[MetricPoint]) -> list[SeriesSample]:
        if kind in (MetricType.GAUGE, MetricType.SUM):
            return self._numbers(kind, points)
        if kind == MetricType.SUMMARY:
            return self._summaries(points)
        return self._histograms(points)

    def _grouped(self, items: Iterable[tuple[int, _T]]) -> list[tuple[int, list[_T]]]:
        groups: dict[int, list[_T]] = {}
        for t, item in items:
            groups.setdefault(self._slot(t), []).append(item)
        return sorted(groups.items())

    def _numbers(self, kind: str, points: list[MetricPoint]) -> list[SeriesSample]:
        delta = points[0].metric.aggregation_temporality == AggregationTemporality.DELTA
        values = [(p, float(v)) for p in points if (v := p.value) is not None]
        if self.mode is SeriesMode.VALUE:
            out = []
            for slot, group in self._grouped((p.time_unix_nano, v) for p, v in values):
                value = sum(group) if kind == MetricType.SUM and delta else group[-1]
                out.append(SeriesSample(slot, value=value))
            return out
        # rates: increases over time
        increases: list[tuple[int, float, int]] = []  # (time, increase, covered ns)
        prev: tuple[MetricPoint, float] | None = None
        for p, v in values:
            if delta:
                base, increase = p.start_time_unix_nano, v
            elif (
                prev is not None
                and prev[0].start_time_unix_nano == p.start_time_unix_nano
                and (v >= prev[1])
            ):
                base, increase = prev[0].time_unix_nano, v - prev[1]
            else:  # first point or a reset: the value counts from the point's start time
                base, increase = p.start_time_unix_nano, v
            prev = (p, v)
            if 0 < base < p.time_unix_nano:
                increases.append((p.time_unix_nano, increase, p.time_unix_nano - base))
        rates = []
        for slot, covered in self._grouped((t, (inc, span)) for t, inc, span in increases):
            total = sum(inc for inc, _ in covered)
            seconds = (self.step if self.step else sum(span for _, span in covered)) / NS_PER_S
            rates.append(SeriesSample(slot, value=total / seconds))
        return rates

    def _summaries(self, points: list[MetricPoint]) -> list[SeriesSample]:
        out = []
        for slot, group in self._grouped((p.time_unix_nano, p) for p in points):
            last = group[-1]
            out.append(
                SeriesSample(
                    slot,
                    count=last.count,
                    sum=last.sum,
                    percentiles={percentile_key(q * 100): v for q, v in last.quantile_values},
                )
            )
        return out

    def _histograms(self, points: list[MetricPoint]) -> list[SeriesSample]:
        cumulative = points[0].metric.aggregation_temporality == AggregationTemporality.CUMULATIVE
        parts: list[tuple[int, tuple[_Distribution, int]]] = []
        prev: MetricPoint | None = None
        for p in points:
            increment = _histogram_increment(prev, p) if cumulative else p
            covered = p.time_unix_nano - (
                prev.time_unix_nano if increment is not p and prev else p.start_time_unix_nano
            )
            prev = p
            parts.append((p.time_unix_nano, (_point_distribution(increment), covered)))
        out = []
        for slot, group in self._grouped(parts):
            merged = _merge_distributions([d for d, _ in group])
            value = None
            if self.mode is SeriesMode.RATE:
                seconds = (self.step or sum(c for _, c in group)) / NS_PER_S
                value = merged.count / seconds if seconds > 0 else None
            out.append(
                SeriesSample(
                    slot,
                    value=value,
                    count=merged.count,
                    sum=merged.sum,
                    percentiles={
                        percentile_key(q): merged.quantile(q / 100) for q in self.percentiles
                    },
                )
            )
        return out


# --------------------------------------------------------------------------------- service


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    name: str
    start_unix_nano: int | None = None
    end_unix_nano: int | None = None
    step_ns: int | None = None
    service: str | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    mode: SeriesMode = SeriesMode.VALUE
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES


class QueryService:
    """The read use cases, on any store."""

    def __init__(self, store: TelemetryQueryPort, *, max_points: int = MAX_METRIC_POINTS) -> None:
        self.store = store
        self.max_points = max_points

    def services(self, signal: Signal = Signal.TRACES) -> list[str]:
        return self.store.services(signal)

    def operations(self, service: str, span_kind: int | None = None) -> list[Operation]:
        return self.store.operations(service, span_kind)

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        check_range(query.start_unix_nano, query.end_unix_nano)
        if (
            query.min_duration_ns is not None
            and query.max_duration_ns is not None
            and query.min_duration_ns > query.max_duration_ns
        ):
            raise QueryError("min_duration", "must not exceed max_duration")
        return self.store.find_traces(query)

    def get_trace(self, trace_id: bytes) -> list[Span]:
        spans = self.store.get_trace(trace_id)
        if not spans:
            raise NotFoundError(f"trace {trace_id.hex()} not found")
        return spans

    def find_logs(self, query: LogQuery) -> LogPage:
        check_range(query.start_unix_nano, query.end_unix_nano)
        return self.store.find_logs(query)

    def metrics(self, service: str | None = None) -> list[MetricInfo]:
        return self.store.metric_descriptors(service)

    def metric_points(self, query: MetricQuery) -> list[MetricPoint]:
        check_range(query.start_unix_nano, query.end_unix_nano)
        return self.store.metric_points(query)

    def metric_series(self, request: SeriesRequest) -> MetricSeries:
        r = request
        check_range(r.start_unix_nano, r.end_unix_nano)
        if r.step_ns is not None:
            if r.step_ns <= 0:
                raise QueryError("step", "must be positive")
            if r.start_unix_nano is not None and r.end_unix_nano is not None:
                steps = (r.end_unix_nano - r.start_unix_nano) // r.step_ns
                if steps > MAX_SERIES_STEPS:
                    raise QueryError("step", f"too small: more than {MAX_SERIES_STEPS} steps")
        if any(not 0 <= q <= 100 for q in r.percentiles):
            raise QueryError("percentiles", "each must be between 0 and 100")
        info = next((i for i in self.metrics() if i.name == r.name), None)
        if info is None:
            raise NotFoundError(f"metric {r.name!r} not found")
        points = self.store.metric_points(
            MetricQuery(
                r.name,
                r.start_unix_nano,
                r.end_unix_nano,
                r.service,
                r.attributes,
                limit=self.max_points + 1,
            )
        )
        truncated = len(points) > self.max_points
        points = points[: self.max_points]
        kind = points[-1].metric.type if points else info.type
        if r.mode is SeriesMode.RATE and kind not in (
            MetricType.SUM,
            MetricType.HISTOGRAM,
            MetricType.EXPONENTIAL_HISTOGRAM,
        ):
            raise QueryError("mode", f"rate does not apply to a {kind} metric")
        builder = _SeriesBuilder(r.mode, r.step_ns, r.percentiles)
        by_series: dict[tuple[str, bytes], list[MetricPoint]] = {}
        for p in points:
            if p.metric.type == kind:
                key = (p.resource.service_name, orjson.dumps(p.attributes, default=repr))
                by_series.setdefault(key, []).append(p)
        series = [
            Series(
                group[0].resource.service_name, group[0].attributes, builder.samples(kind, group)
            )
            for _, group in sorted(by_series.items(), key=lambda kv: kv[0])
        ]
        latest = points[-1].metric if points else None
        return MetricSeries(
            name=r.name,
            type=kind,
            unit=latest.unit if latest else info.unit,
            description=latest.description if latest else info.description,
            mode=r.mode,
            step_ns=r.step_ns,
            series=series,
            truncated=truncated,
        )

    def stats(self) -> StoreStats:
        return self.store.stats()
