"""Whether a listener's port is free, asked before any server starts.

A port in use then stops start-up as one ``OSError`` naming the listener and its setting, which
the command line prints as one line with exit code 3, before anything is half started (the
servers' own bind failures come later and noisier: gRPC logs and raises a bare ``RuntimeError``,
uvicorn exits its task).
"""

from __future__ import annotations

import errno
import socket


def ensure_free(host: str, port: int, listener: str, setting: str) -> None:
    """Raise ``OSError`` naming ``listener`` when a socket cannot bind ``host:port`` because it
    is in use. Other failures (e.g. IPv6 off for one resolved address) are left to the server.
    Port 0 (any free port) is always free."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return  # the server reports the unresolvable host
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as probe:
            # SO_REUSEADDR as the servers set it: a port in TIME_WAIT is free, a listening one
            # is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise OSError(
                        errno.EADDRINUSE,
                        f"{listener} port {host}:{port} is already in use "
                        "(another obsvty or another server listens on it; "
                        f"set {setting} to a free port)",
                    ) from None
