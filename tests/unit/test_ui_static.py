"""The web UI's static files: served by name with strict security headers, self-contained,
packaged in the wheel."""

from __future__ import annotations

import asyncio
import re
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from obsvty.adapters.api import ui

pytestmark = pytest.mark.unit


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    ui.mount_ui(app)
    return app


def _get(app: FastAPI, *paths: str) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
            return [await client.get(path) for path in paths]

    return asyncio.run(run())


def test_mount_ui_serves_index_and_assets_with_security_headers() -> None:
    # Act
    responses = _get(_app(), "/", "/app.js", "/styles.css", "/favicon.svg")

    # Assert
    index, script, styles, icon = responses
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert index.headers["content-type"].startswith("text/html")
    assert script.headers["content-type"].startswith("text/javascript")
    assert styles.headers["content-type"].startswith("text/css")
    assert icon.headers["content-type"].startswith("image/svg+xml")
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert b'<script src="app.js" defer></script>' in index.content


def test_mount_ui_does_not_shadow_api_routes_or_serve_other_files() -> None:
    # Act
    api, unknown, traversal = _get(_app(), "/api/v1/ping", "/ui.py", "/..%2Fui.py")

    # Assert
    assert api.json() == {"pong": "yes"}
    assert unknown.status_code == 404
    assert traversal.status_code == 404


def test_ui_files_are_self_contained_no_inline_script_no_external_urls() -> None:
    # Arrange
    html = (ui.UI_DIR / "index.html").read_text()
    sources = {name: (ui.UI_DIR / name).read_text() for name in ("app.js", "styles.css")}

    # Assert: no inline script or handler, no inline style, nothing from another origin
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.search(r"\son[a-z]+=", html) is None
    assert re.search(r"\sstyle=", html) is None
    for text in [html, *sources.values()]:
        assert re.search(r"(?:src|href)=[\"']?(?:https?:)?//", text) is None
        assert "@import" not in text
        assert "url(http" not in text
    # telemetry never reaches the DOM as markup
    assert "innerHTML" not in sources["app.js"]
    assert "insertAdjacentHTML" not in sources["app.js"]
    assert "document.write" not in sources["app.js"]


def test_ui_files_are_in_the_built_wheel(tmp_path: Path) -> None:
    # Arrange: build the wheel as a release would (uv + the locked hatchling backend)
    root = Path(__file__).resolve().parents[2]
    uv = root / ".tools" / "bin" / "uv"
    if not uv.is_file():
        pytest.skip(f"uv not found at {uv} (make venv installs it)")

    # Act
    subprocess.run(
        [str(uv), "build", "--wheel", "-q", "-o", str(tmp_path)],
        cwd=root,
        check=True,
        timeout=120,
        capture_output=True,
    )

    # Assert
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ui.ASSETS:
        assert f"obsvty/adapters/api/ui/{asset}" in names
