"""Run a real obsvty in the test process: real gRPC and HTTP listeners on free loopback ports,
a real DuckDB file, its own event loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from obsvty.config import Settings, load_settings
from obsvty.main import Application


class RunningObsvty:
    def __init__(self, app: Application, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def grpc_endpoint(self) -> str:
        return self.app.endpoints.grpc

    @property
    def http_url(self) -> str:
        return f"http://{self.app.endpoints.http}"

    @property
    def api_url(self) -> str:
        """The query API's base URL (``/api/v1``, ``/jaeger``, ``/docs`` below it)."""
        return f"http://{self.app.endpoints.api}"

    @property
    def db_path(self) -> Path:
        return Path(self.settings.obsvty_db_path)

    def flush(self) -> None:
        """Write everything buffered now (tests read the store right after)."""
        while self.app.flusher.flush_once():
            pass


@contextmanager
def running_obsvty(tmp_path: Path, **overrides: Any) -> Iterator[RunningObsvty]:
    defaults: dict[str, Any] = {
        "otlp_grpc_port": 0,
        "otlp_http_port": 0,
        "obsvty_api_port": 0,
        "obsvty_db_path": tmp_path / "obsvty.duckdb",
        "flush_interval_ms": 50,
        "shutdown_timeout_s": 5,
    }
    settings = load_settings(**{**defaults, **overrides})  # a test may override any default
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    def _run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            app = Application(settings)
            holder["app"] = app
            task = asyncio.create_task(app.run())
            ready = asyncio.create_task(app.ready.wait())
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            started.set()
            await task

        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # surfaced to the test below
            holder["error"] = exc
            started.set()

    thread = threading.Thread(target=_run, name="obsvty-under-test", daemon=True)
    thread.start()
    started.wait(30)
    if "error" in holder:
        raise holder["error"]
    app: Application = holder["app"]
    try:
        yield RunningObsvty(app, loop)
    finally:
        loop.call_soon_threadsafe(app.request_stop)
        thread.join(30)
        if "error" in holder:
            raise holder["error"]
