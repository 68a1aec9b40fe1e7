"""The trace search in a real headless Chromium when its time range is empty but spans are stored
elsewhere in time: the official OTLP example trace is from 2018, the default range the last hour.
The UI says when the newest span started and offers a search over all time, which finds it.
Skipped, with the reason, where no Chromium is installed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.browser import ARTIFACTS, chromium, chromium_path
from tests.support.server import running_obsvty

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium found: install Debian's chromium (CI's .ci/run does) or set CHROMIUM",
    ),
]

EXAMPLE_TRACE_ID = "5b8efff798038103d269b633813fc60c"


def test_ui_trace_search_empty_default_hour_names_newest_span_and_offers_all_time(
    tmp_path: Path, otlp_examples: Path
) -> None:
    # Arrange: the official example trace (December 2018) stored
    ARTIFACTS.mkdir(exist_ok=True)
    with running_obsvty(tmp_path) as server, chromium() as browser:
        posted = httpx.post(
            f"{server.http_url}/v1/traces",
            content=(otlp_examples / "trace.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        assert posted.status_code == 200
        server.flush()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)

        # Act: search with the default range (the last hour)
        page.goto(f"{server.api_url}/")
        page.click("#ts-submit")
        offer = page.locator("#ts-all-time")
        offer.wait_for()
        summary = page.locator("#ts-summary").inner_text()
        page.screenshot(path=str(ARTIFACTS / "ui-trace-search-empty-range.png"), full_page=True)
        offer.click()
        row = page.locator(f"tr.trace-row[data-trace-id='{EXAMPLE_TRACE_ID}']")
        row.wait_for()
        lookback = page.locator("#ts-lookback").input_value()

    # Assert
    assert "No traces in this time range" in summary
    assert "newest stored span started at 2018-12-" in summary
    assert lookback == ""
