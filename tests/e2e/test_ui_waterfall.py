"""The waterfall's depth in a real headless Chromium: subtrees collapse and expand, find within a
trace marks the spans whose name or attributes hold the text (opening collapsed subtrees), the
critical path is drawn, span events are markers on their bars, and a trace of 1,000+ spans gets a
minimap that scrolls the list. Skipped, with the reason, where no Chromium is installed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import ARTIFACTS, chromium, chromium_path, page_problems
from tests.support.server import running_obsvty
from tests.support.span_trees import Node, SpanSender

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium found: install Debian's chromium (CI's .ci/run does) or set CHROMIUM",
    ),
]

CHECKOUT = [
    Node("frontend", "GET /checkout", None, 0, 1000),
    Node("backend", "auth", 0, 10, 30),  # then load cart, sequentially: critical
    Node("backend", "load cart", 0, 50, 350),
    Node("db", "SELECT cart", 2, 60, 320, events=(("cache miss", 100), ("exception", 370))),
    Node("frontend", "prefetch", 0, 100, 50),  # in parallel with load cart: not critical
    Node("backend", "price", 0, 420, 480),
    Node("db", "SELECT prices", 5, 430, 170),
    Node("pricing", "compute", 5, 610, 280, attributes={"pricing.rule": "black-friday"}),
]
NOT_CRITICAL = {"prefetch"}
BIG_SPANS = 1200


@dataclass(frozen=True)
class Traces:
    url: str
    checkout: str
    big: str


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traces]:
    with running_obsvty(Path(tmp_path_factory.mktemp("waterfall"))) as server:
        sender = SpanSender(server.http_url)
        now = time.time_ns() - 60_000_000_000
        checkout = sender.send(CHECKOUT, now)
        big = [Node("batch", "import", None, 0, BIG_SPANS + 10)]
        big += [Node("batch", f"row {i}", 0, i + 1, 5) for i in range(BIG_SPANS - 1)]
        big_id = sender.send(big, now + 5_000_000_000)
        sender.close()
        server.flush()
        yield Traces(server.api_url, checkout, big_id)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _open(browser: Browser, url: str, trace_id: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(15_000)
    problems = page_problems(page)
    page.goto(f"{url}/#/trace/{trace_id}")
    page.wait_for_selector(".wf-row")
    return page, problems


def _rows(page: Page) -> list[dict[str, Any]]:
    return page.locator(".wf-row").evaluate_all(  # type: ignore[no-any-return]
        "rows => rows.map((r) => ({name: r.querySelector('.span-name').textContent,"
        " hidden: r.hidden, match: r.classList.contains('match'),"
        " critical: r.classList.contains('critical'),"
        " crit: r.querySelectorAll('.wf-crit').length,"
        " events: [...r.querySelectorAll('.wf-event')].map((e) => e.title),"
        " exceptions: r.querySelectorAll('.wf-event.exception').length}))"
    )


def test_ui_waterfall_parallel_spans_critical_path_and_event_markers_drawn(
    browser: Browser, traces: Traces
) -> None:
    # Arrange / Act
    page, problems = _open(browser, traces.url, traces.checkout)
    page.screenshot(path=str(ARTIFACTS / "ui-waterfall-critical-path.png"), full_page=True)
    rows = {r["name"]: r for r in _rows(page)}
    page.uncheck("#wf-critical")
    drawn = page.locator(".wf-crit").first.is_visible()
    page.close()

    # Assert: what the end of the trace waited on, drawn in segments on those bars
    assert {n for n, r in rows.items() if not r["critical"]} == NOT_CRITICAL
    assert all(r["crit"] > 0 for n, r in rows.items() if n not in NOT_CRITICAL)
    assert rows["prefetch"]["crit"] == 0
    # the root waited on children, with its own time between them: several segments
    assert rows["GET /checkout"]["crit"] >= 3
    # events as markers on their bars, exceptions marked, named with their offset
    assert rows["SELECT cart"]["events"] == ["cache miss +40.0 ms", "exception +310.0 ms"]
    assert rows["SELECT cart"]["exceptions"] == 1
    assert rows["compute"]["events"] == []
    # the toggle hides the critical path
    assert not drawn
    assert problems == []


def test_ui_waterfall_collapse_and_find_hide_subtree_then_reveal_and_mark_matches(
    browser: Browser, traces: Traces
) -> None:
    # Arrange
    page, problems = _open(browser, traces.url, traces.checkout)
    price = page.locator(".wf-row", has_text="price").first

    # Act: collapse "price"
    price.locator(".wf-toggle").click()
    collapsed = _rows(page)
    page.screenshot(path=str(ARTIFACTS / "ui-waterfall-collapsed.png"), full_page=True)

    # Act: find an attribute value inside the collapsed subtree
    page.fill("#wf-find", "BLACK-friday")
    found = _rows(page)
    count = page.locator("#wf-find-count").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-waterfall-find.png"), full_page=True)
    page.press("#wf-find", "Enter")
    selected = page.locator("#span-panel h2").inner_text()

    # Act: find by name, then collapse and expand everything
    page.fill("#wf-find", "select")
    by_name = [r["name"] for r in _rows(page) if r["match"]]
    page.fill("#wf-find", "")
    page.click("#wf-collapse-all")
    all_collapsed = [r["name"] for r in _rows(page) if not r["hidden"]]
    page.click("#wf-expand-all")
    all_open = [r["name"] for r in _rows(page) if not r["hidden"]]
    page.close()

    # Assert: collapsing hid exactly the subtree
    assert [r["name"] for r in collapsed if r["hidden"]] == ["SELECT prices", "compute"]
    # finding opened it again and marked the one match
    assert [r["name"] for r in found if r["match"]] == ["compute"]
    assert not any(r["hidden"] for r in found)
    assert count == "1 match"
    assert selected == "compute"
    assert by_name == ["SELECT cart", "SELECT prices"]
    # collapse all keeps the root and its children; expand all shows every span
    assert all_collapsed == ["GET /checkout", "auth", "load cart", "prefetch", "price"]
    assert len(all_open) == len(CHECKOUT)
    assert problems == []


def test_ui_waterfall_minimap_for_a_big_trace_scrolls_the_list(
    browser: Browser, traces: Traces
) -> None:
    # Arrange: a small trace has no minimap
    small, _ = _open(browser, traces.url, traces.checkout)
    small_minimap = small.locator("#wf-minimap").is_visible()
    small.close()
    page, problems = _open(browser, traces.url, traces.big)
    expect(page.locator("#wf-minimap")).to_be_visible()
    before = page.locator("#wf-rows").evaluate("e => e.scrollTop")

    # Act: click near the bottom of the minimap
    box = page.locator("#wf-minimap").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9)
    page.wait_for_timeout(200)
    page.screenshot(path=str(ARTIFACTS / "ui-waterfall-minimap.png"))
    after = page.locator("#wf-rows").evaluate("e => e.scrollTop / e.scrollHeight")
    frame_top = page.locator("#wf-minimap-view").evaluate("e => parseFloat(e.style.top)")
    rows = page.locator(".wf-row").count()
    page.close()

    # Assert
    assert not small_minimap
    assert rows == BIG_SPANS
    assert before == 0
    assert 0.7 < after < 0.95  # the list scrolled to about that place
    assert 70 < frame_top < 95  # and the frame shows where the visible rows are
    assert problems == []
