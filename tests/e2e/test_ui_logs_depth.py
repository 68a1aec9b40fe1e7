"""The Logs screen's depth in a real headless Chromium: a time range, a record that opens to show
its body, attributes, resource and scope, trace links that look like links, and a live tail that
follows new records while the list's top is in view (and, scrolled down, keeps the records being
read in place and counts the new ones). Skipped, with the reason, where no Chromium is
installed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import ARTIFACTS, chromium, chromium_path, page_problems
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium found: install Debian's chromium (CI's .ci/run does) or set CHROMIUM",
    ),
]

TRACE_ID = "5b8efff798038103d269b633813fc60c"
HOUR_NS = 3600 * 1_000_000_000


def _emit(server: RunningObsvty, records: list[dict[str, Any]]) -> None:
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "shop", "deployment.environment": "test"})
    )
    exporter = OTLPLogExporter(endpoint=f"{server.http_url}/v1/logs", timeout=10)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    logger = provider.get_logger("shop.orders", "3.1.4")
    for record in records:
        logger.emit(severity_number=SeverityNumber.INFO, severity_text="INFO", **record)
    provider.shutdown()
    server.flush()


@dataclass(frozen=True)
class Served:
    server: RunningObsvty
    now_ns: int


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running_obsvty(Path(tmp_path_factory.mktemp("logs"))) as server:
        now = time.time_ns()
        span = NonRecordingSpan(SpanContext(int(TRACE_ID, 16), 0xAB, is_remote=True))
        _emit(
            server,
            [
                {"timestamp": now - 3 * HOUR_NS, "body": "old record"},
                *(
                    {"timestamp": now - 60_000_000_000 + i * 1_000_000, "body": f"filler {i}"}
                    for i in range(80)
                ),
                {
                    "timestamp": now - 1_000_000_000,
                    "body": {"order": 42, "items": ["book", "pen"]},
                    "attributes": {"cart.items": 2, "payment": "card"},
                    "context": trace_api.set_span_in_context(span),
                },
            ],
        )
        yield Served(server, now)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(10_000)
    problems = page_problems(page)
    page.goto(f"{url}/#/logs")
    return page, problems


def _bodies(page: Page) -> list[str]:
    return page.locator("#log-results tr.log-row td.body").all_inner_texts()


def test_ui_logs_time_range_last_hour_or_custom_shows_only_records_within(
    browser: Browser, served: Served
) -> None:
    # Arrange
    page, problems = _page(browser, served.server.api_url)
    expect(page.locator("#log-results tr.log-row")).to_have_count(82)
    everything = _bodies(page)

    # Act: the last hour
    page.select_option("#ls-lookback", "1h")
    expect(page.locator("#log-results tr.log-row")).to_have_count(81)
    last_hour = _bodies(page)

    # Act: a custom range around the old record (local time, as the inputs take it)
    page.select_option("#ls-lookback", "custom")
    page.evaluate(
        """(ms) => {
            const local = (t) => new Date(t - new Date(t).getTimezoneOffset() * 60000)
                .toISOString().slice(0, 19);
            document.getElementById('ls-from').value = local(ms - 4 * 3600e3);
            document.getElementById('ls-to').value = local(ms - 2 * 3600e3);
        }""",
        served.now_ns // 1_000_000,
    )
    page.click("#ls-submit")
    expect(page.locator("#log-results tr.log-row")).to_have_count(1)
    custom = _bodies(page)
    page.screenshot(path=str(ARTIFACTS / "ui-logs-time-range.png"), full_page=True)
    page.close()

    # Assert
    assert everything[-1] == "old record"
    assert "old record" not in last_hour
    assert custom == ["old record"]
    assert problems == []


def test_ui_logs_record_clicked_opens_body_attributes_resource_scope_trace_link_styled(
    browser: Browser, served: Served
) -> None:
    # Arrange
    page, problems = _page(browser, served.server.api_url)
    expect(page.locator("#log-results tr.log-row")).to_have_count(82)
    row = page.locator("#log-results tr.log-row").first

    # Act: open the newest record
    row.locator("td.body").click()
    detail = page.locator("#log-results tr.log-detail")
    detail.wait_for()
    page.screenshot(path=str(ARTIFACTS / "ui-logs-record-open.png"), full_page=True)
    text = detail.inner_text()
    body = detail.locator("pre.log-body").inner_text()
    link = row.locator("td.trace a")
    style = link.evaluate(
        "a => { const s = getComputedStyle(a); return [s.color, s.textDecorationLine]; }"
    )
    href = link.get_attribute("href")

    # Act: close it, then follow the trace link
    row.locator("td.time").click()
    closed = page.locator("#log-results tr.log-detail").count()
    link.click()
    page.wait_for_url(f"**/#/trace/{TRACE_ID}")
    page.close()

    # Assert: the whole record, structured body included
    assert '"order": 42' in body
    assert '"book"' in body
    assert "cart.items\t2" in text
    assert "payment\tcard" in text
    assert "service.name\tshop" in text
    assert "deployment.environment\ttest" in text
    assert "name\tshop.orders" in text
    assert "version\t3.1.4" in text
    assert f"trace id\t{TRACE_ID}" in text
    assert closed == 0
    # the trace link looks like one: the accent colour, underlined
    assert style == ["rgb(31, 111, 235)", "underline"]
    assert href == f"#/trace/{TRACE_ID}"
    assert problems == []


def test_ui_logs_live_tail_follows_at_top_keeps_place_when_scrolled(
    browser: Browser, served: Served
) -> None:
    # Arrange
    page, problems = _page(browser, served.server.api_url)
    rows = page.locator("#log-results tr.log-row")
    expect(rows).to_have_count(82)

    # Act: a record arrives while the top of the list is in view
    _emit(served.server, [{"timestamp": time.time_ns(), "body": "first new"}])
    expect(rows.first.locator("td.body")).to_have_text("first new")
    in_view = rows.first.evaluate("r => r.getBoundingClientRect().top < innerHeight")
    banner_at_top = page.locator("#ls-new").is_visible()

    # Act: scroll down to a record, then another arrives (the rows of the last minute are drawn
    # anew by the refresh: the record is found by its text)
    text = rows.nth(50).locator("td.body").inner_text()
    reading = rows.filter(has=page.get_by_text(text, exact=True))
    reading.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    before = reading.evaluate("r => r.getBoundingClientRect().top")
    _emit(served.server, [{"timestamp": time.time_ns(), "body": "second new"}])
    expect(page.locator("#ls-new")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "ui-logs-live-tail.png"))
    banner = page.locator("#ls-new").inner_text()
    after = reading.evaluate("r => r.getBoundingClientRect().top")
    reading_body = reading.locator("td.body").inner_text()

    # Act: jump to the newest
    page.click("#ls-new")
    newest_top = rows.first.evaluate("r => r.getBoundingClientRect().top")
    banner_after = page.locator("#ls-new").is_visible()
    page.close()

    # Assert: followed at the top; scrolled down, the record being read stayed where it was
    assert in_view
    assert not banner_at_top
    assert banner == "1 new record ↑"
    assert abs(after - before) < 2
    assert reading_body.startswith("filler")
    assert 0 <= newest_top < 900
    assert not banner_after
    assert problems == []
