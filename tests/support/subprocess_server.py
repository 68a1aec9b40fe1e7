"""Run obsvty as a real subprocess (``python -m obsvty serve``) that tests can kill -9 and restart
on the same ports and DuckDB file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

_READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ObsvtyProcess:
    """One obsvty process at a time on fixed ports; :meth:`kill` and :meth:`start` again."""

    def __init__(self, db_path: Path, **settings: object) -> None:
        self.db_path = db_path
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.env = {
            **os.environ,
            "OTLP_GRPC_PORT": str(self.grpc_port),
            "OTLP_HTTP_PORT": str(self.http_port),
            "OBSVTY_API_PORT": "0",
            "OBSVTY_DB_PATH": str(db_path),
            **{name.upper(): str(value) for name, value in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        # stderr is a pipe, never a file: a file-size limit set on the process (fault tests)
        # must only hit the store
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "obsvty", "serve"],
            env=self.env,
            cwd=self.db_path.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        stream = self.proc.stderr
        assert stream is not None
        self._reader = threading.Thread(
            target=lambda: self.log.extend(line.decode(errors="replace") for line in stream),
            daemon=True,
        )
        self._reader.start()
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"obsvty exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.http_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"obsvty not ready in {_READY_TIMEOUT}s:\n{self.log_text()}")

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._join_reader()

    def stop(self) -> int:
        """SIGTERM, a graceful stop; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._join_reader()
        return code

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return "".join(self.log[-200:])

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(10)


@contextmanager
def obsvty_process(db_path: Path, **settings: object) -> Iterator[ObsvtyProcess]:
    server = ObsvtyProcess(db_path, **settings)
    server.start()
    try:
        yield server
    finally:
        if server.running():
            server.kill()
