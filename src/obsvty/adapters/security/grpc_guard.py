"""A gRPC server interceptor that guards the OTLP export services.

In order, for each export call: bearer-token authentication (``UNAUTHENTICATED``), the per-client
rate limit and the per-client concurrency limits (``RESOURCE_EXHAUSTED`` with ``RetryInfo``, which
OTLP exporters honour before retrying). Any other method (e.g. health) only gets the last duty:
an unexpected exception becomes a bare ``INTERNAL`` with no exception text, so no stack trace,
file path, SQL or setting ever reaches a client (gRPC's default puts the exception's text in the
status details).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from obsvty.adapters.otlp.grpc_status import retry_status
from obsvty.adapters.security.auth import TokenSet, bearer_token, token_client
from obsvty.adapters.security.ratelimit import RateLimiter
from obsvty.domain.model import Signal

log = logging.getLogger(__name__)

SERVICES = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export": Signal.TRACES,
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export": Signal.LOGS,
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export": Signal.METRICS,
}
BUSY_RETRY_SECONDS = 1.0

Refusal = Callable[[Signal, str], None]
"""Told of every refused export call: its signal and why (``unauthenticated``, ``rate_limited``,
``too_many_requests``, ``too_many_connections``). Never the token."""

_Unary = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def peer_address(peer: str) -> str:
    """The client address of a gRPC peer string (``ipv4:1.2.3.4:5678``, ``ipv6:[::1]:5678``)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return kind or "unknown"


def _authorization(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value if isinstance(value, str) else None
    return None


class GrpcGuard(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        tokens: TokenSet | None = None,
        limiter: RateLimiter | None = None,
        *,
        max_requests_per_client: int | None = None,
        max_connections_per_client: int | None = None,
        on_refusal: Refusal | None = None,
    ) -> None:
        self._tokens = tokens if tokens is not None and tokens.enabled else None
        self._limiter = limiter if limiter is not None and limiter.enabled else None
        self._max_requests = max_requests_per_client
        self._max_connections = max_connections_per_client
        self._on_refusal = on_refusal
        self._in_flight: dict[str, int] = {}
        self._connections: dict[str, dict[str, int]] = {}
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler[Any, Any], Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            signal = SERVICES.get(method)
            inner: _Unary = handler.unary_unary  # type: ignore[assignment]
            guarded = self._export(inner, signal) if signal is not None else self._plain(inner)
            wrapped = grpc.unary_unary_rpc_method_handler(
                guarded,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
            cached = self._wrapped[method] = (handler, wrapped)
        return cached[1]

    async def _refuse(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        signal: Signal,
        reason: str,
        code: grpc.StatusCode,
        message: str,
        retry_after: float | None = None,
    ) -> None:
        if self._on_refusal is not None:
            self._on_refusal(signal, reason)
        if retry_after is None:
            await context.abort(code, message)
        await context.abort(*retry_status(code.value[0], message, retry_after))

    def _plain(self, inner: _Unary) -> _Unary:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            return await _sanitized(inner, request, context)

        return call

    def _export(self, inner: _Unary, signal: Signal) -> _Unary:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            client = await self._authenticate(context, signal)
            address = peer_address(context.peer())
            if client is None:
                client = address
            limiter = self._limiter
            if limiter is not None:
                wait = limiter.check(client, signal)
                if wait > 0:
                    await self._refuse(
                        context,
                        signal,
                        "rate_limited",
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"rate limit for {signal.value} exceeded; retry in {wait:.2f}s",
                        wait,
                    )
            if self._max_requests is None and self._max_connections is None:
                return await _sanitized(inner, request, context)
            peer = context.peer()
            await self._admit(context, signal, client, address, peer)
            try:
                return await _sanitized(inner, request, context)
            finally:
                self._release(client, address, peer)

        return call

    async def _authenticate(
        self, context: grpc.aio.ServicerContext[Any, Any], signal: Signal
    ) -> str | None:
        tokens = self._tokens
        if tokens is None:
            return None
        presented = bearer_token(_authorization(context))
        index = tokens.match(presented)
        if index is None:
            message = (
                "missing bearer token: send 'authorization: Bearer <token>' metadata"
                if presented is None
                else "invalid bearer token"
            )
            await self._refuse(
                context, signal, "unauthenticated", grpc.StatusCode.UNAUTHENTICATED, message
            )
        return token_client(index)  # type: ignore[arg-type]

    async def _admit(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        signal: Signal,
        client: str,
        address: str,
        peer: str,
    ) -> None:
        if self._max_requests is not None and self._in_flight.get(client, 0) >= self._max_requests:
            await self._refuse(
                context,
                signal,
                "too_many_requests",
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"more than {self._max_requests} concurrent requests from this client",
                BUSY_RETRY_SECONDS,
            )
        peers = self._connections.setdefault(address, {})
        if (
            self._max_connections is not None
            and peer not in peers
            and len(peers) >= self._max_connections
        ):
            if not peers:
                del self._connections[address]
            await self._refuse(
                context,
                signal,
                "too_many_connections",
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"more than {self._max_connections} concurrent connections from this address",
                BUSY_RETRY_SECONDS,
            )
        self._in_flight[client] = self._in_flight.get(client, 0) + 1
        peers[peer] = peers.get(peer, 0) + 1

    def _release(self, client: str, address: str, peer: str) -> None:
        left = self._in_flight[client] - 1
        if left:
            self._in_flight[client] = left
        else:
            del self._in_flight[client]
        peers = self._connections[address]
        calls = peers[peer] - 1
        if calls:
            peers[peer] = calls
        else:
            del peers[peer]
            if not peers:
                del self._connections[address]


async def _sanitized(
    inner: _Unary, request: Any, context: grpc.aio.ServicerContext[Any, Any]
) -> Any:
    try:
        return await inner(request, context)
    except grpc.aio.AbortError:
        raise
    except Exception:
        log.exception("gRPC handler failed")
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
