"""Realistic OTLP export requests (traces, logs, metrics; protobuf and OTLP/JSON), serialised once
and stamped with fresh ids and times per request.

A template request is built and serialised up front with every trace and span id containing the
same 4-byte placeholder. Request ``n`` is then the template with that placeholder replaced by
``n`` (``seq.join(chunks)``): one bytes join per request, no protobuf work in the timed phase, and
ids that are unique per run and per request (``span_id = n:u32 || slot:u32``,
``trace_id = run_nonce:8 || n:u32 || trace:u32``). Timestamps advance with the clock the same
way: each is ``high:u32 || offset:u32`` (a fixed64, so little-endian on the wire), the template's
``high`` is a second placeholder, and each request puts ``(now >> 32) - 1`` there, so its spans
lie within the ~9 s before it is sent, as an SDK's batch exporter sends them. Ids and times are
fixed-length, so the protobuf framing is unchanged by the substitutions.

Log records carry the same kind of ids (two in three within a trace) and times (time and observed
time); metric data points carry times (start and collection time) and exemplars with ids. Logs and
data points have no identity of their own: the store is checked by counting them.

OTLP/JSON (hex ids, camelCase names, enums as numbers, 64-bit integers as strings) is rendered from
the same template: the protobuf template with the placeholder ids, at the current time, goes
through ``json_format.MessageToDict`` once per template each time ``high`` changes (every ~4.3 s),
its ids are turned into hex, and the JSON text is split at the hex of the id placeholder, so a
request is again one bytes join.

Longer than the project's ~450-line bound: the request templates of three signals in two
encodings, which share the stamping scheme above.
"""

from __future__ import annotations

import base64
import os
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Exemplar,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ScopeSpans, Span, Status

Signal = Literal["traces", "logs", "metrics"]
Encoding = Literal["protobuf", "json"]
SIGNALS: tuple[Signal, ...] = ("traces", "logs", "metrics")
ENCODINGS: tuple[Encoding, ...] = ("protobuf", "json")

TRACES_PER_REQUEST_DIVISOR = 10  # spans per trace
_SEQ = struct.Struct(">I")
_HTTP_ROUTES = ("/api/cart", "/api/checkout", "/api/products/{id}", "/api/users/{id}", "/health")
_DB_STATEMENTS = (
    "SELECT * FROM products WHERE id = ?",
    "UPDATE carts SET total = ? WHERE user_id = ?",
    "INSERT INTO orders (user_id, total) VALUES (?, ?)",
)


def _kv(key: str, value: str | bool | int | float | list[str]) -> KeyValue:
    if isinstance(value, bool):
        any_value = AnyValue(bool_value=value)
    elif isinstance(value, int):
        any_value = AnyValue(int_value=value)
    elif isinstance(value, float):
        any_value = AnyValue(double_value=value)
    elif isinstance(value, list):
        any_value = AnyValue(
            array_value=ArrayValue(values=[AnyValue(string_value=v) for v in value])
        )
    else:
        any_value = AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def _span_attributes(rng: random.Random, kind: int) -> list[KeyValue]:
    """About ten typed attributes, after the OpenTelemetry HTTP and database conventions."""
    route = rng.choice(_HTTP_ROUTES)
    attrs = [
        _kv("http.request.method", rng.choice(("GET", "POST", "PUT"))),
        _kv("http.route", route),
        _kv("url.path", route.replace("{id}", str(rng.randrange(1, 100_000)))),
        _kv("http.response.status_code", rng.choice((200, 200, 200, 201, 404, 500))),
        _kv("server.address", "shop.internal"),
        _kv("server.port", 8080),
        _kv("network.protocol.version", "1.1"),
        _kv("app.cache.hit", rng.random() < 0.7),
        _kv("app.cart.total", round(rng.uniform(1, 500), 2)),
        _kv("app.feature_flags", rng.sample(["new-ui", "fast-path", "beta", "dark"], 2)),
    ]
    if kind == Span.SPAN_KIND_CLIENT:
        attrs.append(_kv("db.system", "postgresql"))
        attrs.append(_kv("db.statement", rng.choice(_DB_STATEMENTS)))
    return attrs


