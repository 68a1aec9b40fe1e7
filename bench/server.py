"""A fresh obsvty in a subprocess for one benchmark run: free ports, a temp DuckDB file, its own
working directory (so that no developer ``.env`` leaks in), RSS and CPU sampled with psutil. The
null sink (``bench/null_sink.py``) runs the same way, measured the same way."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import psutil

_SAMPLE_SECONDS = 0.25


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(slots=True)
class StopResult:
    exit_code: int | None
    shutdown_seconds: float
    """From SIGTERM to exit: stopping the receivers and draining the buffer into DuckDB."""


class ServerProcess:
    """A server subprocess listening on OTLP/gRPC and OTLP/HTTP (``/healthz`` when ready)."""

    name = "server"

    def __init__(self, workdir: Path, log_name: str) -> None:
        self.workdir = workdir
        self.log_path = workdir / log_name
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.env: dict[str, str] = dict(os.environ)
        self._proc: subprocess.Popen[bytes] | None = None
        self._ps: psutil.Process | None = None
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None
        self.rss_peak = 0
        self.rss_last = 0
        self.rss_file_last = 0
        """Of the last sample, the pages mapped from files (shared libraries): the rest is the
        process's own (anonymous) memory."""

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._ps = psutil.Process(self._proc.pid)
        self._wait_healthy(timeout)
        self._sampler = threading.Thread(target=self._sample, name="bench-rss", daemon=True)
        self._sampler.start()

    def _wait_healthy(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self._proc.returncode} during start-up:\n"
                    + self.log_path.read_text(errors="replace")
                )
            try:
                if httpx.get(f"{self.http_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} was not healthy within {timeout}s")

    def _sample(self) -> None:
        while not self._sampling.wait(_SAMPLE_SECONDS):
            self.sample_rss()

    def _processes(self) -> list[psutil.Process]:
        """The server and its children (none unless a setting starts one)."""
        assert self._ps is not None
        try:
            return [self._ps, *self._ps.children(recursive=True)]
        except psutil.Error:
            return [self._ps]

    def sample_rss(self) -> int:
        """Resident memory of the server and its children, summed (and, in ``rss_file_last``, how
        much of it is mapped from files)."""
        try:
            infos = [p.memory_info() for p in self._processes()]
        except psutil.Error:
            return self.rss_last
        rss = sum(info.rss for info in infos)
        self.rss_last = rss
        self.rss_file_last = sum(info.shared for info in infos)
        self.rss_peak = max(self.rss_peak, rss)
        return rss

    def cpu_seconds(self) -> float:
        """User + system CPU the server and its children have used so far (all threads)."""
        total = 0.0
        for process in self._processes():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def stop(self, timeout: float = 120.0) -> StopResult:
        """SIGTERM (graceful: obsvty drains its buffer into the store), then wait for the exit."""
        assert self._proc is not None
        self.sample_rss()
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join()
        started = time.monotonic()
        self._proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            code = None
        return StopResult(code, time.monotonic() - started)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


class ObsvtyProcess(ServerProcess):
    """``python -m obsvty serve`` with the given extra settings (environment variables)."""

    name = "obsvty"

    def __init__(self, workdir: Path, settings: dict[str, str] | None = None) -> None:
        super().__init__(workdir, "obsvty.log")
        self.db_path = workdir / "bench.duckdb"
        self.api_port = free_port()
        self.env.update(
            {
                "OTLP_GRPC_PORT": str(self.grpc_port),
                "OTLP_HTTP_PORT": str(self.http_port),
                "OBSVTY_API_PORT": str(self.api_port),
                "OBSVTY_DB_PATH": str(self.db_path),
                "LOG_LEVEL": "WARNING",
                **(settings or {}),
            }
        )

    def command(self) -> list[str]:
        return [sys.executable, "-m", "obsvty", "serve"]

    def __enter__(self) -> ObsvtyProcess:
        self.start()
        return self


class NullSinkProcess(ServerProcess):
    """``python -m bench.null_sink``: parses each request, answers success, stores nothing."""

    name = "null sink"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, "null-sink.log")
        # importable from the working directory of its own, like obsvty (installed in the venv)
        repo = str(Path(__file__).resolve().parents[1])
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (repo, os.environ.get("PYTHONPATH", "")) if p
        )

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.null_sink",
            "--grpc-port",
            str(self.grpc_port),
            "--http-port",
            str(self.http_port),
        ]

    def __enter__(self) -> NullSinkProcess:
        self.start()
        return self
