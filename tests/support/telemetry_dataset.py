"""One small, varied data set of spans, logs and metric points (every attribute type, every
metric point type, incomplete traces, ties in time), shared by the query contract suite and the
OTLP export tests."""

from __future__ import annotations

from dataclasses import replace

from obsvty.domain.model import (
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    MetricPoint,
    MetricType,
    Resource,
    Span,
    SpanEvent,
    SpanKind,
    SpanLink,
    StatusCode,
)

T = 1_700_000_000_000_000_000
FRONTEND = Resource(
    {"service.name": "frontend", "deployment.environment": "prod"}, 2, "https://schema/1"
)
BACKEND = Resource({"service.name": "backend", "host.port": 8080})
SCOPE = InstrumentationScope("lib", "1.0", {"scope.flag": True}, 1, "https://schema/scope")
OTHER_SCOPE = InstrumentationScope("other")

TRACE_A = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
TRACE_B = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
TRACE_C = bytes.fromhex("ffffffffffffffffffffffffffffff01")
UNKNOWN_TRACE = bytes.fromhex("00000000000000000000000000000001")


def _id(n: int) -> bytes:
    return n.to_bytes(8, "big")


A1 = Span(
    trace_id=TRACE_A,
    span_id=_id(0xA1),
    parent_span_id=b"",
    name="GET /checkout",
    kind=SpanKind.SERVER,
    start_time_unix_nano=T + 100,
    end_time_unix_nano=T + 1100,
    resource=FRONTEND,
    scope=SCOPE,
    trace_state="congo=t61rcWkgMzE",
    flags=0x101,
    attributes={"http.status_code": 200, "http.method": "GET", "a/b~c": "odd key"},
    dropped_attributes_count=3,
    events=(
        SpanEvent(
            T + 150,
            "cache miss",
            {"raw": b"\x00\xff", "list": [1, "x", 2.5, None], "map": {"k": 1.5, "b": b"\x01"}},
            1,
        ),
    ),
    dropped_events_count=4,
    links=(SpanLink(TRACE_B, _id(0xB1), "k=v", {"linked": True}, 2, 1),),
    dropped_links_count=5,
)
A2 = Span(
    trace_id=TRACE_A,
    span_id=_id(0xA2),
    parent_span_id=_id(0xA1),
    name="SELECT",
    kind=SpanKind.CLIENT,
    start_time_unix_nano=T + 200,
    end_time_unix_nano=T + 700,
    resource=BACKEND,
    scope=OTHER_SCOPE,
    attributes={"db.rows": 3, "ratio": 0.5, "flag": True, "big": 2**63 - 1},
    status_code=StatusCode.ERROR,
    status_message="boom",
)
B1 = Span(
    trace_id=TRACE_B,
    span_id=_id(0xB1),
    parent_span_id=b"",
    name="job",
    kind=SpanKind.INTERNAL,
    start_time_unix_nano=T + 2000,
    end_time_unix_nano=T + 2300,
    resource=BACKEND,
    scope=SCOPE,
    attributes={"http.status_code": "200", "negative": -7},
    status_code=StatusCode.OK,
)
# trace C is incomplete: its first span's parent was never stored
C1 = Span(
    trace_id=TRACE_C,
    span_id=_id(0xC1),
    parent_span_id=_id(0xDEAD),
    name="GET /cart",
    kind=SpanKind.SERVER,
    start_time_unix_nano=T + 3000,
    end_time_unix_nano=T + 3500,
    resource=FRONTEND,
    scope=SCOPE,
    attributes={"http.status_code": 404.0},
)
C2 = Span(
    trace_id=TRACE_C,
    span_id=_id(0xC2),
    parent_span_id=_id(0xC1),
    name="render",
    kind=SpanKind.INTERNAL,
    start_time_unix_nano=T + 3100,
    end_time_unix_nano=T + 3200,
    resource=FRONTEND,
    scope=SCOPE,
)
SPANS = [C2, A2, B1, A1, C1]  # not in time order: stores must sort


def _log(n: int, **changes: object) -> LogRecord:
    base = LogRecord(
        time_unix_nano=T + n * 10,
        observed_time_unix_nano=T + n * 10 + 1,
        severity_number=9,
        severity_text="INFO",
        body=f"message {n}",
        resource=FRONTEND,
        scope=SCOPE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


LOGS = [
    _log(0),
    _log(1, severity_number=17, severity_text="ERROR", body="An ERROR happened: disk full"),
    _log(2, body={"structured": "error inside a map", "n": 1}, resource=BACKEND),
    _log(3, time_unix_nano=0, observed_time_unix_nano=T + 35),  # time unset: observed time counts
    _log(4, trace_id=TRACE_A, span_id=_id(0xA1), attributes={"user.id": 42, "raw": b"\x01"}),
    _log(5, attributes={"user.id": "42"}, flags=1, event_name="login", dropped_attributes_count=2),
    _log(6, body=None, severity_number=0, severity_text=""),
    # three records at the very same time: paging must neither skip nor repeat them
    _log(7, body="tie 1"),
    _log(7, body="tie 2"),
    _log(7, body="tie 3"),
    _log(8, body=["list", 1], resource=BACKEND),
]

REQUESTS = MetricDescriptor("http.requests", "Requests served", "1", MetricType.SUM, 2, True)
CPU = MetricDescriptor("cpu.usage", "CPU", "%", MetricType.GAUGE, metadata={"m": "x"})
LATENCY = MetricDescriptor("latency", "Latency", "ms", MetricType.HISTOGRAM, 1)
EXP = MetricDescriptor("exp.latency", "", "s", MetricType.EXPONENTIAL_HISTOGRAM, 2)
QUANTILES = MetricDescriptor("rpc.summary", "Summary", "ms", MetricType.SUMMARY)
EXEMPLAR = Exemplar(T + 5, 12.5, {"e": "v"}, TRACE_A, _id(0xA1))

POINTS = [
    MetricPoint(REQUESTS, FRONTEND, SCOPE, T, T + 10, {"route": "/a"}, value_int=5),
    MetricPoint(REQUESTS, FRONTEND, SCOPE, T, T + 20, {"route": "/a"}, 0, (EXEMPLAR,), value_int=9),
    MetricPoint(REQUESTS, BACKEND, SCOPE, T, T + 15, {"route": "/b"}, value_int=1),
    MetricPoint(CPU, BACKEND, OTHER_SCOPE, 0, T + 12, {"core": 1}, value_double=0.25),
    MetricPoint(CPU, BACKEND, OTHER_SCOPE, 0, T + 22, {"core": 1}, value_double=0.75),
    MetricPoint(
        LATENCY,
        FRONTEND,
        SCOPE,
        T,
        T + 30,
        {"route": "/a"},
        count=6,
        sum=61.5,
        min=1.0,
        max=40.0,
        bucket_counts=(1, 2, 3),
        explicit_bounds=(5.0, 10.0),
    ),
    MetricPoint(
        EXP,
        FRONTEND,
        SCOPE,
        T,
        T + 31,
        count=4,
        sum=2.5,
        scale=3,
        zero_count=1,
        zero_threshold=0.001,
        positive_offset=-2,
        positive_bucket_counts=(1, 1),
        negative_offset=1,
        negative_bucket_counts=(1,),
    ),
    MetricPoint(
        QUANTILES,
        BACKEND,
        SCOPE,
        T,
        T + 32,
        count=10,
        sum=100.0,
        quantile_values=((0.5, 9.0), (0.99, 30.0)),
    ),
]