def _resource_attributes(service: str, instance: int) -> list[KeyValue]:
    return [
        _kv("service.name", service),
        _kv("service.version", "1.4.2"),
        _kv("service.instance.id", f"{service}-{instance}"),
        _kv("deployment.environment", "production"),
        _kv("host.name", f"node-{instance:03d}"),
        _kv("telemetry.sdk.language", "python"),
        _kv("telemetry.sdk.name", "opentelemetry"),
        _kv("telemetry.sdk.version", "1.45.2"),
    ]


def build_template(
    spans: int, placeholder: bytes, nonce: bytes, seed: int, time_high: bytes
) -> ExportTraceServiceRequest:
    """One export request of ``spans`` spans: two resources of two scopes each, traces of ten
    spans with parent/child structure (a server root, client and internal children), events on
    every fourth span, an error status on every twentieth."""
    rng = random.Random(seed)
    high = int.from_bytes(time_high, "little") << 32
    traces = max(1, spans // TRACES_PER_REQUEST_DIVISOR)
    request = ExportTraceServiceRequest()
    groups: list[ScopeSpans] = []
    for r, service in enumerate(("checkout", "inventory")):
        rs = request.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
        rs.resource.attributes.extend(_resource_attributes(service, seed % 7 + r))
        for scope_name in (
            "opentelemetry.instrumentation.flask",
            "opentelemetry.instrumentation.dbapi",
        ):
            ss = rs.scope_spans.add()
            ss.scope.name = scope_name
            ss.scope.version = "0.56b0"
            groups.append(ss)
    span_ids = [placeholder + struct.pack(">I", i + 1) for i in range(spans)]
    trace_ids = [nonce + placeholder + struct.pack(">I", t + 1) for t in range(traces)]
    per_group = -(-spans // len(groups))
    for i in range(spans):
        trace = i % traces
        root = i < traces
        kind = (
            Span.SPAN_KIND_SERVER
            if root
            else rng.choice((Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL))
        )
        start = high | rng.randrange(0, 2**32 - 2**30)
        span = Span(
            trace_id=trace_ids[trace],
            span_id=span_ids[i],
            parent_span_id=b"" if root else span_ids[i - traces if (i // traces) % 2 else trace],
            name=f"{'GET' if root else 'query'} {rng.choice(_HTTP_ROUTES)}",
            kind=kind,
            start_time_unix_nano=start,
            end_time_unix_nano=start + rng.randrange(50_000, 2**30),
            flags=0x100 | 1,
        )
        span.attributes.extend(_span_attributes(rng, kind))
        if i % 4 == 0:
            event = span.events.add()
            event.time_unix_nano = start + 1000
            event.name = "cache.miss" if i % 20 else "exception"
            event.attributes.extend([_kv("cache.key", f"product:{rng.randrange(1000)}")])
        if i % 20 == 19:
            span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="upstream timeout"))
        groups[i // per_group].spans.append(span)
    return request


_SEVERITIES = ((5, "DEBUG"), (9, "INFO"), (9, "INFO"), (9, "INFO"), (13, "WARN"), (17, "ERROR"))
_LOGGERS = ("shop.checkout", "shop.cart", "shop.db", "uvicorn.access")


def _log_attributes(rng: random.Random, severity: int) -> list[KeyValue]:
    """Six or seven typed attributes, after the OpenTelemetry code and HTTP conventions."""
    attrs = [
        _kv("code.function.name", rng.choice(("handle", "checkout", "load_cart", "query"))),
        _kv("code.file.path", "/srv/shop/app/handlers.py"),
        _kv("code.line.number", rng.randrange(20, 900)),
        _kv("thread.id", rng.randrange(1, 64)),
        _kv("http.response.status_code", rng.choice((200, 200, 201, 404, 500))),
        _kv("app.duration_ms", round(rng.uniform(0.2, 250), 3)),
        _kv("app.retried", rng.random() < 0.1),
    ]
    if severity >= 17:
        attrs.append(_kv("exception.type", "TimeoutError"))
    return attrs


def build_logs_template(
    records: int, placeholder: bytes, nonce: bytes, seed: int, time_high: bytes
) -> ExportLogsServiceRequest:
    """One export request of ``records`` log records: two resources of two scopes each, a text
    body with typed attributes on most, a structured (map) body and an event name on every tenth,
    two in three records within a trace (trace and span id, sampled flag)."""
    rng = random.Random(seed)
    high = int.from_bytes(time_high, "little") << 32
    traces = max(1, records // TRACES_PER_REQUEST_DIVISOR)
    request = ExportLogsServiceRequest()
    groups: list[ScopeLogs] = []
    for r, service in enumerate(("checkout", "inventory")):
        rl = request.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
        rl.resource.attributes.extend(_resource_attributes(service, seed % 7 + r))
        for scope_name in ("opentelemetry.instrumentation.logging", "shop.orders"):
            sl = rl.scope_logs.add()
            sl.scope.name = scope_name
            sl.scope.version = "0.56b0"
            groups.append(sl)
    per_group = -(-records // len(groups))
    for i in range(records):
        when = high | rng.randrange(0, 2**32 - 2**30)
        severity, severity_text = rng.choice(_SEVERITIES)
        record = LogRecord(
            time_unix_nano=when,
            observed_time_unix_nano=when + rng.randrange(10_000, 2**29),
            severity_number=severity,  # type: ignore[arg-type]
            severity_text=severity_text,
        )
        if i % 3 != 2:
            record.trace_id = nonce + placeholder + struct.pack(">I", i % traces + 1)
            record.span_id = placeholder + struct.pack(">I", i + 1)
            record.flags = 1
        if i % 10 == 9:
            record.event_name = "shop.order.placed"
            record.body.kvlist_value.CopyFrom(
                KeyValueList(
                    values=[
                        _kv("order.id", rng.randrange(10**6, 10**7)),
                        _kv("order.total", round(rng.uniform(5, 900), 2)),
                        _kv("order.currency", "EUR"),
                        _kv("order.items", ["sku-1", "sku-2"]),
                    ]
                )
            )
        else:
            route = rng.choice(_HTTP_ROUTES)
            record.body.string_value = (
                f"{rng.choice(_LOGGERS)}: {rng.choice(('GET', 'POST'))} {route} handled "
                f"in {rng.uniform(0.2, 250):.1f} ms"
            )
        record.attributes.extend(_log_attributes(rng, severity))
        groups[i // per_group].log_records.append(record)
    return request


_DURATION_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
_MetricSpec = tuple[str, str, str, str]  # scope, kind, name, unit


_METRIC_SPECS: tuple[_MetricSpec, ...] = (
    ("opentelemetry.instrumentation.flask", "histogram", "http.server.request.duration", "s"),
    ("opentelemetry.instrumentation.flask", "updown", "http.server.active_requests", "{request}"),
    ("opentelemetry.instrumentation.flask", "counter", "shop.orders.placed", "{order}"),
    ("opentelemetry.instrumentation.dbapi", "exponential", "db.client.operation.duration", "s"),
    ("opentelemetry.instrumentation.system_metrics", "gauge", "system.cpu.utilization", "1"),
    ("opentelemetry.instrumentation.system_metrics", "counter", "process.runtime.gc_count", "1"),
)


def _point_attributes(rng: random.Random, name: str, index: int) -> list[KeyValue]:
    if name.startswith("http."):
        return [
            _kv("http.request.method", ("GET", "POST", "PUT")[index % 3]),
            _kv("http.route", _HTTP_ROUTES[index % len(_HTTP_ROUTES)]),
            _kv("http.response.status_code", (200, 201, 404, 500)[index % 4]),
            _kv("url.scheme", "https"),
        ]
    if name.startswith("db."):
        return [
            _kv("db.system", "postgresql"),
            _kv("db.operation.name", ("SELECT", "UPDATE", "INSERT")[index % 3]),
            _kv("db.collection.name", ("products", "carts", "orders")[index % 3]),
        ]
    if name == "system.cpu.utilization":
        return [
            _kv("cpu.logical_number", index // 4),
            _kv("cpu.mode", ("user", "system", "idle", "iowait")[index % 4]),
        ]
    if name == "process.runtime.gc_count":
        return [_kv("generation", index % 3), _kv("gc.freeze", index % 2 == 0)]
    return [_kv("shop.channel", ("web", "app", "api")[index % 3]), _kv("shop.index", index)]


def _exemplar(
    rng: random.Random, when: int, value: float, placeholder: bytes, nonce: bytes, slot: int
) -> Exemplar:
    return Exemplar(
        time_unix_nano=when - rng.randrange(2**20, 2**28),
        as_double=value,
        trace_id=nonce + placeholder + struct.pack(">I", slot),
        span_id=placeholder + struct.pack(">I", slot),
    )


def build_metrics_template(
    points: int, placeholder: bytes, nonce: bytes, seed: int, time_high: bytes
) -> ExportMetricsServiceRequest:
    """One export request of ``points`` data points as a periodic reader sends them: two
    resources, each with cumulative explicit-bucket histograms (with an exemplar per point),
    exponential histograms, monotonic and up-down counters (int) and a gauge (double), the points
    spread evenly over the twelve metrics, each point with its own typed attributes."""
    rng = random.Random(seed)
    high = int.from_bytes(time_high, "little") << 32
    start = high | rng.randrange(0, 2**20)
    collected = high | (2**32 - 2**30 - rng.randrange(0, 2**20))
    request = ExportMetricsServiceRequest()
    metrics: list[tuple[Metric, str]] = []
    for r, service in enumerate(("checkout", "inventory")):
        rm = request.resource_metrics.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
        rm.resource.attributes.extend(_resource_attributes(service, seed % 7 + r))
        scopes: dict[str, Any] = {}
        for scope_name, kind, name, unit in _METRIC_SPECS:
            if scope_name not in scopes:
                sm = rm.scope_metrics.add()
                sm.scope.name = scope_name
                sm.scope.version = "0.56b0"
                scopes[scope_name] = sm
            metric = scopes[scope_name].metrics.add(name=name, unit=unit, description=name)
            metrics.append((metric, kind))
    slot = 0
    for m, (metric, kind) in enumerate(metrics):
        count = points // len(metrics) + (1 if m < points % len(metrics) else 0)
        for index in range(count):
            attributes = _point_attributes(rng, metric.name, index)
            if kind == "histogram":
                buckets = [rng.randrange(0, 500) for _ in range(len(_DURATION_BOUNDS) + 1)]
                hp = HistogramDataPoint(
                    start_time_unix_nano=start,
                    time_unix_nano=collected,
                    count=sum(buckets),
                    sum=round(sum(buckets) * rng.uniform(0.01, 0.3), 3),
                    bucket_counts=buckets,
                    explicit_bounds=_DURATION_BOUNDS,
                    min=0.0007,
                    max=round(rng.uniform(1, 9), 3),
                )
                hp.attributes.extend(attributes)
                slot += 1
                hp.exemplars.append(
                    _exemplar(rng, collected, rng.uniform(0.001, 2), placeholder, nonce, slot)
                )
                metric.histogram.aggregation_temporality = _CUMULATIVE
                metric.histogram.data_points.append(hp)
            elif kind == "exponential":
                positive = [rng.randrange(0, 200) for _ in range(12)]
                ep = ExponentialHistogramDataPoint(
                    start_time_unix_nano=start,
                    time_unix_nano=collected,
                    count=sum(positive) + 3,
                    sum=round(sum(positive) * rng.uniform(0.001, 0.05), 4),
                    scale=3,
                    zero_count=3,
                    min=0.0,
                    max=round(rng.uniform(0.5, 4), 3),
                )
                ep.positive.offset = -40
                ep.positive.bucket_counts.extend(positive)
                ep.attributes.extend(attributes)
                metric.exponential_histogram.aggregation_temporality = _CUMULATIVE
                metric.exponential_histogram.data_points.append(ep)
            elif kind == "gauge":
                gp = NumberDataPoint(time_unix_nano=collected, as_double=rng.random())
                gp.attributes.extend(attributes)
                metric.gauge.data_points.append(gp)
            else:
                sp = NumberDataPoint(
                    start_time_unix_nano=start,
                    time_unix_nano=collected,
                    as_int=rng.randrange(0, 10**6) if kind == "counter" else rng.randrange(0, 64),
                )
                sp.attributes.extend(attributes)
                metric.sum.aggregation_temporality = _CUMULATIVE
                metric.sum.is_monotonic = kind == "counter"
                metric.sum.data_points.append(sp)
    return request


def _occurrences(message: Message, ids: bytes, high: int) -> tuple[int, int]:
    """How often the id placeholder is in the message's bytes fields, and how many of its fixed64
    ``*time_unix_nano`` fields have ``high`` as their high half."""
    found_ids = found_times = 0
    for field, value in message.ListFields():
        values = list(value) if field.is_repeated else [value]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in values:
                i, t = _occurrences(item, ids, high)
                found_ids += i
                found_times += t
        elif field.type == FieldDescriptor.TYPE_BYTES:
            found_ids += sum(v.count(ids) for v in values)
        elif field.type == FieldDescriptor.TYPE_FIXED64 and field.name.endswith("time_unix_nano"):
            found_times += sum(1 for v in values if v >> 32 == high)
    return found_ids, found_times


_ID_KEYS = frozenset(("traceId", "spanId", "parentSpanId"))


def _ids_to_hex(node: Any) -> None:
    """OTLP/JSON: trace and span ids are hex strings, not base64 as protobuf's JSON mapping has."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _ids_to_hex(value)
    elif isinstance(node, list):
        for item in node:
            _ids_to_hex(item)


def otlp_json(message: Message) -> bytes:
    """``message`` as OTLP/JSON: camelCase names, enums as integers, 64-bit integers as strings
    (protobuf's JSON mapping), trace and span ids as hex."""
    doc = json_format.MessageToDict(message, use_integers_for_enums=True)
    _ids_to_hex(doc)
    return orjson.dumps(doc)


@dataclass(slots=True)
class _Template:
    pieces: tuple[tuple[bytes, ...], ...]
    """The serialised request split at every id placeholder, each part split at every time one."""
    ids: bytes
    """The id placeholder (to render the OTLP/JSON form)."""
    id_count: int
    high: bytes = b""
    chunks: tuple[bytes, ...] = ()
    """``pieces`` joined with the current ``high`` (recomputed when the clock moves on)."""
    json_high: bytes = b""
    json_chunks: tuple[bytes, ...] = ()
    """The OTLP/JSON form at ``json_high``, split at the hex of the id placeholder."""

    def stamped(self, high: bytes) -> tuple[bytes, ...]:
        if high != self.high:
            self.chunks = tuple(high.join(parts) for parts in self.pieces)
            self.high = high
        return self.chunks

    def stamped_json(self, high: bytes, parse: Callable[[bytes], Message]) -> tuple[bytes, ...]:
        if high != self.json_high:
            text = otlp_json(parse(self.ids.join(self.stamped(high))))
            marker = self.ids.hex().encode()
            if text.count(marker) != self.id_count:
                raise RuntimeError("the id placeholder is not where the ids are in the JSON form")
            self.json_chunks = tuple(text.split(marker))
            self.json_high = high
        return self.json_chunks


def _placeholder(rng: random.Random, avoid: bytes = b"") -> bytes:
    """Four bytes, none zero, below 2**31 read little-endian (a valid high half of a time), with a
    letter in their hex (so that the hex cannot occur in a decimal number of the JSON form)."""
    while True:
        candidate = rng.randbytes(3) + bytes([rng.randrange(1, 0x80)])
        if b"\x00" not in candidate and candidate != avoid and not candidate.hex().isdigit():
            return candidate


class RequestFactory:
    """Serialised export request bodies of one signal with unique ids, one per request number
    (``build`` makes the template request of a subclass)."""

    signal: ClassVar[Signal]
    request_class: ClassVar[type[Message]]
    item: ClassVar[str]
    """What the signal's items are called in reports ("spans", "log records", "data points")."""

    def __init__(self, items_per_request: int = 100, variants: int = 4, seed: int = 1) -> None:
        if items_per_request <= 0:
            raise ValueError("items_per_request must be positive")
        self.items_per_request = items_per_request
        self.nonce = os.urandom(8)
        self._templates = [self._split(items_per_request, seed + v) for v in range(variants)]

    @staticmethod
    def build(items: int, ids: bytes, nonce: bytes, seed: int, times: bytes) -> Message:
        raise NotImplementedError

    def _split(self, items: int, seed: int) -> _Template:
        rng = random.Random(seed)
        for _ in range(100):
            ids = _placeholder(rng)
            times = _placeholder(rng, avoid=ids)
            request = self.build(items, ids, self.nonce, seed, times)
            payload = request.SerializeToString()
            expected_ids, expected_times = _occurrences(
                request, ids, int.from_bytes(times, "little")
            )
            if payload.count(ids) == expected_ids and payload.count(times) == expected_times:
                pieces = tuple(tuple(part.split(times)) for part in payload.split(ids))
                if sum(len(p) - 1 for p in pieces) == expected_times:
                    return _Template(pieces, ids, expected_ids)
        raise RuntimeError("could not find placeholders absent from the request body")

    def _clock_high(self, now_ns: int | None) -> bytes:
        now = time.time_ns() if now_ns is None else now_ns
        return _SEQ.pack((now >> 32) - 1)[::-1]

    def payload(self, number: int, now_ns: int | None = None) -> bytes:
        """The protobuf body of request ``number`` (0 <= number < 2**32 - 1), its items in the
        ~9 s before ``now_ns`` (default: the clock)."""
        template = self._templates[number % len(self._templates)]
        return _SEQ.pack(number + 1).join(template.stamped(self._clock_high(now_ns)))

    def json_payload(self, number: int, now_ns: int | None = None) -> bytes:
        """The same request as OTLP/JSON."""
        template = self._templates[number % len(self._templates)]
        chunks = template.stamped_json(self._clock_high(now_ns), self.request_class.FromString)
        return _SEQ.pack(number + 1).hex().encode().join(chunks)

    def body(self, encoding: Encoding) -> Callable[[int], bytes]:
        """``payload`` or ``json_payload``."""
        return self.payload if encoding == "protobuf" else self.json_payload


class PayloadFactory(RequestFactory):
    """``ExportTraceServiceRequest`` bodies; ``span_ids`` says which spans a request carries."""

    signal = "traces"
    request_class = ExportTraceServiceRequest
    item = "spans"

    def __init__(self, spans_per_request: int = 100, variants: int = 4, seed: int = 1) -> None:
        if spans_per_request <= 0:
            raise ValueError("spans_per_request must be positive")
        super().__init__(spans_per_request, variants, seed)

    @property
    def spans_per_request(self) -> int:
        return self.items_per_request

    @staticmethod
    def build(items: int, ids: bytes, nonce: bytes, seed: int, times: bytes) -> Message:
        return build_template(items, ids, nonce, seed, times)

    def span_ids(self, number: int) -> list[str]:
        """The hex span ids request ``number`` carries, as the store keeps them."""
        seq = _SEQ.pack(number + 1)
        return [(seq + struct.pack(">I", i + 1)).hex() for i in range(self.spans_per_request)]


class LogsPayloadFactory(RequestFactory):
    """``ExportLogsServiceRequest`` bodies of ``items_per_request`` log records."""

    signal = "logs"
    request_class = ExportLogsServiceRequest
    item = "log records"

    @staticmethod
    def build(items: int, ids: bytes, nonce: bytes, seed: int, times: bytes) -> Message:
        return build_logs_template(items, ids, nonce, seed, times)


class MetricsPayloadFactory(RequestFactory):
    """``ExportMetricsServiceRequest`` bodies of ``items_per_request`` data points."""

    signal = "metrics"
    request_class = ExportMetricsServiceRequest
    item = "data points"

    @staticmethod
    def build(items: int, ids: bytes, nonce: bytes, seed: int, times: bytes) -> Message:
        return build_metrics_template(items, ids, nonce, seed, times)


FACTORIES: dict[Signal, type[RequestFactory]] = {
    "traces": PayloadFactory,
    "logs": LogsPayloadFactory,
    "metrics": MetricsPayloadFactory,
}


def factory_for(signal: Signal, items_per_request: int = 100, seed: int = 1) -> RequestFactory:
    return FACTORIES[signal](items_per_request, seed=seed)
