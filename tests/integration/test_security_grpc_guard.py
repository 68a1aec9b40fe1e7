"""The gRPC guard on a real grpc.aio server: concurrent requests and connections per client, and
no exception text ever reaching a client. The export handler here is a test double standing in
for the receiver, so that a request can be held in flight for as long as the test needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest

from obsvty.adapters.security.grpc_guard import GrpcGuard, peer_address

pytestmark = pytest.mark.integration

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
METHOD = f"/{SERVICE}/Export"
SEPARATE_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


class HeldExport:
    """Export handler double: each call waits until the test releases it."""

    def __init__(self) -> None:
        self.entered = asyncio.Queue[None]()
        self.release = asyncio.Event()

    async def export(self, request: bytes, context: Any) -> bytes:
        await self.entered.put(None)
        await self.release.wait()
        return b""


@asynccontextmanager
async def guarded_server(
    guard: GrpcGuard, handler: Callable[[bytes, Any], Awaitable[bytes]]
) -> AsyncIterator[str]:
    server = grpc.aio.server(interceptors=[guard])
    method = grpc.unary_unary_rpc_method_handler(handler)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {"Export": method}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


def _call(channel: grpc.aio.Channel) -> Any:
    return channel.unary_unary(METHOD)(b"", timeout=10)


def test_concurrent_requests_per_client_over_the_limit_are_resource_exhausted() -> None:
    async def scenario() -> tuple[grpc.StatusCode, bytes]:
        held = HeldExport()
        guard = GrpcGuard(max_requests_per_client=1)
        async with guarded_server(guard, held.export) as address:
            channel = grpc.aio.insecure_channel(address)
            first = asyncio.ensure_future(_call(channel))
            await held.entered.get()
            try:
                await _call(channel)
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
            held.release.set()
            answer = await first
            await channel.close()
            return code, answer

    # Act
    code, first_answer = asyncio.run(scenario())

    # Assert
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert first_answer == b""


def test_connections_per_client_over_the_limit_are_refused_but_the_open_one_serves() -> None:
    async def scenario() -> tuple[grpc.StatusCode, list[bytes]]:
        held = HeldExport()
        guard = GrpcGuard(max_connections_per_client=1)
        async with (
            guarded_server(guard, held.export) as address,
            grpc.aio.insecure_channel(address, options=SEPARATE_CONNECTION) as one,
            grpc.aio.insecure_channel(address, options=SEPARATE_CONNECTION) as two,
        ):
            first = asyncio.ensure_future(_call(one))
            await held.entered.get()
            try:
                await _call(two)
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
            same_connection = asyncio.ensure_future(_call(one))
            await held.entered.get()
            held.release.set()
            return code, [await first, await same_connection]

    # Act
    code, answers = asyncio.run(scenario())

    # Assert
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answers == [b"", b""]


def test_unexpected_handler_failure_reaches_the_client_as_bare_internal() -> None:
    async def failing(request: bytes, context: Any) -> bytes:
        raise RuntimeError("SELECT secret FROM /srv/obsvty/data.duckdb failed")

    async def scenario() -> grpc.aio.AioRpcError:
        async with guarded_server(GrpcGuard(), failing) as address:
            channel = grpc.aio.insecure_channel(address)
            try:
                await _call(channel)
            except grpc.aio.AioRpcError as exc:
                return exc
            finally:
                await channel.close()
        raise AssertionError("the call should have failed")

    # Act
    error = asyncio.run(scenario())

    # Assert
    assert error.code() is grpc.StatusCode.INTERNAL
    assert error.details() == "internal error"


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:10.1.2.3:5678", "10.1.2.3"),
        ("ipv6:[::1]:5678", "::1"),
        ("unix:/tmp/socket", "unix"),
        ("", "unknown"),
    ],
)
def test_peer_address_from_grpc_peer_strings(peer: str, address: str) -> None:
    # Act / Assert
    assert peer_address(peer) == address
