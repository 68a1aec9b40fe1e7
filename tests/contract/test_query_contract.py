"""The contract of the query port (``obsvty.ports.query``), run against every store.

Each store factory opens a fresh store and yields ``(writer, reader)``: the same records are written
through the store port and read back through the query port, and every store must give the very
same answers. To add a store, append a factory to ``STORE_FACTORIES``.

Longer than the project's ~450-line bound: one contract per port, so every store runs all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.mongodb.query import MongoDBQuery
from obsvty.adapters.storage.mongodb.store import MongoDBStore, MongoSettings
from obsvty.application.query import QueryService, SeriesMode, SeriesRequest
from obsvty.domain.model import (
    LogRecord,
    MetricDescriptor,
    MetricPoint,
    MetricType,
    Resource,
    Signal,
    Span,
    SpanKind,
    StatusCode,
)
from obsvty.ports.query import (
    AttributeFilter,
    DependencyLink,
    LogCursor,
    LogQuery,
    MetricQuery,
    Operation,
    TelemetryQueryPort,
    TraceQuery,
)
from obsvty.ports.store import TelemetryStorePort
from tests.support.mongodb import scratch_database
from tests.support.records import log_batch, metric_batch, span_batch
from tests.support.telemetry_dataset import (
    A1,
    A2,
    C1,
    C2,
    LOGS,
    OTHER_SCOPE,
    POINTS,
    SPANS,
    TRACE_A,
    TRACE_B,
    TRACE_C,
    UNKNOWN_TRACE,
    T,
)

pytestmark = pytest.mark.integration

Stores = tuple[TelemetryStorePort, TelemetryQueryPort]
StoreFactory = Callable[[Path, pytest.FixtureRequest], AbstractContextManager[Stores]]


@contextmanager
def duckdb_stores(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stores]:
    store = DuckDBStore(tmp_path / "contract.duckdb", threads=1)
    try:
        yield store, DuckDBQuery(store)
    finally:
        store.close()


@contextmanager
def mongodb_stores(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stores]:
    """A database of its own on the session's MongoDB (secantusdb, or OBSVTY_TEST_MONGODB_URI)."""
    uri = request.getfixturevalue("mongodb_uri")
    with scratch_database(uri) as name:
        store = MongoDBStore(MongoSettings(uri, name, timeout_ms=5000))
        try:
            yield store, MongoDBQuery(store.db)
        finally:
            store.close()


STORE_FACTORIES: dict[str, StoreFactory] = {
    "duckdb": duckdb_stores,
    "mongodb": mongodb_stores,
}


@pytest.fixture(params=list(STORE_FACTORIES), ids=list(STORE_FACTORIES))
def open_stores(
    request: pytest.FixtureRequest,
) -> Callable[[Path], AbstractContextManager[Stores]]:
    """Opens a fresh pair of stores of one kind in a directory."""
    factory = STORE_FACTORIES[request.param]
    return lambda path: factory(path, request)


@pytest.fixture
def reader(
    open_stores: Callable[[Path], AbstractContextManager[Stores]], tmp_path: Path
) -> Iterator[TelemetryQueryPort]:
    with open_stores(tmp_path) as (writer, query):
        writer.write([span_batch(SPANS), log_batch(LOGS), metric_batch(POINTS)])
        yield query


def _ids(query: TelemetryQueryPort, **criteria: object) -> list[bytes]:
    return [t.trace_id for t in query.find_traces(TraceQuery(**criteria))]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ traces


def test_services_every_signal_sorted_distinct(reader: TelemetryQueryPort) -> None:
    # Act / Assert
    assert reader.services() == ["backend", "frontend"]
    assert reader.services(Signal.LOGS) == ["backend", "frontend"]
    assert reader.services(Signal.METRICS) == ["backend", "frontend"]


