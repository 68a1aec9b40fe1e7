"""The one ASGI server helper both listeners use: it returns once the app serves on a real
socket, and a stop ends the serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from obsvty.adapters.asgi_server import start_asgi

pytestmark = pytest.mark.integration


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


APP = Starlette(routes=[Route("/", _hello)])


def test_start_asgi_any_free_port_serves_once_returned_and_not_after_stop() -> None:
    async def scenario() -> tuple[int, str, bool]:
        # Act
        server = await start_asgi(APP, "127.0.0.1", 0, name="test", graceful_shutdown_s=1)
        url = f"http://127.0.0.1:{server.port}/"
        async with httpx.AsyncClient() as client:
            body = (await client.get(url)).text
        await server.stop(5)
        async with httpx.AsyncClient() as client:
            try:
                await client.get(url)
                refused = False
            except httpx.ConnectError:
                refused = True
        return server.port, body, refused

    port, body, refused = asyncio.run(scenario())

    # Assert
    assert port > 0
    assert body == "hello"
    assert refused


def test_start_asgi_failing_start_up_raises_instead_of_returning(tmp_path: Path) -> None:
    # Arrange: TLS with a certificate file that is not there
    missing = str(tmp_path / "missing.pem")

    async def scenario() -> None:
        # Act
        await start_asgi(
            APP,
            "127.0.0.1",
            0,
            name="test",
            graceful_shutdown_s=1,
            ssl_certfile=missing,
            ssl_keyfile=missing,
        )

    # Assert
    with pytest.raises(FileNotFoundError):
        asyncio.run(scenario())
