"""A TCP proxy on 127.0.0.1 that injects network faults between a client and a server.

Modes: ``heal()`` forwards everything; ``delay(seconds)`` holds every chunk that long before
forwarding it; ``hang()`` accepts connections and reads from them but forwards nothing (a peer
that stopped answering); ``drop()`` closes every open connection at once and closes new ones as
soon as they are accepted (a network partition or a crashed peer). Threads only: it runs next to
any client, synchronous or not.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

_POLL = 0.05


class TcpFaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(_POLL)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._mode = "pass"
        self._delay = 0.0
        self._closed = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, name="tcp-fault-proxy", daemon=True)
        self._thread.start()

    # --- faults

    def heal(self) -> None:
        with self._lock:
            self._mode, self._delay = "pass", 0.0

    def delay(self, seconds: float) -> None:
        with self._lock:
            self._mode, self._delay = "pass", seconds

    def hang(self) -> None:
        with self._lock:
            self._mode = "hang"

    def drop(self) -> None:
        with self._lock:
            self._mode = "drop"
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            _close(s)

    def close(self) -> None:
        self._closed.set()
        self.drop()
        self._thread.join(5)
        _close(self._listener)

    # --- forwarding

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self._mode
            if mode == "drop":
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        source.settimeout(_POLL)
        try:
            while not self._closed.is_set():
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                while True:
                    with self._lock:
                        mode, delay = self._mode, self._delay
                    if mode != "hang" or self._closed.is_set():
                        break
                    time.sleep(_POLL)
                if mode == "drop":
                    break
                if delay:
                    time.sleep(delay)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                _close(s)
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(target)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()


@contextlib.contextmanager
def tcp_fault_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpFaultProxy]:
    proxy = TcpFaultProxy(upstream_host, upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