def test_operations_of_a_service_sorted_with_kinds(reader: TelemetryQueryPort) -> None:
    # Act
    every_kind = reader.operations("frontend")
    servers = reader.operations("frontend", SpanKind.SERVER)

    # Assert
    assert every_kind == [
        Operation("GET /cart", SpanKind.SERVER),
        Operation("GET /checkout", SpanKind.SERVER),
        Operation("render", SpanKind.INTERNAL),
    ]
    assert servers == every_kind[:2]
    assert reader.operations("nobody") == []


def test_find_traces_no_filter_newest_first_with_summaries(reader: TelemetryQueryPort) -> None:
    # Act
    found = reader.find_traces(TraceQuery())

    # Assert
    assert [t.trace_id for t in found] == [TRACE_C, TRACE_B, TRACE_A]
    c, b, a = found
    assert (a.root_service, a.root_name) == ("frontend", "GET /checkout")
    assert (a.start_time_unix_nano, a.duration_ns) == (T + 100, 1000)
    assert (a.span_count, a.error_count, a.services) == (2, 1, ("backend", "frontend"))
    assert (b.root_service, b.root_name, b.span_count, b.error_count) == ("backend", "job", 1, 0)
    # no parentless span stored: the earliest span stands in for the root
    assert (c.root_name, c.start_time_unix_nano, c.duration_ns) == ("GET /cart", T + 3000, 500)
    assert c.services == ("frontend",)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"service": "backend"}, [TRACE_B, TRACE_A]),
        ({"service": "backend", "operation": "SELECT"}, [TRACE_A]),
        ({"operation": "render"}, [TRACE_C]),
        ({"span_kind": SpanKind.CLIENT}, [TRACE_A]),
        ({"errors_only": True}, [TRACE_A]),
        # every filter applies to one and the same span: the error is on a backend span
        ({"service": "frontend", "errors_only": True}, []),
        ({"min_duration_ns": 400}, [TRACE_C, TRACE_A]),
        ({"max_duration_ns": 300}, [TRACE_C, TRACE_B]),
        ({"min_duration_ns": 300, "max_duration_ns": 300}, [TRACE_B]),
        # half-open range on span start: T+3000 is outside [T+1000, T+3000)
        ({"start_unix_nano": T + 1000, "end_unix_nano": T + 3000}, [TRACE_B]),
        ({"start_unix_nano": T + 3000}, [TRACE_C]),
        ({"end_unix_nano": T + 101}, [TRACE_A]),
        ({"limit": 1}, [TRACE_C]),
        ({"limit": 2, "service": "frontend"}, [TRACE_C, TRACE_A]),
        ({"service": "nobody"}, []),
    ],
)
def test_find_traces_span_filters_match_expected_traces(
    reader: TelemetryQueryPort, criteria: dict[str, object], expected: list[bytes]
) -> None:
    # Act / Assert
    assert _ids(reader, **criteria) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # an int matches the int 200 and the string "200", not the double 404.0
        ([AttributeFilter("http.status_code", 200)], [TRACE_B, TRACE_A]),
        ([AttributeFilter("http.status_code", "200")], [TRACE_B]),
        ([AttributeFilter("http.status_code", 404)], [TRACE_C]),
        ([AttributeFilter("http.status_code", 404.0)], [TRACE_C]),
        ([AttributeFilter("ratio", 0.5)], [TRACE_A]),
        ([AttributeFilter("ratio", 0.25)], []),
        ([AttributeFilter("flag", True)], [TRACE_A]),
        ([AttributeFilter("flag", False)], []),
        ([AttributeFilter("flag", "true")], []),
        ([AttributeFilter("big", 2**63 - 1)], [TRACE_A]),
        ([AttributeFilter("negative", -7)], [TRACE_B]),
        ([AttributeFilter("a/b~c", "odd key")], [TRACE_A]),
        ([AttributeFilter("missing", "x")], []),
        # resource attributes count too
        ([AttributeFilter("deployment.environment", "prod")], [TRACE_C, TRACE_A]),
        ([AttributeFilter("host.port", 8080)], [TRACE_B, TRACE_A]),
        # several filters: all of them, on the same span
        (
            [AttributeFilter("http.method", "GET"), AttributeFilter("http.status_code", 200)],
            [TRACE_A],
        ),
        ([AttributeFilter("http.method", "GET"), AttributeFilter("db.rows", 3)], []),
    ],
)
def test_find_traces_attribute_filters_typed_match(
    reader: TelemetryQueryPort, filters: list[AttributeFilter], expected: list[bytes]
) -> None:
    # Act / Assert
    assert _ids(reader, attributes=tuple(filters)) == expected


