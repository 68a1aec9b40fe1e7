"""Realistic OTLP trace export requests, serialised once and stamped with fresh ids and times
per request.

A template request is built and serialised up front with every trace and span id containing the
same 4-byte placeholder. Request ``n`` is then the template with that placeholder replaced by
``n`` (``seq.join(chunks)``): one bytes join per request, no protobuf work in the timed phase, and
ids that are unique per run and per request (``span_id = n:u32 || slot:u32``,
``trace_id = run_nonce:8 || n:u32 || trace:u32``). Timestamps advance with the clock the same
way: each is ``high:u32 || offset:u32`` (a fixed64, so little-endian on the wire), the template's
``high`` is a second placeholder, and each request puts ``(now >> 32) - 1`` there, so its spans
lie within the ~9 s before it is sent, as an SDK's batch exporter sends them. Ids and times are
fixed-length, so the protobuf framing is unchanged by the substitutions.
"""

from __future__ import annotations

import os
import random
import struct
import time
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ScopeSpans, Span, Status

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


@dataclass(slots=True)
class _Template:
    pieces: tuple[tuple[bytes, ...], ...]
    """The serialised request split at every id placeholder, each part split at every time one."""
    high: bytes = b""
    chunks: tuple[bytes, ...] = ()
    """``pieces`` joined with the current ``high`` (recomputed when the clock moves on)."""

    def stamped(self, high: bytes) -> tuple[bytes, ...]:
        if high != self.high:
            self.chunks = tuple(high.join(parts) for parts in self.pieces)
            self.high = high
        return self.chunks


def _placeholder(rng: random.Random, avoid: bytes = b"") -> bytes:
    """Four bytes, none zero, below 2**31 read little-endian (a valid high half of a time)."""
    while True:
        candidate = rng.randbytes(3) + bytes([rng.randrange(1, 0x80)])
        if b"\x00" not in candidate and candidate != avoid:
            return candidate


class PayloadFactory:
    """Serialised ``ExportTraceServiceRequest`` bodies with unique ids, one per request number."""

    def __init__(self, spans_per_request: int = 100, variants: int = 4, seed: int = 1) -> None:
        if spans_per_request <= 0:
            raise ValueError("spans_per_request must be positive")
        self.spans_per_request = spans_per_request
        self.nonce = os.urandom(8)
        self._templates = [self._split(spans_per_request, seed + v) for v in range(variants)]

    def _split(self, spans: int, seed: int) -> _Template:
        traces = max(1, spans // TRACES_PER_REQUEST_DIVISOR)
        rng = random.Random(seed)
        for _ in range(100):
            ids = _placeholder(rng)
            times = _placeholder(rng, avoid=ids)
            request = build_template(spans, ids, self.nonce, seed, times)
            payload = request.SerializeToString()
            all_spans = [
                s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans
            ]
            expected_ids = spans + spans + (spans - traces)  # span ids, trace ids, parent ids
            expected_times = sum(2 + len(span.events) for span in all_spans)
            if payload.count(ids) == expected_ids and payload.count(times) == expected_times:
                pieces = tuple(tuple(part.split(times)) for part in payload.split(ids))
                if sum(len(p) - 1 for p in pieces) == expected_times:
                    return _Template(pieces)
        raise RuntimeError("could not find placeholders absent from the request body")

    def payload(self, number: int, now_ns: int | None = None) -> bytes:
        """The body of request ``number`` (0 <= number < 2**32 - 1), its spans in the ~9 s
        before ``now_ns`` (default: the clock)."""
        now = time.time_ns() if now_ns is None else now_ns
        template = self._templates[number % len(self._templates)]
        chunks = template.stamped(_SEQ.pack((now >> 32) - 1)[::-1])
        return _SEQ.pack(number + 1).join(chunks)

    def span_ids(self, number: int) -> list[str]:
        """The hex span ids request ``number`` carries, as the store keeps them."""
        seq = _SEQ.pack(number + 1)
        return [(seq + struct.pack(">I", i + 1)).hex() for i in range(self.spans_per_request)]
