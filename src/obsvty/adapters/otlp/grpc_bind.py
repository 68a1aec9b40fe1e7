"""Binding the OTLP/gRPC server to its port, with a clear error when the port is taken.

gRPC reports a failed bind as a bare ``RuntimeError`` (after logging its own line), so the
address is first tried with a plain socket: a port in use becomes the ``OSError`` the command
line turns into one line and exit code 3, as uvicorn does for the HTTP listeners.
"""

from __future__ import annotations

import errno
import socket

import grpc

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
    """Raise ``OSError`` naming the listener when a socket cannot bind ``host:port`` because it
    is in use. Other failures (e.g. IPv6 off for one resolved address) are left to gRPC."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return  # gRPC reports the unresolvable host
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as probe:
            # SO_REUSEADDR as gRPC sets it: a port in TIME_WAIT is free, a listening one is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise OSError(
                        errno.EADDRINUSE,
                        f"OTLP/gRPC port {host}:{port} is already in use "
                        "(another obsvty or another server listens on it; "
                        "set OTLP_GRPC_PORT to a free port)",
                    ) from None