def test_get_trace_every_field_round_trips(reader: TelemetryQueryPort) -> None:
    # Act
    spans = reader.get_trace(TRACE_A)

    # Assert
    assert spans == [A1, A2]
    assert spans[0].events[0].attributes["raw"] == b"\x00\xff"
    assert isinstance(spans[0].events[0].attributes["map"], dict)


def test_get_trace_incomplete_trace_sorted_by_start(reader: TelemetryQueryPort) -> None:
    # Act / Assert
    assert reader.get_trace(TRACE_C) == [C1, C2]


def test_get_trace_unknown_trace_empty(reader: TelemetryQueryPort) -> None:
    # Act / Assert
    assert reader.get_trace(UNKNOWN_TRACE) == []


def test_get_traces_each_in_order_asked_unknown_empty(reader: TelemetryQueryPort) -> None:
    # Act
    found = reader.get_traces([TRACE_C, UNKNOWN_TRACE, TRACE_A, TRACE_C])

    # Assert
    assert found == [[C1, C2], [], [A1, A2], [C1, C2]]


@pytest.mark.parametrize(
    "query",
    [
        TraceQuery(),
        TraceQuery(service="backend"),
        TraceQuery(limit=1),
        TraceQuery(service="nobody"),
    ],
)
def test_find_trace_spans_each_found_trace_whole_in_order(
    reader: TelemetryQueryPort, query: TraceQuery
) -> None:
    # Arrange
    expected = [reader.get_trace(t.trace_id) for t in reader.find_traces(query)]

    # Act
    found = reader.find_trace_spans(query)

    # Assert
    assert found == expected


def test_get_traces_no_ids_empty(reader: TelemetryQueryPort) -> None:
    # Act / Assert
    assert reader.get_traces([]) == []


TRACE_D = bytes.fromhex("d0000000000000000000000000000001")
DB = Resource({"service.name": "db"})


def _call(span_id: int, parent: int, service: Resource, at: int, error: bool = False) -> Span:
    """A span of trace D (``parent`` 0: a root), 50 ns long."""
    return replace(
        A2,
        trace_id=TRACE_D,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=parent.to_bytes(8, "big") if parent else b"",
        start_time_unix_nano=T + at,
        end_time_unix_nano=T + at + 50,
        resource=service,
        attributes={},
        status_code=StatusCode.ERROR if error else StatusCode.OK,
        status_message="",
    )


@pytest.fixture
def calls(
    open_stores: Callable[[Path], AbstractContextManager[Stores]], tmp_path: Path
) -> Iterator[TelemetryQueryPort]:
    """The data set (trace A: frontend calls backend, which fails; trace C: frontend within
    itself, its root's parent missing) and trace D: frontend -> backend -> db (failing), backend
    within itself, and a db span whose parent was never stored."""
    frontend, backend = A1.resource, A2.resource
    trace_d = [
        _call(0xD1, 0, frontend, 5000),
        _call(0xD2, 0xD1, backend, 5100),
        _call(0xD3, 0xD2, DB, 5200, error=True),
        _call(0xD4, 0xD2, backend, 5300),
        _call(0xD5, 0xDEAD, DB, 5400),
    ]
    with open_stores(tmp_path) as (writer, query):
        writer.write([span_batch([*SPANS, *trace_d])])
        yield query


