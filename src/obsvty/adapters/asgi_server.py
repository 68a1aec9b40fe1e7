"""One helper that serves an ASGI app with uvicorn inside the running event loop: start it on a
host and port, wait until it serves, stop it gracefully. Used by the OTLP/HTTP receiver and the
query API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp


class _EmbeddedUvicorn(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the application that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class AsgiServer:
    """An app being served; :attr:`port` is the bound port (resolved when 0 was asked for)."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self._server = server
        self._task = task
        self.port: int = server.servers[0].sockets[0].getsockname()[1]

    def request_exit(self) -> None:
        """Stop accepting; requests in flight finish."""
        self._server.should_exit = True

    async def stopped(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for the server to finish."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._task, grace)

    async def stop(self, grace: float) -> None:
        self.request_exit()
        await self.stopped(grace)


async def start_asgi(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    name: str,
    graceful_shutdown_s: float,
    **options: Any,
) -> AsgiServer:
    """Serve ``app`` on ``host:port`` and return once it accepts connections; a start-up failure
    (e.g. the port is taken) is raised here. ``options``: more uvicorn settings (TLS)."""
    server = _EmbeddedUvicorn(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(graceful_shutdown_s),
            **options,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # re-raises the start-up failure
            raise RuntimeError(f"{name} server stopped during start-up")
        await asyncio.sleep(0.01)
    return AsgiServer(server, task)
