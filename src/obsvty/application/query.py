"""Query use cases: parameters from text, log cursors, and store-independent series aggregation.

Adapters (the native API, the CLI) turn raw text parameters into values with the ``parse_*``
functions, which raise :class:`QueryError` naming the bad parameter. :class:`QueryService` asks the
store (any :class:`TelemetryQueryPort`) and turns metric points into series with
``metric_series`` (one line per stream; rates and histogram percentiles from the increases between
consecutive points; breaks where a line has no data).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from obsvty.application.metric_series import (
    MetricSeries,
    Series,
    SeriesMode,
    SeriesSample,
    build_series,
    percentile_key,
)
from obsvty.domain.model import (
    MetricPoint,
    MetricType,
    Signal,
    Span,
    SpanKind,
)
from obsvty.ports.query import (
    AttributeFilter,
    DependencyLink,
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
# The series math lives in ``metric_series``; its types are re-exported here for the adapters.

__all__ = [
    "MetricSeries",
    "Series",
    "SeriesMode",
    "SeriesSample",
    "percentile_key",
]


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

    def dependencies(
        self, start_unix_nano: int | None = None, end_unix_nano: int | None = None
    ) -> list[DependencyLink]:
        check_range(start_unix_nano, end_unix_nano)
        return self.store.dependencies(start_unix_nano, end_unix_nano)

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
        series = build_series(
            points,
            kind,
            r.mode,
            step_ns=r.step_ns,
            percentiles=r.percentiles,
            window_start=r.start_unix_nano,
        )
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