def test_dependencies_whole_range_calls_between_services_with_errors(
    calls: TelemetryQueryPort,
) -> None:
    # Act
    links = calls.dependencies()

    # Assert: one link per pair of different services, sorted; same-service spans and spans
    # whose parent is missing are no calls
    assert links == [
        DependencyLink("backend", "db", call_count=1, error_count=1),
        DependencyLink("frontend", "backend", call_count=2, error_count=1),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # the child starts in range, its parent before it: still a call
        (T + 5150, None, [DependencyLink("backend", "db", 1, 1)]),
        # half-open: a child starting at the end is out
        (None, T + 5100, [DependencyLink("frontend", "backend", 1, 1)]),
        (T + 5100, T + 5101, [DependencyLink("frontend", "backend", 1, 0)]),
        (T + 9000, None, []),
    ],
)
def test_dependencies_time_range_applies_to_child_span_start(
    calls: TelemetryQueryPort,
    start: int | None,
    end: int | None,
    expected: list[DependencyLink],
) -> None:
    # Act / Assert
    assert calls.dependencies(start, end) == expected


def test_dependencies_empty_store_none(
    open_stores: Callable[[Path], AbstractContextManager[Stores]], tmp_path: Path
) -> None:
    # Arrange
    with open_stores(tmp_path / "empty") as (_, query):
        # Act / Assert
        assert query.dependencies() == []


# -------------------------------------------------------------------------------------- logs


def test_find_logs_no_filter_newest_first_round_trip(reader: TelemetryQueryPort) -> None:
    # Act
    page = reader.find_logs(LogQuery())

    # Assert
    assert page.next_cursor is None
    assert len(page.records) == len(LOGS)
    assert page.records[0] == LOGS[-1]
    assert sorted(page.records[1:4], key=lambda r: str(r.body)) == LOGS[7:10]
    assert page.records[4:] == [LOGS[6], LOGS[5], LOGS[4], LOGS[3], LOGS[2], LOGS[1], LOGS[0]]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"min_severity": 17}, [1]),
        ({"service": "backend"}, [10, 2]),
        ({"trace_id": TRACE_A}, [4]),
        ({"trace_id": UNKNOWN_TRACE}, []),
        # case-insensitive, string bodies only (the map body holding "error" does not count)
        ({"body_contains": "error"}, [1]),
        ({"body_contains": "MESSAGE 5"}, [5]),
        ({"attributes": (AttributeFilter("user.id", 42),)}, [5, 4]),
        ({"attributes": (AttributeFilter("user.id", "42"),)}, [5]),
        ({"attributes": (AttributeFilter("host.port", 8080),)}, [10, 2]),
        # the record with time 0 sits at its observed time T+35
        ({"start_unix_nano": T + 30, "end_unix_nano": T + 40}, [3]),
        ({"end_unix_nano": T + 20}, [1, 0]),
    ],
)
def test_find_logs_filters_match_expected_records(
    reader: TelemetryQueryPort, criteria: dict[str, object], expected: list[int]
) -> None:
    # Arrange: LOGS[n] has time T + n*10 up to n=7 (LOGS[3]: observed time T+35)
    wanted = [LOGS[n] for n in expected]

    # Act
    page = reader.find_logs(LogQuery(**criteria))  # type: ignore[arg-type]

    # Assert
    assert page.records == wanted


def test_find_logs_paging_never_skips_or_repeats(reader: TelemetryQueryPort) -> None:
    # Arrange
    everything = reader.find_logs(LogQuery(limit=1000)).records
    seen: list[LogRecord] = []
    cursor: LogCursor | None = None

    # Act
    for _ in range(len(LOGS) + 1):
        page = reader.find_logs(LogQuery(limit=2, cursor=cursor))
        seen.extend(page.records)
        cursor = page.next_cursor
        if cursor is None:
            break

    # Assert
    assert seen == everything
    assert len(seen) == len(LOGS)


def test_find_logs_paging_with_filter_exact_page_boundary(reader: TelemetryQueryPort) -> None:
    # Arrange: two backend records, page size two: nothing after the first page
    query = LogQuery(service="backend", limit=2)

    # Act
    page = reader.find_logs(query)

    # Assert
    assert page.records == [LOGS[10], LOGS[2]]
    assert page.next_cursor is None


# ----------------------------------------------------------------------------------- metrics


