"""The OTLP/gRPC receiver: TraceService, LogsService and MetricsService ``Export`` on one server.

Requests arrive as raw bytes and are parsed here rather than by gRPC, so that an undecodable
request is answered ``INVALID_ARGUMENT`` (gRPC's own deserialiser would answer ``INTERNAL``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.rpc import code_pb2

from obsvty.adapters.otlp.codec import CODECS, PayloadError, SignalCodec
from obsvty.adapters.otlp.grpc_status import retry_status
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics, ReceiverMetrics
from obsvty.application.ingest import IngestService, NotCommittedError
from obsvty.domain.model import Signal
from obsvty.ports.buffer import BufferFullError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1

_SERVICES = {
    Signal.TRACES: "opentelemetry.proto.collector.trace.v1.TraceService",
    Signal.LOGS: "opentelemetry.proto.collector.logs.v1.LogsService",
    Signal.METRICS: "opentelemetry.proto.collector.metrics.v1.MetricsService",
}


def _request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and isinstance(value, str):
            return value
    return None


class _ExportHandler:
    def __init__(
        self, codec: SignalCodec[Any], ingest: IngestService, metrics: ReceiverMetrics
    ) -> None:
        self._codec = codec
        self._ingest = ingest
        self._metrics = metrics

    async def export(self, payload: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        codec = self._codec
        with self._metrics.request(_request_id(context)) as observed:
            if not self._ingest.has_room(len(payload)):  # refused before any decoding work
                observed.fail("overloaded")
                await _abort_overloaded(context, "the buffer is full")
            try:
                decoded = codec.decode_protobuf(payload)
            except PayloadError as exc:  # undecodable, or refused by a limit while converted
                observed.fail("invalid")
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            try:
                result = await self._ingest.submit(decoded, len(payload))
            except (BufferFullError, NotCommittedError) as exc:
                observed.fail("overloaded", len(decoded.batch) + decoded.rejected)
                await _abort_overloaded(context, str(exc))
            observed.done(result)
            return codec.response(result).SerializeToString()


async def _abort_overloaded(context: grpc.aio.ServicerContext[Any, Any], reason: str) -> None:
    await context.abort(
        *retry_status(code_pb2.UNAVAILABLE, f"obsvty is overloaded: {reason}", RETRY_AFTER_SECONDS)
    )


def export_handlers(
    ingest: IngestService,
    codecs: Mapping[Signal, SignalCodec[Any]] = CODECS,
    metrics: ObsvtyMetrics | None = None,
) -> list[grpc.GenericRpcHandler]:
    metrics = metrics if metrics is not None else ObsvtyMetrics()
    handlers = []
    for signal, service in _SERVICES.items():
        # a bound ``async def`` method: grpc.aio only awaits what inspect sees as a coroutine
        # function (an object with an async ``__call__`` would be run as a sync handler)
        method: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(
            _ExportHandler(codecs[signal], ingest, metrics.receiver(signal, "grpc")).export,
            request_deserializer=None,
            response_serializer=None,
        )
        handlers.append(grpc.method_handlers_generic_handler(service, {"Export": method}))
    return handlers


def create_server(
    ingest: IngestService,
    max_message_length: int,
    *,
    codecs: Mapping[Signal, SignalCodec[Any]] = CODECS,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    options: Sequence[tuple[str, Any]] = (),
    metrics: ObsvtyMetrics | None = None,
) -> grpc.aio.Server:
    """``codecs``, ``interceptors`` and extra ``options``: how the security policy plugs in
    (input limits, authentication, rate and concurrency limits)."""
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", max_message_length),
            ("grpc.max_send_message_length", max_message_length),
            *options,
        ],
    )
    for handler in export_handlers(ingest, codecs, metrics):
        server.add_generic_rpc_handlers((handler,))
    return server
