"""Query use cases: what the native API, the Jaeger API and the CLI ask of a store.

:class:`QueryService` runs every read on any store (a :class:`TelemetryQueryPort`): it checks the
business rules of a request (a range ends after it starts, a series has not too many steps),
raising :class:`QueryError` naming the parameter, or :class:`NotFoundError`, and turns metric
points into series (``metric_series``). Turning request text into values is the adapters' job
(``adapters/api/query_params.py``, ``adapters/api/jaeger_params.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from obsvty.application.metric_series import MetricSeries, SeriesMode, build_series
from obsvty.domain.model import MetricPoint, MetricType, Signal, Span
from obsvty.ports.query import (
    AttributeFilter,
    DependencyLink,
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

__all__ = [
    "DEFAULT_PERCENTILES",
    "MetricSeries",
    "NotFoundError",
    "QueryError",
    "QueryService",
    "SeriesMode",
    "SeriesRequest",
]

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


def check_range(start: int | None, end: int | None) -> None:
    """A time range must end after it starts."""
    if start is not None and end is not None and start >= end:
        raise QueryError("start", "must be before end")


# --------------------------------------------------------------------------------- service


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    """A metric as series: its points within the range, from one service if given, matching
    every attribute filter; ``step_ns`` groups samples (``None``: one per point)."""

    name: str
    start_unix_nano: int | None = None
    end_unix_nano: int | None = None
    step_ns: int | None = None
    service: str | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    mode: SeriesMode = SeriesMode.VALUE
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES


class QueryService:
    """The read use cases, on any store; the native API, the Jaeger API and the CLI call these,
    never the store directly."""

    def __init__(self, store: TelemetryQueryPort, *, max_points: int = MAX_METRIC_POINTS) -> None:
        self.store = store
        self.max_points = max_points

    # ------------------------------------------------------------------------------ traces

    def services(self, signal: Signal = Signal.TRACES) -> list[str]:
        """Every service with stored items of ``signal``, sorted."""
        return self.store.services(signal)

    def operations(self, service: str, span_kind: int | None = None) -> list[Operation]:
        """The (span name, span kind) pairs of ``service``, optionally of one kind."""
        return self.store.operations(service, span_kind)

    def operation_names(self, service: str) -> list[str]:
        """The span names of ``service``, each once, sorted (whatever their kinds)."""
        return sorted({op.name for op in self.store.operations(service)})

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """The traces matching ``query``, summarised; the range and the duration bounds must
        not be inverted."""
        check_range(query.start_unix_nano, query.end_unix_nano)
        if (
            query.min_duration_ns is not None
            and query.max_duration_ns is not None
            and query.min_duration_ns > query.max_duration_ns
        ):
            raise QueryError("min_duration", "must not exceed max_duration")
        return self.store.find_traces(query)

    def find_trace_spans(self, query: TraceQuery) -> list[list[Span]]:
        """The traces matching ``query``, each whole (the Jaeger searches). An inverted range or
        duration bounds find nothing rather than fail: the Jaeger APIs have always answered
        them so."""
        return self.store.find_trace_spans(query)

    def get_trace(self, trace_id: bytes) -> list[Span]:
        """Every span of one trace; :class:`NotFoundError` when none is stored."""
        spans = self.store.get_trace(trace_id)
        if not spans:
            raise NotFoundError(f"trace {trace_id.hex()} not found")
        return spans

    def get_traces(self, trace_ids: Sequence[bytes]) -> list[list[Span]]:
        """The stored ones of several traces, in the order asked, in one read; unknown ids are
        left out."""
        return [spans for spans in self.store.get_traces(trace_ids) if spans]

    def dependencies(
        self,
        start_unix_nano: int | None = None,
        end_unix_nano: int | None = None,
        service: str | None = None,
    ) -> list[DependencyLink]:
        """The calls between services within the range; with ``service``, only those to or
        from it."""
        check_range(start_unix_nano, end_unix_nano)
        links = self.store.dependencies(start_unix_nano, end_unix_nano)
        if service:
            links = [link for link in links if service in (link.parent, link.child)]
        return links

    # -------------------------------------------------------------------- logs and metrics

    def find_logs(self, query: LogQuery) -> LogPage:
        """One page of matching log records, newest first."""
        check_range(query.start_unix_nano, query.end_unix_nano)
        return self.store.find_logs(query)

    def metrics(self, service: str | None = None) -> list[MetricInfo]:
        """Every metric name and type stored, optionally from one service."""
        return self.store.metric_descriptors(service)

    def metric_points(self, query: MetricQuery) -> list[MetricPoint]:
        """The raw points of one metric, oldest first."""
        check_range(query.start_unix_nano, query.end_unix_nano)
        return self.store.metric_points(query)

    def metric_series(self, request: SeriesRequest) -> MetricSeries:
        """One metric as series (``metric_series``), from at most ``max_points`` points
        (``truncated`` says when more matched); :class:`NotFoundError` for an unknown name."""
        r = request
        _check_series(r)
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
        """Counts and time ranges per signal, and the store's size."""
        return self.store.stats()


def _check_series(r: SeriesRequest) -> None:
    """A series' range, step and percentiles must make sense, and not ask for too many steps."""
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
