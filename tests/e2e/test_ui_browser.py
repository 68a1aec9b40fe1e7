"""The web UI in a real headless Chromium, on telemetry sent through the OpenTelemetry SDK.

Search traces, open one, check the waterfall rows (order, nesting, bar positions, error and orphan
marks) and the side panel; a span named with HTML stays text. Screenshots go to
``test-artifacts/`` (kept by CI). Skipped, with the reason, where no Chromium is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from obsvty.adapters.api.jaeger import create_jaeger_router
from obsvty.adapters.api.ui import mount_ui
from obsvty.adapters.storage.duckdb_query import DuckDBQuery
from tests.support.asgi_server import serving
from tests.support.browser import ARTIFACTS, chromium, chromium_path
from tests.support.sample_trace import BASE_NS, SampleTrace, send_sample_trace
from tests.support.server import running_obsvty

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium found: install Debian's chromium (CI's .ci/run does) or set CHROMIUM",
    ),
]

HOSTILE = "<img src=x onerror=window.__xss=1>"


def _send_hostile_span(http_url: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "<b>evil</b>"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{http_url}/v1/traces")))
    span = provider.get_tracer("x").start_span(
        HOSTILE, start_time=BASE_NS, attributes={"<script>": "<script>window.__xss=2</script>"}
    )
    span.end(end_time=BASE_NS + 5_000_000)
    provider.shutdown()


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SampleTrace]]:
    with running_obsvty(Path(tmp_path_factory.mktemp("ui"))) as server:
        sample = send_sample_trace(server.http_url)
        _send_hostile_span(server.http_url)
        server.flush()
        app = FastAPI()
        app.include_router(create_jaeger_router(DuckDBQuery(server.app.store)), prefix="/jaeger")
        mount_ui(app)
        with serving(app) as url:
            yield url, sample


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _page(browser: object) -> object:
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.set_default_timeout(10_000)
    return page


def test_ui_search_open_trace_waterfall_and_side_panel(
    browser: object, ui_url: tuple[str, SampleTrace]
) -> None:
    # Arrange
    url, sample = ui_url
    page = _page(browser)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    ARTIFACTS.mkdir(exist_ok=True)

    # Act: search all time for the frontend service
    page.goto(f"{url}/")
    page.wait_for_selector("#ts-service option[value='frontend']", state="attached")
    page.select_option("#ts-service", "frontend")
    page.select_option("#ts-lookback", "")
    page.click("#ts-submit")
    page.wait_for_selector(f"tr.trace-row[data-trace-id='{sample.trace_id}']")
    page.screenshot(path=str(ARTIFACTS / "ui-trace-search.png"), full_page=True)

    # Assert: the hit summarises the whole trace
    row = page.locator(f"tr.trace-row[data-trace-id='{sample.trace_id}']")
    assert "frontend: GET /checkout" in row.inner_text()
    assert row.locator("td").nth(2).inner_text() == "3"
    assert row.locator("td").nth(3).inner_text() == "1"
    assert row.locator(".chip").all_inner_texts() == ["backend", "frontend"]

    # Act: open the trace
    row.locator("a.name").click()
    page.wait_for_selector(".wf-row")

    # Assert: rows in depth-first order, nested, marked
    rows = page.locator(".wf-row")
    assert rows.count() == 3
    names = rows.locator(".span-name").all_inner_texts()
    assert names == ["GET /checkout", "SELECT orders", "late job"]
    assert [rows.nth(i).get_attribute("data-depth") for i in range(3)] == ["0", "1", "0"]
    assert "error" in (rows.nth(1).get_attribute("class") or "")
    assert rows.nth(2).locator(".badge.orphan").count() == 1
    assert rows.nth(0).locator(".badge").count() == 0
    # bars by time: the child starts 100 ms into a 1 s trace and lasts 300.123 ms
    left = rows.nth(1).locator(".wf-bar").evaluate("e => parseFloat(e.style.left)")
    width = rows.nth(1).locator(".wf-bar").evaluate("e => parseFloat(e.style.width)")
    assert abs(left - 10.0) < 0.01
    assert abs(width - 30.0123) < 0.01
    colours = [
        rows.nth(i).locator(".wf-bar").evaluate("e => e.style.backgroundColor") for i in range(3)
    ]
    assert colours[0] == colours[2] != colours[1]  # colour per service

    # Act: select the failing child span
    rows.nth(1).click()
    panel = page.locator("#span-panel")
    panel.locator("h2").wait_for()
    page.screenshot(path=str(ARTIFACTS / "ui-trace-view.png"), full_page=True)

    # Assert: attributes, events, links and resource of that span
    text = panel.inner_text()
    assert panel.locator("h2").inner_text() == "SELECT orders"
    assert "ERROR: query timed out" in text
    assert "db.rows\t3" in text
    assert "exception" in text
    assert "TimeoutError" in text
    assert "trace 0123456789abcdef0123456789abcdef" in text
    assert "link.reason\tbatch" in text
    assert "service.name\tbackend" in text
    assert "EVENTS (1)" in text.upper()
    assert "LINKS (1)" in text.upper()
    assert violations == []
    page.close()


def test_ui_telemetry_strings_render_as_text_never_markup(
    browser: object, ui_url: tuple[str, SampleTrace]
) -> None:
    # Arrange
    url, _ = ui_url
    page = _page(browser)

    # Act: find the hostile span's trace and open it
    page.goto(f"{url}/")
    page.wait_for_selector("#ts-service option[value='<b>evil</b>']", state="attached")
    page.select_option("#ts-service", "<b>evil</b>")
    page.select_option("#ts-lookback", "")
    page.click("#ts-submit")
    link = page.locator("tr.trace-row a.name")
    link.wait_for()
    listed = link.inner_text()
    link.click()
    page.locator(".wf-row").first.click()
    page.locator("#span-panel h2").wait_for()
    page.screenshot(path=str(ARTIFACTS / "ui-hostile-span.png"), full_page=True)

    # Assert: the markup is shown as text, nothing ran, no element was created from it
    assert listed == f"<b>evil</b>: {HOSTILE}"
    assert page.locator(".wf-row .span-name").first.inner_text() == HOSTILE
    assert page.locator("#span-panel h2").inner_text() == HOSTILE
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("main img, main b, main script").count() == 0
    page.close()
