"""The load generator: pre-serialised OTLP requests (traces, logs or metrics) over gRPC,
HTTP/protobuf or HTTP/JSON, closed-loop (``concurrency`` requests always in flight, as fast as the
server answers) or open-loop (a fixed ``rate`` of requests per second, whatever the answers;
latency then counts from the moment a request was due, so a slow server cannot hide its queueing
delay).

The clients are kept cheap, since they share the machine with the server: gRPC is a raw-bytes
unary call on one ``grpc.aio`` channel (no protobuf work per request), HTTP by default HTTP/1.1
keep-alive connections written to and read from directly over asyncio streams (``RawHttpClient``,
~0.2 ms of CPU per 46-100 KB request), or one pooled ``httpx.AsyncClient`` (``HttpClient``,
~2-3 ms per request: it caps a fast server); only the (normally empty) response bodies are
parsed. The same load runs
against obsvty or the null sink (``bench/null_sink.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc
import httpx
import orjson
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from bench.payloads import Encoding, RequestFactory, Signal

Protocol = Literal["grpc", "http"]
HttpClientKind = Literal["httpx", "raw"]
GRPC_METHODS: dict[Signal, str] = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}
GRPC_METHOD = GRPC_METHODS["traces"]
HTTP_PATHS: dict[Signal, str] = {signal: f"/v1/{signal}" for signal in GRPC_METHODS}
CONTENT_TYPES: dict[Encoding, str] = {
    "protobuf": "application/x-protobuf",
    "json": "application/json",
}
RESPONSES: dict[Signal, type[Message]] = {
    "traces": ExportTraceServiceResponse,
    "logs": ExportLogsServiceResponse,
    "metrics": ExportMetricsServiceResponse,
}
REJECTED_FIELDS: dict[Signal, str] = {
    "traces": "rejected_spans",
    "logs": "rejected_log_records",
    "metrics": "rejected_data_points",
}
REJECTED_JSON_KEYS: dict[Signal, str] = {
    "traces": "rejectedSpans",
    "logs": "rejectedLogRecords",
    "metrics": "rejectedDataPoints",
}
REQUEST_TIMEOUT_SECONDS = 30.0
OVERLOAD_BACKOFF_SECONDS = 0.05
_MAX_MESSAGE = 64 * 1024 * 1024


@dataclass(slots=True)
class Outcome:
    """One answer: ``error`` is ``None`` when the server acknowledged the request."""

    rejected_items: int = 0
    """Items the server refused in an acknowledged request (``partial_success``)."""
    error: str | None = None
    overloaded: bool = False
    """The server asked to retry later (gRPC UNAVAILABLE, HTTP 503)."""


Send = Callable[[bytes], Awaitable[Outcome]]


@dataclass(slots=True)
class LoadResult:
    accepted_requests: list[int] = field(default_factory=list)
    """Numbers of the requests acknowledged with every item accepted."""
    partially_rejected_requests: list[int] = field(default_factory=list)
    rejected_items: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    """Seconds, of acknowledged requests started in the measured phase."""
    measured_accepted_requests: int = 0
    """Acknowledged requests that completed in the measured phase (the throughput)."""
    measured_seconds: float = 0.0
    sent_requests: int = 0
    max_in_flight: int = 0
    unsure_requests: int = 0
    """Requests whose items may or may not be stored: partially rejected, or failed other than by
    an "overloaded" answer (e.g. a timeout: the server may have taken them)."""


def _response_outcome(
    body: bytes, signal: Signal = "traces", encoding: Encoding = "protobuf"
) -> Outcome:
    if not body or body == b"{}":
        return Outcome()
    if encoding == "json":
        partial = orjson.loads(body).get("partialSuccess") or {}
        return Outcome(rejected_items=int(partial.get(REJECTED_JSON_KEYS[signal], 0)))
    response: Any = RESPONSES[signal].FromString(body)
    return Outcome(rejected_items=getattr(response.partial_success, REJECTED_FIELDS[signal]))


class GrpcClient:
    def __init__(self, target: str, signal: Signal = "traces") -> None:
        self._signal: Signal = signal
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ],
        )
        # no serialisers: the request goes out as the given bytes, the answer comes back as bytes
        self._export: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._channel.unary_unary(
            GRPC_METHODS[signal]
        )

    async def send(self, body: bytes) -> Outcome:
        try:
            answer = await self._export(body, timeout=REQUEST_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            return Outcome(
                error=f"grpc {code.name}", overloaded=code is grpc.StatusCode.UNAVAILABLE
            )
        return _response_outcome(answer, self._signal)

    async def close(self) -> None:
        await self._channel.close()


class HttpClient:
    def __init__(
        self,
        base_url: str,
        connections: int,
        signal: Signal = "traces",
        encoding: Encoding = "protobuf",
    ) -> None:
        self._signal: Signal = signal
        self._encoding: Encoding = encoding
        self._path = HTTP_PATHS[signal]
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=REQUEST_TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"Content-Type": CONTENT_TYPES[encoding]},
        )

    async def send(self, body: bytes) -> Outcome:
        try:
            response = await self._client.post(self._path, content=body)
        except httpx.HTTPError as exc:
            return Outcome(error=f"http {type(exc).__name__}")
        if response.status_code != 200:
            return Outcome(
                error=f"http {response.status_code}", overloaded=response.status_code == 503
            )
        return _response_outcome(response.content, self._signal, self._encoding)

    async def close(self) -> None:
        await self._client.aclose()


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class RawHttpClient:
    """HTTP/1.1 with keep-alive straight over asyncio streams: a pool of ``connections``, one
    prepared request head and the body written per request, the answer read by its
    Content-Length. The same requests as ``HttpClient`` for a fraction of its CPU (httpx spends
    ~2-3 ms of CPU per 46 KB request here, more than the null sink spends parsing it), so that the
    generator does not cap what a fast server shows. A connection that fails or is closed by the
    server is opened again for the next request."""

    def __init__(
        self,
        base_url: str,
        connections: int,
        signal: Signal = "traces",
        encoding: Encoding = "protobuf",
    ) -> None:
        self._signal: Signal = signal
        self._encoding: Encoding = encoding
        url = urllib.parse.urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"plain http://host:port only, got {base_url!r}")
        self._host = url.hostname
        self._port = url.port or 80
        self._head = (
            f"POST {HTTP_PATHS[signal]} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: {CONTENT_TYPES[encoding]}\r\nContent-Length: "
        ).encode()
        self._pool: asyncio.Queue[_Connection | None] = asyncio.Queue()
        for _ in range(connections):
            self._pool.put_nowait(None)  # opened when first used
        self._open: set[_Connection] = set()

    async def _read(self, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not read by this client")
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        content = await reader.readexactly(length) if length else b""
        return status, content, close

    async def send(self, body: bytes) -> Outcome:
        connection = await self._pool.get()
        reusable = False
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                if connection is None:
                    connection = await asyncio.open_connection(self._host, self._port)
                    self._open.add(connection)
                reader, writer = connection
                writer.write(b"%s%d\r\n\r\n" % (self._head, len(body)))
                writer.write(body)
                status, content, close = await self._read(reader)
            reusable = not close
        except (OSError, EOFError, ValueError, TimeoutError, asyncio.LimitOverrunError) as exc:
            return Outcome(error=f"http {type(exc).__name__}")
        finally:
            if not reusable:  # failed, cancelled or closed by the server: reopened next time
                self._drop(connection)
                connection = None
            self._pool.put_nowait(connection)
        if status != 200:
            return Outcome(error=f"http {status}", overloaded=status == 503)
        return _response_outcome(content, self._signal, self._encoding)

    def _drop(self, connection: _Connection | None) -> None:
        if connection is not None:
            self._open.discard(connection)
            connection[1].close()

    async def close(self) -> None:
        for _, writer in list(self._open):
            writer.close()
        self._open.clear()


class _Run:
    """Shared bookkeeping of one load run."""

    def __init__(
        self,
        factory: RequestFactory,
        send: Send,
        warmup: float,
        duration: float,
        encoding: Encoding = "protobuf",
    ):
        self.factory = factory
        self.body = factory.body(encoding)
        self.send = send
        self.result = LoadResult()
        self.numbers = itertools.count()
        now = time.perf_counter()
        self.measure_from = now + warmup
        self.deadline = self.measure_from + duration
        self.in_flight = 0

    async def one(self, due: float | None = None) -> Outcome:
        number = next(self.numbers)
        body = self.body(number)
        started = time.perf_counter() if due is None else due
        result = self.result
        result.sent_requests += 1
        self.in_flight += 1
        result.max_in_flight = max(result.max_in_flight, self.in_flight)
        try:
            outcome = await self.send(body)
        finally:
            self.in_flight -= 1
        finished = time.perf_counter()
        if outcome.error is not None:
            result.errors[outcome.error] += 1
            if not outcome.overloaded:
                result.unsure_requests += 1
            return outcome
        if outcome.rejected_items:
            result.rejected_items += outcome.rejected_items
            result.partially_rejected_requests.append(number)
            result.unsure_requests += 1
            return outcome
        result.accepted_requests.append(number)
        if self.measure_from <= finished <= self.deadline:
            result.measured_accepted_requests += 1
        if self.measure_from <= started < self.deadline:
            result.latencies.append(finished - started)
        return outcome


async def closed_loop(run: _Run, concurrency: int) -> None:
    async def worker() -> None:
        while time.perf_counter() < run.deadline:
            if (await run.one()).overloaded:
                # like an SDK exporter, back off before the next request (briefly: a benchmark)
                await asyncio.sleep(OVERLOAD_BACKOFF_SECONDS)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def open_loop(run: _Run, rate: float) -> None:
    interval = 1.0 / rate
    start = time.perf_counter()
    tasks: set[asyncio.Task[Outcome]] = set()
    for i in itertools.count():
        due = start + i * interval
        if due >= run.deadline:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task: asyncio.Task[Outcome] = asyncio.create_task(run.one(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)


async def generate(
    protocol: Protocol,
    factory: RequestFactory,
    *,
    grpc_target: str,
    http_url: str,
    concurrency: int,
    duration: float,
    warmup: float,
    rate: float | None,
    encoding: Encoding = "protobuf",
    http_client: HttpClientKind = "httpx",
) -> LoadResult:
    """Load of ``factory``'s signal; ``encoding`` "json" is for HTTP only (gRPC is protobuf).
    ``http_client``: httpx (``HttpClient``) or raw asyncio streams (``RawHttpClient``)."""
    if protocol == "grpc" and encoding != "protobuf":
        raise ValueError("OTLP/gRPC carries protobuf only")
    client: GrpcClient | HttpClient | RawHttpClient
    if protocol == "grpc":
        client = GrpcClient(grpc_target, factory.signal)
    elif http_client == "raw":
        client = RawHttpClient(http_url, concurrency, factory.signal, encoding)
    else:
        client = HttpClient(http_url, concurrency, factory.signal, encoding)
    run = _Run(factory, client.send, warmup, duration, encoding)
    try:
        if rate is None:
            await closed_loop(run, concurrency)
        else:
            await open_loop(run, rate)
    finally:
        await client.close()
    run.result.measured_seconds = duration
    return run.result