def test_metric_descriptors_names_types_services(reader: TelemetryQueryPort) -> None:
    # Act
    infos = reader.metric_descriptors()

    # Assert
    assert [(i.name, i.type, i.unit, i.description, i.services) for i in infos] == [
        ("cpu.usage", "gauge", "%", "CPU", ("backend",)),
        ("exp.latency", "exponential_histogram", "s", "", ("frontend",)),
        ("http.requests", "sum", "1", "Requests served", ("backend", "frontend")),
        ("latency", "histogram", "ms", "Latency", ("frontend",)),
        ("rpc.summary", "summary", "ms", "Summary", ("backend",)),
    ]
    assert [i.name for i in reader.metric_descriptors("backend")] == [
        "cpu.usage",
        "http.requests",
        "rpc.summary",
    ]


def test_metric_points_every_point_type_round_trips(reader: TelemetryQueryPort) -> None:
    # Act
    by_name = {
        name: reader.metric_points(MetricQuery(name))
        for name in ("http.requests", "cpu.usage", "latency", "exp.latency", "rpc.summary")
    }

    # Assert
    assert by_name["http.requests"] == [POINTS[0], POINTS[2], POINTS[1]]
    assert by_name["cpu.usage"] == [POINTS[3], POINTS[4]]
    assert by_name["latency"] == [POINTS[5]]
    assert by_name["exp.latency"] == [POINTS[6]]
    assert by_name["rpc.summary"] == [POINTS[7]]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"service": "frontend"}, [0, 1]),
        ({"attributes": (AttributeFilter("route", "/b"),)}, [2]),
        ({"start_unix_nano": T + 15, "end_unix_nano": T + 20}, [2]),
        ({"limit": 1}, [0]),
        ({"name": "nothing"}, []),
    ],
)
def test_metric_points_filters(
    reader: TelemetryQueryPort, criteria: dict[str, object], expected: list[int]
) -> None:
    # Arrange
    query = MetricQuery(**{"name": "http.requests", **criteria})  # type: ignore[arg-type]

    # Act / Assert
    assert reader.metric_points(query) == [POINTS[n] for n in expected]


# ------------------------------------------------------------------------------------- stats


def test_stats_counts_and_time_ranges(reader: TelemetryQueryPort) -> None:
    # Act
    stats = reader.stats()

    # Assert
    traces, logs, metrics = (stats.signals[s] for s in Signal)
    assert (traces.count, traces.oldest_unix_nano, traces.newest_unix_nano) == (
        5,
        T + 100,
        T + 3100,
    )
    assert (logs.count, logs.oldest_unix_nano, logs.newest_unix_nano) == (len(LOGS), T, T + 80)
    assert (metrics.count, metrics.oldest_unix_nano, metrics.newest_unix_nano) == (
        8,
        T + 10,
        T + 32,
    )
    assert stats.size_bytes is None or stats.size_bytes > 0


def test_stats_empty_store_zero_counts(
    open_stores: Callable[[Path], AbstractContextManager[Stores]], tmp_path: Path
) -> None:
    # Arrange
    with open_stores(tmp_path / "empty") as (_, query):
        # Act
        stats = query.stats()

        # Assert
        assert all(s.count == 0 and s.oldest_unix_nano is None for s in stats.signals.values())
        assert set(stats.signals) == set(Signal)


def test_metric_points_uint64_counts_beyond_int64_exact_and_percentiles_from_them(
    open_stores: Callable[[Path], AbstractContextManager[Stores]], tmp_path: Path
) -> None:
    # Arrange: a cumulative histogram whose counts pass int64 (OTLP counts are uint64)
    first = replace(POINTS[5], count=2**63, bucket_counts=(0, 2**63, 0), min=None, max=None)
    second = replace(  # the next delta: from where the first ended
        first,
        start_time_unix_nano=first.time_unix_nano,
        time_unix_nano=first.time_unix_nano + 10,
        count=2**64 - 1,
        bucket_counts=(0, 2**64 - 1, 0),
    )
    with open_stores(tmp_path / "uint64") as (writer, query):
        writer.write([metric_batch([first, second])])

        # Act
        points = query.metric_points(MetricQuery("latency"))
        series = QueryService(query).metric_series(SeriesRequest("latency", percentiles=(50,)))

    # Assert: the very integers, counts and percentiles per point (every observation in (5, 10])
    assert points == [first, second]
    samples = series.series[0].samples
    assert [s.count for s in samples] == [2**63, 2**64 - 1]
    assert [s.percentiles for s in samples] == [{"p50": pytest.approx(7.5)}] * 2


