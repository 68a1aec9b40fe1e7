"""The built-in web UI: static files (``ui/``) served at ``/`` with strict security headers.

The UI is plain HTML, CSS and JavaScript (ES modules, one per view, loaded by the browser as they
are): no build step, no framework, nothing loaded from another origin, so it works offline. It
reads the native query API (``/api/v1``) and the Jaeger API (``/jaeger``) of the same listener.

Only the UI's own files are served, by name (no directory listing, no path from the request
reaches the file system), so mounting it never shadows a route of the query API. Every answer
carries a Content-Security-Policy that allows this origin only and no inline script or style
(``style-src 'self'`` still lets the script position waterfall bars through the CSSOM), plus
``nosniff``, ``no-referrer`` and framing denied.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response

UI_DIR = Path(__file__).with_name("ui")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "traces.js": "text/javascript; charset=utf-8",
    "trace.js": "text/javascript; charset=utf-8",
    "logs.js": "text/javascript; charset=utf-8",
    "metrics.js": "text/javascript; charset=utf-8",
    "map.js": "text/javascript; charset=utf-8",
    "scatter.js": "text/javascript; charset=utf-8",
    "compare.js": "text/javascript; charset=utf-8",
    "styles.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _asset(name: str) -> Response:
    return FileResponse(UI_DIR / name, media_type=ASSETS[name], headers=SECURITY_HEADERS)


def mount_ui(app: FastAPI) -> None:
    """Serve the UI at ``/`` (``index.html``) and its assets by name, on ``app``."""
    missing = [name for name in ASSETS if not (UI_DIR / name).is_file()]
    if missing:
        raise RuntimeError(f"web UI files missing from the package: {', '.join(missing)}")

    async def serve(request: Request) -> Response:
        name = request.url.path.lstrip("/") or "index.html"
        return _asset(name)

    app.add_route("/", serve, methods=["GET", "HEAD"], include_in_schema=False)
    for name in ASSETS:
        app.add_route(f"/{name}", serve, methods=["GET", "HEAD"], include_in_schema=False)
