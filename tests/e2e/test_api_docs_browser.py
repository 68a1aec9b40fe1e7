"""The query API documentation at ``/docs`` in a real headless Chromium: Swagger UI renders every
operation from obsvty's own files under obsvty's Content-Security-Policy, with no request to any
other origin (the page works offline). Skipped, with the reason, where no Chromium is installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import ARTIFACTS, chromium, chromium_path
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium found: install Debian's chromium (CI's .ci/run does) or set CHROMIUM",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    with running_obsvty(Path(tmp_path_factory.mktemp("docs"))) as running:
        yield running


def test_api_docs_page_renders_the_operations_from_obsvty_itself_under_its_csp(
    server: RunningObsvty,
) -> None:
    # Arrange
    url = server.api_url
    problems: list[str] = []
    elsewhere: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(url) else elsewhere.append(r.url))

        # Act
        response = page.goto(f"{url}/docs")
        page.wait_for_selector(".opblock-summary-path", state="visible")
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        title = page.locator(".information-container .title").inner_text()
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=True)

    # Assert
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "obsvty query API" in title
    rendered = {p.replace("\u200b", "") for p in paths}  # Swagger UI breaks paths at "/"
    assert {"/api/v1/traces", "/api/v1/traces/{trace_id}", "/api/v1/services"} <= rendered
    assert elsewhere == []
    assert problems == []