# ------------------------------------------------------------------------- metric series

# Points of real processes, as the series math (``application/metric_series.py``) reads them
# from every store: a counter growing 10/s in each of two processes of one service, the second
# reset (its value drops) and then restarted (a new start time after a pause); a delta counter
# with one interval missing; a cumulative histogram whose observations move to higher buckets.
WORKER_A = Resource({"service.name": "worker", "service.instance.id": "a"})
WORKER_B = Resource({"service.name": "worker", "service.instance.id": "b"})
JOBS = MetricDescriptor("jobs", "Jobs done", "1", MetricType.SUM, 2, True)
JOBS_DELTA = MetricDescriptor("jobs.delta", "", "1", MetricType.SUM, 1, True)
WAIT = MetricDescriptor("wait", "", "ms", MetricType.HISTOGRAM, 2)
TWINS = replace(JOBS, name="jobs.twins")
WORKER = Resource({"service.name": "worker"})  # two processes alike: no service.instance.id
SEC = 1_000_000_000


def _jobs(resource: Resource, t: int, value: int, start: int) -> MetricPoint:
    return MetricPoint(
        JOBS, resource, OTHER_SCOPE, T + start * SEC, T + t * SEC, {"queue": "q"}, value_int=value
    )


def _wait(t: int, counts: tuple[int, ...]) -> MetricPoint:
    return MetricPoint(
        WAIT,
        WORKER_A,
        OTHER_SCOPE,
        T,
        T + t * SEC,
        count=sum(counts),
        sum=float(sum(c * b for c, b in zip(counts, (5, 15, 25), strict=True))),
        bucket_counts=counts,
        explicit_bounds=(10.0, 20.0),
    )


SERIES_POINTS = [
    *(_jobs(WORKER_A, t, 10 * t, 0) for t in (10, 20, 30, 40, 50)),
    # b: started at 5 s; reset at 35 s (the value drops, same start); restarted at 60 s
    *(_jobs(WORKER_B, t, 10 * (t - 5), 5) for t in (15, 25)),
    _jobs(WORKER_B, 35, 30, 5),
    _jobs(WORKER_B, 45, 130, 5),
    _jobs(WORKER_B, 70, 100, 60),
    *(
        MetricPoint(
            JOBS_DELTA, WORKER_A, OTHER_SCOPE, T + (t - 10) * SEC, T + t * SEC, value_int=50
        )
        for t in (10, 20, 40, 50)
    ),
    # the two processes again, alike in resource: told apart by their start times
    *(
        replace(p, metric=TWINS, resource=WORKER)
        for p in (_jobs(WORKER_A, t, 10 * t, 0) for t in (10, 20, 30))
    ),
    *(
        replace(p, metric=TWINS, resource=WORKER)
        for p in (_jobs(WORKER_B, t, 10 * (t - 5), 5) for t in (15, 25, 35))
    ),
    # 10 waits under 10 ms in the first 10 s, then 20 in (10, 20], then 30 over 20 ms
    _wait(10, (10, 0, 0)),
    _wait(20, (10, 20, 0)),
    _wait(30, (10, 20, 30)),
]


@pytest.fixture
def series_service(
    open_stores: Callable[[Path], AbstractContextManager[Stores]], tmp_path: Path
) -> Iterator[QueryService]:
    with open_stores(tmp_path / "series") as (writer, query):
        # two writes, as two exports would arrive, in an order that interleaves the processes
        writer.write([metric_batch(SERIES_POINTS[::2])])
        writer.write([metric_batch(SERIES_POINTS[1::2])])
        yield QueryService(query)


