"""The load generator: pre-serialised OTLP trace requests over gRPC or HTTP/protobuf, closed-loop
(``concurrency`` requests always in flight, as fast as the server answers) or open-loop (a fixed
``rate`` of requests per second, whatever the answers; latency then counts from the moment a request
was due, so a slow server cannot hide its queueing delay).

Both clients are kept cheap, since they share the machine with the server: gRPC is a raw-bytes
unary call on one ``grpc.aio`` channel (no protobuf work per request), HTTP one pooled
``httpx.AsyncClient``; only the (normally empty) response bodies are parsed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import grpc
import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from bench.payloads import PayloadFactory

Protocol = Literal["grpc", "http"]
GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
REQUEST_TIMEOUT_SECONDS = 30.0
OVERLOAD_BACKOFF_SECONDS = 0.05
_MAX_MESSAGE = 64 * 1024 * 1024


@dataclass(slots=True)
class Outcome:
    """One answer: ``error`` is ``None`` when the server acknowledged the request."""

    rejected_spans: int = 0
    error: str | None = None
    overloaded: bool = False
    """The server asked to retry later (gRPC UNAVAILABLE, HTTP 503)."""


Send = Callable[[bytes], Awaitable[Outcome]]


@dataclass(slots=True)
class LoadResult:
    accepted_requests: list[int] = field(default_factory=list)
    """Numbers of the requests acknowledged with every span accepted."""
    partially_rejected_requests: list[int] = field(default_factory=list)
    rejected_spans: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    """Seconds, of acknowledged requests started in the measured phase."""
    measured_accepted_requests: int = 0
    """Acknowledged requests that completed in the measured phase (the throughput)."""
    measured_seconds: float = 0.0
    sent_requests: int = 0
    max_in_flight: int = 0


def _response_outcome(body: bytes) -> Outcome:
    if not body:
        return Outcome()
    response = ExportTraceServiceResponse.FromString(body)
    return Outcome(rejected_spans=response.partial_success.rejected_spans)


class GrpcClient:
    def __init__(self, target: str) -> None:
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ],
        )
        # no serialisers: the request goes out as the given bytes, the answer comes back as bytes
        self._export: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._channel.unary_unary(
            GRPC_METHOD
        )

    async def send(self, body: bytes) -> Outcome:
        try:
            answer = await self._export(body, timeout=REQUEST_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            return Outcome(
                error=f"grpc {code.name}", overloaded=code is grpc.StatusCode.UNAVAILABLE
            )
        return _response_outcome(answer)

    async def close(self) -> None:
        await self._channel.close()


class HttpClient:
    def __init__(self, base_url: str, connections: int) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=REQUEST_TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"Content-Type": "application/x-protobuf"},
        )

    async def send(self, body: bytes) -> Outcome:
        try:
            response = await self._client.post("/v1/traces", content=body)
        except httpx.HTTPError as exc:
            return Outcome(error=f"http {type(exc).__name__}")
        if response.status_code != 200:
            return Outcome(
                error=f"http {response.status_code}", overloaded=response.status_code == 503
            )
        return _response_outcome(response.content)

    async def close(self) -> None:
        await self._client.aclose()


class _Run:
    """Shared bookkeeping of one load run."""

    def __init__(self, factory: PayloadFactory, send: Send, warmup: float, duration: float):
        self.factory = factory
        self.send = send
        self.result = LoadResult()
        self.numbers = itertools.count()
        now = time.perf_counter()
        self.measure_from = now + warmup
        self.deadline = self.measure_from + duration
        self.in_flight = 0

    async def one(self, due: float | None = None) -> Outcome:
        number = next(self.numbers)
        body = self.factory.payload(number)
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
            return outcome
        if outcome.rejected_spans:
            result.rejected_spans += outcome.rejected_spans
            result.partially_rejected_requests.append(number)
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
    factory: PayloadFactory,
    *,
    grpc_target: str,
    http_url: str,
    concurrency: int,
    duration: float,
    warmup: float,
    rate: float | None,
) -> LoadResult:
    client: GrpcClient | HttpClient = (
        GrpcClient(grpc_target) if protocol == "grpc" else HttpClient(http_url, concurrency)
    )
    run = _Run(factory, client.send, warmup, duration)
    try:
        if rate is None:
            await closed_loop(run, concurrency)
        else:
            await open_loop(run, rate)
    finally:
        await client.close()
    run.result.measured_seconds = duration
    return run.result
