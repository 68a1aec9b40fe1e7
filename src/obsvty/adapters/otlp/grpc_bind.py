"""Binding the OTLP/gRPC server to its port, with a clear error when the port is taken.

gRPC reports a failed bind as a bare ``RuntimeError`` (after logging its own line), so the
address is first tried with a plain socket: a port in use becomes the ``OSError`` the command
line turns into one line and exit code 3, as uvicorn does for the HTTP listeners.
"""

from __future__ import annotations

import errno

import grpc

from obsvty.adapters import listener_ports
from obsvty.adapters.security import tls as tls_files

SO_REUSEPORT_OFF = ("grpc.so_reuseport", 0)
"""gRPC sets ``SO_REUSEPORT`` by default, which lets a second obsvty bind the same port and the
kernel split the clients between the two; with it off, the second bind fails."""


def bind(server: grpc.aio.Server, host: str, port: int, tls: tls_files.TlsFiles | None) -> int:
    """Bind ``server`` to ``host:port``; returns the bound port. Raises ``OSError`` when the
    port is in use or cannot be bound."""
    address = f"{host}:{port}"
    if port != 0:
        _check_free(host, port)
    try:
        return tls_files.add_port(server, address, tls)
    except RuntimeError as exc:  # gRPC's "Failed to bind to address ..."
        raise OSError(errno.EADDRINUSE, f"OTLP/gRPC cannot bind {address}: {exc}") from None


def _check_free(host: str, port: int) -> None:
    listener_ports.ensure_free(host, port, "OTLP/gRPC", "OTLP_GRPC_PORT")
