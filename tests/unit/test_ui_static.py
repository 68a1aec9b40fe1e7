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
    modules = [name for name in ui.ASSETS if name.endswith(".js")]
    responses = _get(_app(), "/", "/styles.css", "/favicon.svg", *(f"/{m}" for m in modules))

    # Assert
    index, styles, icon, *scripts = responses
    assert all(r.status_code == 200 for r in responses)
    assert index.headers["content-type"].startswith("text/html")
    for script in scripts:  # ES modules: browsers refuse one served with another type
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
    assert b'<script type="module" src="app.js"></script>' in index.content


def test_mount_ui_does_not_shadow_api_routes_or_serve_other_files() -> None:
    # Act
    api, unknown, traversal = _get(_app(), "/api/v1/ping", "/ui.py", "/..%2Fui.py")

    # Assert
    assert api.json() == {"pong": "yes"}
    assert unknown.status_code == 404
    assert traversal.status_code == 404


def test_ui_modules_every_import_is_a_served_asset() -> None:
    # Arrange: the ES modules import each other by relative name
    scripts = {name: (ui.UI_DIR / name).read_text() for name in ui.ASSETS if name.endswith(".js")}

    # Act
    imported = {
        target
        for text in scripts.values()
        for target in re.findall(r"^import [^;]*? from '\./([\w.-]+)';", text, flags=re.M)
    }

    # Assert: each one is served (and so packaged), none comes from elsewhere
    assert imported
    assert imported <= set(ui.ASSETS)
    assert all(re.search(r"\bfrom '(?!\./)", text) is None for text in scripts.values())
    assert set(scripts) - {"app.js"} <= imported  # no module left unused


def test_ui_files_are_self_contained_no_inline_script_no_external_urls() -> None:
    # Arrange
    html = (ui.UI_DIR / "index.html").read_text()
    names = [name for name in ui.ASSETS if name.endswith((".js", ".css"))]
    sources = {name: (ui.UI_DIR / name).read_text() for name in names}
    scripts = [text for name, text in sources.items() if name.endswith(".js")]

    # Assert: no inline script or handler, no inline style, nothing from another origin
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.search(r"\son[a-z]+=", html) is None
    assert re.search(r"\sstyle=", html) is None
    for text in [html, *sources.values()]:
        assert re.search(r"(?:src|href)=[\"']?(?:https?:)?//", text) is None
        assert "@import" not in text
        assert "url(http" not in text
    # telemetry never reaches the DOM as markup
    for text in scripts:
        assert "innerHTML" not in text
        assert "outerHTML" not in text
        assert "insertAdjacentHTML" not in text
        assert "document.write" not in text
        assert "DOMParser" not in text


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
