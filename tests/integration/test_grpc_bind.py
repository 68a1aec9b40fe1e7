"""Binding the OTLP/gRPC server: a port another listener holds is an ``OSError`` naming it, even
when that listener set ``SO_REUSEPORT`` as gRPC does by default."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import grpc
import pytest

from obsvty.adapters.otlp import grpc_bind

pytestmark = pytest.mark.integration


@pytest.fixture
def reuseport_listener() -> Iterator[int]:
    """A listening socket with SO_REUSEPORT, as a running gRPC server holds its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _try_bind(port: int, options: list[tuple[str, int]]) -> int | Exception:
    async def attempt() -> int | Exception:
        server = grpc.aio.server(options=options)
        try:
            return grpc_bind.bind(server, "127.0.0.1", port, None)
        except Exception as exc:  # the outcome under test
            return exc
        finally:
            await server.stop(None)

    return asyncio.run(attempt())


def test_grpc_bind_port_held_by_reuseport_listener_raises_oserror_naming_port(
    reuseport_listener: int,
) -> None:
    # Act
    outcome = _try_bind(reuseport_listener, [grpc_bind.SO_REUSEPORT_OFF])

    # Assert
    assert isinstance(outcome, OSError)
    assert f"127.0.0.1:{reuseport_listener} is already in use" in str(outcome)


def test_grpc_bind_reuseport_off_when_grpc_itself_fails_raises_oserror(
    reuseport_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: skip the socket check, so gRPC's own bind (with SO_REUSEPORT off) meets the port
    monkeypatch.setattr(grpc_bind, "_check_free", lambda host, port: None)

    # Act
    outcome = _try_bind(reuseport_listener, [grpc_bind.SO_REUSEPORT_OFF])

    # Assert
    assert isinstance(outcome, OSError)
    assert f"cannot bind 127.0.0.1:{reuseport_listener}" in str(outcome)


def test_grpc_bind_free_port_returns_the_bound_port() -> None:
    # Arrange
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])

    # Act
    outcome = _try_bind(port, [grpc_bind.SO_REUSEPORT_OFF])

    # Assert
    assert outcome == port
