"""MongoDB servers for the tests: secantusdb (a MongoDB-compatible server, test-only dependency)
started as a subprocess, or a real MongoDB named by the environment.

``OBSVTY_TEST_MONGODB_URI`` (or ``MONGODB_URI``) and ``OBSVTY_TEST_MONGODB_CLOUD_URI`` (or
``MONGODB_CLOUD_URI``) point the suites at real deployments; each test then uses a unique database
that is dropped afterwards, and tests that kill a server are skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

SECANTUSD = Path(sys.executable).parent / "secantusd-py"


def real_mongodb_uri(kind: str = "primary") -> str | None:
    if kind == "cloud":
        return os.environ.get("OBSVTY_TEST_MONGODB_CLOUD_URI") or os.environ.get(
            "MONGODB_CLOUD_URI"
        )
    return os.environ.get("OBSVTY_TEST_MONGODB_URI") or os.environ.get("MONGODB_URI")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_database_name(prefix: str = "obsvty_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


class SecantusServer:
    """One secantusd-py process on a fixed loopback port and data directory, so that it can be
    killed (SIGKILL) and restarted on the same data."""

    def __init__(self, storage_path: Path, port: int | None = None) -> None:
        self.storage_path = storage_path
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = storage_path.parent / f"secantusd-{self.port}.log"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 60.0) -> None:
        if not SECANTUSD.exists():
            raise RuntimeError(f"{SECANTUSD} not found: run `make venv`")
        self.storage_path.mkdir(parents=True, exist_ok=True)
        with self._log.open("ab") as out:
            self._process = subprocess.Popen(
                [
                    str(SECANTUSD),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--storage-path",
                    str(self.storage_path),
                    "--enable-test-commands",
                    "--log-level",
                    "WARNING",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500
        )
        try:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise RuntimeError(
                        f"secantusd-py exited with {self._process.returncode}: "
                        + self._log.read_text(errors="replace")[-2000:]
                    )
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        raise
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — a crash."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(30)
        self._process = None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@contextlib.contextmanager
def secantus_server(directory: Path) -> Iterator[SecantusServer]:
    server = SecantusServer(directory / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory / "data", ignore_errors=True)


@contextlib.contextmanager
def scratch_database(uri: str) -> Iterator[str]:
    """A database name unique to one test, dropped afterwards."""
    name = unique_database_name()
    try:
        yield name
    finally:
        client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
        with contextlib.suppress(PyMongoError):
            client.drop_database(name)
        client.close()


# --- pytest fixtures (registered through ``pytest_plugins`` in tests/conftest.py)


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The primary MongoDB of the tests: a real one when the environment names it, otherwise one
    secantusdb server for the whole session (per xdist worker)."""
    real = real_mongodb_uri()
    if real:
        yield real
        return
    with secantus_server(tmp_path_factory.mktemp("secantus-primary")) as server:
        yield server.uri


@pytest.fixture
def mongodb_database(mongodb_uri: str) -> Iterator[str]:
    """A database of its own for one test, dropped afterwards."""
    with scratch_database(mongodb_uri) as name:
        yield name
