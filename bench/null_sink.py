"""The null sink: OTLP/gRPC and OTLP/HTTP servers that parse each export request and answer
success, storing nothing. The transport-and-parse ceiling of this machine, to which
``python -m bench.ingest --compare`` holds obsvty (see docs/PERFORMANCE.md).

    .venv/bin/python -m bench.null_sink --grpc-port 4317 --http-port 4318

The same kind of servers as obsvty's receivers, so that the ratio compares like with like:

- gRPC: a ``grpc.aio`` server with generic handlers taking the raw request bytes (as
  ``obsvty.adapters.otlp.grpc_receiver``), the same message-size options; a handler parses the
  bytes with the official class (``ExportTraceServiceRequest.FromString`` etc.) and answers the
  serialised empty response.
- HTTP: a FastAPI application with plain Starlette routes for ``/v1/traces``, ``/v1/logs`` and
  ``/v1/metrics`` (as ``obsvty.adapters.otlp.http_receiver``), served by an embedded uvicorn with
  the options obsvty's ``main`` gives it, in the same process and event loop as the gRPC server.
  Protobuf bodies are parsed as above, OTLP/JSON ones with ``orjson.loads`` (obsvty's first step
  for JSON); the answer is the empty response in the request's encoding.
- The garbage collector tuned as obsvty tunes it (``obsvty.adapters.gc_tuning``).

No conversion, no validation beyond the parse, no buffer, no store, no interceptors or guards
(obsvty's are idle with its default settings, but still called). Undecodable bodies are answered
``INVALID_ARGUMENT`` / 400, other content types 415. ``/healthz`` answers 200. SIGTERM or SIGINT
stops it; it then prints how many requests it parsed, per signal and encoding.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import orjson
import uvicorn
from fastapi import FastAPI
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from obsvty.adapters.gc_tuning import tune_gc

MAX_MESSAGE_LENGTH = 64 * 1024 * 1024
PROTOBUF = "application/x-protobuf"
JSON = "application/json"

# signal: (gRPC service, request class, response class)
_SIGNALS: dict[str, tuple[str, type[Message], type[Message]]] = {
    "traces": (
        "opentelemetry.proto.collector.trace.v1.TraceService",
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    ),
    "logs": (
        "opentelemetry.proto.collector.logs.v1.LogsService",
        ExportLogsServiceRequest,
        ExportLogsServiceResponse,
    ),
    "metrics": (
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
        ExportMetricsServiceRequest,
        ExportMetricsServiceResponse,
    ),
}

parsed: Counter[str] = Counter()
"""Requests parsed, by ``signal/transport-encoding``."""


class _GrpcExport:
    def __init__(self, signal_name: str, request_class: type[Message], response: Message) -> None:
        self._key = f"{signal_name}/grpc"
        self._parse = request_class.FromString
        self._answer = response.SerializeToString()

    async def export(self, payload: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        try:
            self._parse(payload)
        except DecodeError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"undecodable: {exc}")
        parsed[self._key] += 1
        return self._answer


def create_grpc_server() -> grpc.aio.Server:
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_LENGTH),
            ("grpc.max_send_message_length", MAX_MESSAGE_LENGTH),
        ]
    )
    for name, (service, request_class, response_class) in _SIGNALS.items():
        # a bound ``async def`` method, raw bytes in and out (no (de)serialisers), as obsvty's
        method: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(
            _GrpcExport(name, request_class, response_class()).export,
            request_deserializer=None,
            response_serializer=None,
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, {"Export": method}),)
        )
    return server


class _HttpExport:
    def __init__(self, signal_name: str, request_class: type[Message], response: Message) -> None:
        self._signal = signal_name
        self._parse = request_class.FromString
        self._protobuf_answer = response.SerializeToString()
        self._json_answer = orjson.dumps({})

    async def handle(self, request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        body = await request.body()
        if media_type == PROTOBUF:
            try:
                self._parse(body)
            except DecodeError:
                return Response(b"", status_code=400, media_type=PROTOBUF)
            parsed[f"{self._signal}/http-protobuf"] += 1
            return Response(self._protobuf_answer, media_type=PROTOBUF)
        if media_type == JSON:
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                return Response(b'{"code":3}', status_code=400, media_type=JSON)
            parsed[f"{self._signal}/http-json"] += 1
            return Response(self._json_answer, media_type=JSON)
        return Response(b'{"code":3}', status_code=415, media_type=JSON)


async def _healthz(request: Request) -> Response:
    return Response(b"ok", media_type="text/plain")


def create_app() -> FastAPI:
    app = FastAPI(title="obsvty null sink", docs_url=None, redoc_url=None, openapi_url=None)
    for name, (_service, request_class, response_class) in _SIGNALS.items():
        app.router.routes.append(
            Route(
                f"/v1/{name}",
                _HttpExport(name, request_class, response_class()).handle,
                methods=["POST"],
            )
        )
    app.router.routes.append(Route("/healthz", _healthz, methods=["GET"]))
    return app


class _EmbeddedUvicorn(uvicorn.Server):
    """Signals are handled by ``serve`` (as obsvty's main does)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(host: str, grpc_port: int, http_port: int) -> None:
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    grpc_server = create_grpc_server()
    grpc_server.add_insecure_port(f"{host}:{grpc_port}")
    await grpc_server.start()
    http = _EmbeddedUvicorn(
        uvicorn.Config(
            create_app(),
            host=host,
            port=http_port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
    )
    http_task = asyncio.create_task(http.serve())
    await stop.wait()
    http.should_exit = True
    await grpc_server.stop(2)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(http_task, 5)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.null_sink",
        description="OTLP/gRPC and OTLP/HTTP servers that parse each request and store nothing.",
    )
    p.add_argument("--grpc-port", type=int, default=4317)
    p.add_argument("--http-port", type=int, default=4318)
    p.add_argument("--host", default="127.0.0.1")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    asyncio.run(serve(args.host, args.grpc_port, args.http_port))
    counts = ", ".join(f"{key} {n}" for key, n in sorted(parsed.items())) or "none"
    print(f"null sink stopped; requests parsed: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
