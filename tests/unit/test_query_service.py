"""Query use cases on the reference (in-process DuckDB) store: series aggregation, the business
rules of a request, and what the Jaeger API asks of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.application.query import (
    NotFoundError,
    QueryError,
    QueryService,
    SeriesMode,
    SeriesRequest,
)
from obsvty.domain.model import InstrumentationScope as Scope
from obsvty.domain.model import MetricDescriptor, MetricPoint, MetricType, Resource, Span, SpanKind
from obsvty.ports.query import AttributeFilter, TraceQuery
from tests.support.records import metric_batch, span_batch

pytestmark = pytest.mark.unit

S = 1_000_000_000


def test_attribute_filter_reference_semantics() -> None:
    f = AttributeFilter("k", 200)
    assert f.matches(200)
    assert f.matches(200.0)
    assert f.matches("200")
    assert not f.matches(True)
    assert not f.matches(b"200")
    assert AttributeFilter("k", True).matches("true")
    assert not AttributeFilter("k", True).matches(1)
    assert AttributeFilter("k", "x").matches("x")
    assert not AttributeFilter("k", "1").matches(1)
    assert AttributeFilter("k", float("inf")).matches(float("inf"))


# ------------------------------------------------------------------------------ series

SUM = MetricDescriptor("requests", "", "1", MetricType.SUM, 2, True)
DELTA = MetricDescriptor("delta.requests", "", "1", MetricType.SUM, 1, True)
HIST = MetricDescriptor("latency", "", "ms", MetricType.HISTOGRAM, 2)
GAUGE = MetricDescriptor("temp", "", "C", MetricType.GAUGE)
RES = Resource({"service.name": "svc"})
SC = Scope("s")


def _sum(t: int, v: int, start: int = S) -> MetricPoint:
    return MetricPoint(SUM, RES, SC, start, t * S, {"a": 1}, value_int=v)


def _hist(t: int, counts: tuple[int, ...], total: float, start: int = S) -> MetricPoint:
    return MetricPoint(
        HIST,
        RES,
        SC,
        start,
        t * S,
        count=sum(counts),
        sum=total,
        bucket_counts=counts,
        explicit_bounds=(10.0, 20.0),
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[QueryService]:
    store = DuckDBStore(tmp_path / "series.duckdb", threads=1)
    points = [
        _sum(2, 10),
        _sum(3, 40),
        _sum(4, 5, start=4 * S - S // 2),  # restarted: counts from its new start
        MetricPoint(DELTA, RES, SC, 1 * S, 2 * S, value_int=4),
        MetricPoint(DELTA, RES, SC, 2 * S, 3 * S, value_int=6),
        MetricPoint(GAUGE, RES, SC, 0, 1 * S, value_double=20.5),
        MetricPoint(GAUGE, RES, SC, 0, 2 * S, value_double=21.5),
        _hist(2, (1, 1, 0), 15.0),
        _hist(3, (1, 3, 2), 95.0),
    ]
    store.write([metric_batch(points)])
    try:
        yield QueryService(DuckDBQuery(store))
    finally:
        store.close()


def _values(service: QueryService, name: str, **kw: object) -> list[float | None]:
    result = service.metric_series(SeriesRequest(name, **kw))  # type: ignore[arg-type]
    return [s.value for s in result.series[0].samples]


def test_series_cumulative_sum_values_and_rates_with_reset(service: QueryService) -> None:
    # the restart breaks the line (None) between 40 and 5
    assert _values(service, "requests") == [10, 40, None, 5]
    # 10 over [1s, 2s], 30 over [2s, 3s], then a restart: 5 over its own half second, after a
    # half second without data (the break at 3.25 s)
    assert _values(service, "requests", mode=SeriesMode.RATE) == [10.0, 30.0, None, 10.0]
    # 2-second steps aligned on the epoch: [2s, 4s) holds 10 + 30 over 2 s, [4s, 6s) 5 over 0.5 s
    assert _values(service, "requests", mode=SeriesMode.RATE, step_ns=2 * S) == [20.0, 10.0]


def test_series_delta_sum_and_gauge(service: QueryService) -> None:
    assert _values(service, "delta.requests", step_ns=10 * S) == [10]
    assert _values(service, "delta.requests", mode=SeriesMode.RATE) == [4.0, 6.0]
    assert _values(service, "temp") == [20.5, 21.5]
    assert _values(service, "temp", step_ns=10 * S) == [21.5]


def test_series_cumulative_histogram_increments_and_percentiles(service: QueryService) -> None:
    # Act
    series = service.metric_series(SeriesRequest("latency", percentiles=(50.0, 100.0)))

    # Assert: the second point adds (0, 2, 2) observations and 80.0 to the sum
    first, second = series.series[0].samples
    assert (first.count, first.sum) == (2, 15.0)
    assert (second.count, second.sum) == (4, 80.0)
    assert second.percentiles["p50"] == pytest.approx(20.0)
    assert second.percentiles["p100"] == 20.0  # no max known: the last bound


def test_series_errors(service: QueryService) -> None:
    with pytest.raises(NotFoundError):
        service.metric_series(SeriesRequest("nothing"))
    with pytest.raises(QueryError, match="'mode'"):
        service.metric_series(SeriesRequest("temp", mode=SeriesMode.RATE))
    with pytest.raises(QueryError, match="'step'"):
        service.metric_series(SeriesRequest("temp", step_ns=0))
    with pytest.raises(QueryError, match="'step'"):
        service.metric_series(SeriesRequest("temp", start_unix_nano=0, end_unix_nano=S, step_ns=1))
    with pytest.raises(QueryError, match="'percentiles'"):
        service.metric_series(SeriesRequest("latency", percentiles=(101.0,)))
    with pytest.raises(QueryError, match="'min_duration'"):
        service.find_traces(TraceQuery(min_duration_ns=2, max_duration_ns=1))
    with pytest.raises(NotFoundError):
        service.get_trace(b"\x01" * 16)


def test_series_truncated_when_more_points_than_allowed(service: QueryService) -> None:
    # Arrange
    small = QueryService(service.store, max_points=2)

    # Act
    result = small.metric_series(SeriesRequest("requests"))

    # Assert
    assert result.truncated
    assert [s.value for s in result.series[0].samples] == [10, 40]


# ------------------------------------------------------------- what the Jaeger API asks

TRACE_1 = b"\x01" * 16
TRACE_2 = b"\x02" * 16


def _span(trace_id: bytes, span_id: int, parent: int, service: str, name: str) -> Span:
    return Span(
        trace_id,
        span_id.to_bytes(8, "big"),
        parent.to_bytes(8, "big") if parent else b"",
        name,
        SpanKind.SERVER,
        span_id * S,
        span_id * S + S // 2,
        Resource({"service.name": service}),
        SC,
    )


@pytest.fixture
def traces(tmp_path: Path) -> Iterator[QueryService]:
    store = DuckDBStore(tmp_path / "traces.duckdb", threads=1)
    spans = [
        _span(TRACE_1, 1, 0, "frontend", "GET /"),
        _span(TRACE_1, 2, 1, "backend", "query"),
        _span(TRACE_2, 3, 0, "frontend", "GET /home"),
        _span(TRACE_2, 4, 3, "frontend", "GET /home"),
    ]
    store.write([span_batch(spans)])
    try:
        yield QueryService(DuckDBQuery(store))
    finally:
        store.close()


def test_query_service_operation_names_each_once_sorted(traces: QueryService) -> None:
    # Act
    names = traces.operation_names("frontend")

    # Assert
    assert names == ["GET /", "GET /home"]


def test_query_service_get_traces_unknown_ids_left_out_in_asked_order(
    traces: QueryService,
) -> None:
    # Act
    found = traces.get_traces([TRACE_2, b"\x09" * 16, TRACE_1])

    # Assert
    assert [spans[0].trace_id for spans in found] == [TRACE_2, TRACE_1]


def test_query_service_dependencies_of_a_service_only_its_links(traces: QueryService) -> None:
    # Act
    everything = traces.dependencies()
    of_backend = traces.dependencies(service="backend")
    of_db = traces.dependencies(service="db")

    # Assert
    assert [(x.parent, x.child) for x in everything] == [("frontend", "backend")]
    assert of_backend == everything
    assert of_db == []


def test_query_service_find_trace_spans_inverted_range_finds_nothing(
    traces: QueryService,
) -> None:
    # Arrange
    inverted = TraceQuery(start_unix_nano=10 * S, end_unix_nano=S)

    # Act
    found = traces.find_trace_spans(inverted)

    # Assert: the Jaeger searches answer it empty; the native search refuses it
    assert found == []
    with pytest.raises(QueryError, match="'start'"):
        traces.find_traces(inverted)


def test_query_service_find_trace_spans_whole_traces_newest_first(traces: QueryService) -> None:
    # Act
    found = traces.find_trace_spans(TraceQuery(service="frontend"))

    # Assert
    assert [[s.span_id[-1] for s in spans] for spans in found] == [[3, 4], [1, 2]]
