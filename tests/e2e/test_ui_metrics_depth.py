"""The metric chart's axes and legend in a real headless Chromium: the unit names the y axis, the
x axis carries the date under its times, and a click on a legend entry hides or shows its line
(the y axis then fits the lines shown). Lines still break at gaps (see test_ui_browser).
Skipped, with the reason, where no Chromium is installed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, chromium, chromium_path, page_problems
from tests.support.sample_trace import send_sample_metric
from tests.support.server import running_obsvty

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium found: install Debian's chromium (CI's .ci/run does) or set CHROMIUM",
    ),
]


def test_ui_metrics_histogram_chart_unit_and_dates_on_axes_legend_click_toggles_lines(
    tmp_path: Path,
) -> None:
    # Arrange: a counter and a histogram in milliseconds, sent now
    ARTIFACTS.mkdir(exist_ok=True)
    with running_obsvty(tmp_path) as server, chromium() as browser:
        send_sample_metric(server.http_url)
        server.flush()
        today = time.strftime("%Y-%m-%d")
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)
        problems = page_problems(page)
        page.goto(f"{server.api_url}/#/metrics")
        page.wait_for_selector("#ms-name option[value='checkout.duration']", state="attached")

        # Act: the histogram's percentiles
        page.select_option("#ms-name", "checkout.duration")
        expect(page.locator("#chart path.line")).to_have_count(3)
        unit = page.locator("#chart text.y-unit").text_content()
        dates = page.locator("#chart text.x-date").all_text_contents()
        times = page.locator("#chart text.x-tick").all_text_contents()
        top_before = float(page.locator("#chart text.y-tick").last.text_content() or "nan")

        # Act: hide p99, then p90, from the legend
        legend = page.locator("#chart-legend li")
        legend.nth(2).click()
        legend.nth(1).click()
        expect(page.locator("#chart path.line")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "ui-metrics-axes-legend.png"), full_page=True)
        pressed = [legend.nth(i).get_attribute("aria-pressed") for i in range(3)]
        off = [legend.nth(i).evaluate("e => e.classList.contains('off')") for i in range(3)]
        top_after = float(page.locator("#chart text.y-tick").last.text_content() or "nan")
        hidden_values = page.locator("#chart circle.point title").all_text_contents()

        # Act: show p99 again; then the counter as a rate
        legend.nth(2).click()
        expect(page.locator("#chart path.line")).to_have_count(2)
        page.select_option("#ms-name", "orders.placed")
        expect(page.locator("#ms-summary")).to_contain_text("rate per second")
        rate_unit = page.locator("#chart text.y-unit").text_content()
        rate_lines = page.locator("#chart path.line").count()

    # Assert: the unit and the date on the axes
    assert unit == "ms"
    assert dates == [today]  # under the first time only: the data lie within one day
    assert len(times) == 5
    assert all(":" in t for t in times)
    # the legend toggled the lines, and the y axis fitted what stayed
    assert pressed == ["true", "false", "false"]
    assert off == [False, True, True]
    assert all(t.startswith("p50") for t in hidden_values)
    assert top_after <= top_before
    # a new metric starts with every line shown
    assert rate_unit == "per second"
    assert rate_lines == 1
    assert problems == []