def _series_values(
    service: QueryService, name: str, **request: object
) -> list[tuple[object, list[float | None]]]:
    result = service.metric_series(SeriesRequest(name, **request))  # type: ignore[arg-type]
    return [
        (s.resource.get("service.instance.id"), [x.value for x in s.samples]) for s in result.series
    ]


def test_series_rate_two_processes_stay_apart_resets_and_restarts_break(
    series_service: QueryService,
) -> None:
    # Act
    rates = _series_values(series_service, "jobs", mode=SeriesMode.RATE)
    stepped = _series_values(series_service, "jobs", mode=SeriesMode.RATE, step_ns=20 * SEC)

    # Assert: 10/s in each process; b's reset (35 s) is only a base, a break before 45 s; its
    # restart counts from its new start (60 s), after a break for the pause
    assert rates == [
        ("a", [10.0] * 5),
        ("b", [10.0, 10.0, None, 10.0, None, 10.0]),
    ]
    result = series_service.metric_series(SeriesRequest("jobs", mode=SeriesMode.RATE))
    b = result.series[1]
    assert [s.time_unix_nano - T for s in b.samples] == [
        15 * SEC,
        25 * SEC,
        30 * SEC,  # between 25 s and the base at 35 s
        45 * SEC,
        int(52.5 * SEC),  # the pause between 45 s and the new start at 60 s
        70 * SEC,
    ]
    assert (b.service, b.attributes, b.scope.name) == ("worker", {"queue": "q"}, "other")
    assert stepped[0][1] == [10.0, 10.0, 10.0]
    assert stepped[1][1] == [10.0, 10.0, 10.0, 10.0]  # the breaks fall within a 20 s step


def test_series_rate_processes_alike_in_resource_apart_by_start_time(
    series_service: QueryService,
) -> None:
    # Act
    result = series_service.metric_series(SeriesRequest("jobs.twins", mode=SeriesMode.RATE))

    # Assert: two lines, each 10/s, one resource, two start times
    assert [(s.resource, s.start_time_unix_nano) for s in result.series] == [
        ({"service.name": "worker"}, T),
        ({"service.name": "worker"}, T + 5 * SEC),
    ]
    assert [[x.value for x in s.samples] for s in result.series] == [[10.0] * 3] * 2


def test_series_rate_range_start_makes_the_first_point_a_base(
    series_service: QueryService,
) -> None:
    # Act: from 12 s: a's point at 20 s counted since 0 s is only the base of the next
    rates = _series_values(
        series_service, "jobs", mode=SeriesMode.RATE, start_unix_nano=T + 12 * SEC
    )

    # Assert
    assert rates == [("a", [10.0, 10.0, 10.0]), ("b", [10.0, None, 10.0, None, 10.0])]


def test_series_delta_temporality_each_point_is_its_own_increase(
    series_service: QueryService,
) -> None:
    # Act
    rates = _series_values(series_service, "jobs.delta", mode=SeriesMode.RATE)
    totals = _series_values(series_service, "jobs.delta", step_ns=60 * SEC)

    # Assert: 50 per 10 s; the missing interval (20 s to 30 s) breaks the line
    assert rates == [("a", [5.0, 5.0, None, 5.0, 5.0])]
    assert sum(v or 0 for v in totals[0][1]) == 200


def test_series_histogram_percentiles_over_time_from_bucket_increases(
    series_service: QueryService,
) -> None:
    # Act
    result = series_service.metric_series(
        SeriesRequest("wait", mode=SeriesMode.RATE, percentiles=(50.0,))
    )

    # Assert: each step's median lies in the bucket that step's observations fell in
    [series] = result.series
    assert [(s.count, s.value) for s in series.samples] == [(10, 1.0), (20, 2.0), (30, 3.0)]
    assert [s.percentiles["p50"] for s in series.samples] == [
        pytest.approx(5.0),
        pytest.approx(15.0),
        pytest.approx(20.0),  # over 20 ms: no max known, the last bound
    ]
    assert [s.sum for s in series.samples] == [50.0, 300.0, 750.0]
