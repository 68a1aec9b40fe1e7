"""The query API's documentation at ``/docs``: Swagger UI served by obsvty itself.

FastAPI's own ``/docs`` loads Swagger UI from a CDN with an inline script, which obsvty's
Content-Security-Policy (``script-src 'self'``) blocks and which an offline machine cannot reach.
Here the page, its start-up script (``api_docs/init.js``) and Swagger UI's files all come from this
listener, under the web UI's strict policy. Swagger UI's files are those of the ``fastapi-offline``
package (a pinned dependency; only its static files are used, never copied into this repository).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from obsvty.adapters.api.ui import SECURITY_HEADERS

DOCS_DIR = Path(__file__).with_name("api_docs")
SWAGGER_UI_DIR = Path(str(files("fastapi_offline") / "static"))
"""Swagger UI 5 (the bundle and its CSS; version 5 renders the OpenAPI 3.1 FastAPI writes)."""

ASSETS: dict[str, tuple[Path, str]] = {
    "/docs": (DOCS_DIR / "index.html", "text/html; charset=utf-8"),
    "/docs/init.js": (DOCS_DIR / "init.js", "text/javascript; charset=utf-8"),
    "/docs/swagger-ui-bundle.js": (
        SWAGGER_UI_DIR / "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
    ),
    "/docs/swagger-ui.css": (SWAGGER_UI_DIR / "swagger-ui.css", "text/css; charset=utf-8"),
    "/docs/favicon.png": (SWAGGER_UI_DIR / "favicon.png", "image/png"),
}


def mount_api_docs(app: FastAPI) -> None:
    """Serve the documentation page and its files, by exact path, on ``app`` (whose own
    ``docs_url`` must be ``None``); the schema stays at FastAPI's ``/openapi.json``."""
    missing = [str(path) for path, _ in ASSETS.values() if not path.is_file()]
    if missing:
        raise RuntimeError(f"API documentation files missing: {', '.join(missing)}")

    async def serve(request: Request) -> Response:
        path, media_type = ASSETS[request.url.path]
        return FileResponse(path, media_type=media_type, headers=SECURITY_HEADERS)

    for route in ASSETS:
        app.add_route(route, serve, methods=["GET", "HEAD"], include_in_schema=False)
