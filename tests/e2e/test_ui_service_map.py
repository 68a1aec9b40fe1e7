"""The service map in a real headless Chromium: calls between services sent through the
OpenTelemetry SDK, drawn as nodes and arrows with their call and error counts; a service named
with markup stays text; a click on a service searches its traces. Skipped, with the reason, where
no Chromium is installed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

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

HOSTILE = "<img src=x onerror=window.__xss=1>"


def _checkout(db_fails: bool) -> list[Node]:
    return [
        Node("frontend", "GET /checkout", None, 0, 120),
        Node("auth", "verify", 0, 5, 10),
        Node("backend", "place order", 0, 20, 90),
        Node("db", "INSERT orders", 2, 30, 40, error=db_fails),
        Node("backend", "serialise", 2, 75, 5),  # within one service: no call
        Node(HOSTILE, "audit", 0, 110, 5),
    ]


def test_ui_service_map_calls_between_services_drawn_with_counts_click_searches_traces(
    tmp_path: Path,
) -> None:
    # Arrange: three checkouts a minute ago, one with a failing database call
    ARTIFACTS.mkdir(exist_ok=True)
    with running_obsvty(tmp_path) as server, chromium() as browser:
        sender = SpanSender(server.http_url)
        now = time.time_ns() - 60_000_000_000
        for i in range(3):
            sender.send(_checkout(db_fails=i == 1), now + i * 1_000_000_000)
        sender.close()
        server.flush()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)
        problems = page_problems(page)

        # Act: open the map
        page.goto(f"{server.api_url}/#/map")
        page.wait_for_selector("#map g.map-node")
        page.screenshot(path=str(ARTIFACTS / "ui-service-map.png"), full_page=True)
        nodes = page.locator("#map g.map-node").evaluate_all(
            "gs => gs.map((g) => [g.dataset.service, g.querySelector('.detail').textContent])"
        )
        edges = page.locator("#map g.map-edge").evaluate_all(
            "gs => gs.map((g) => [g.dataset.parent, g.dataset.child,"
            " g.querySelector('.edge-label').textContent, g.classList.contains('error')])"
        )
        columns = page.locator("#map g.map-node").evaluate_all(
            "gs => Object.fromEntries(gs.map((g) => [g.dataset.service,"
            " g.transform.baseVal[0].matrix.e]))"
        )
        summary = page.locator("#map-summary").inner_text()
        xss = page.evaluate("window.__xss")
        markup = page.locator("main img").count()

        # Act: click the database
        page.locator("#map g.map-node[data-service='db']").click()
        page.wait_for_selector("tr.trace-row")
        service = page.locator("#ts-service").input_value()
        hits = page.locator("tr.trace-row").count()

    # Assert: every service once, each call pair once with its counts, errors marked
    assert sorted(n[0] for n in nodes) == sorted(["frontend", "auth", "backend", "db", HOSTILE])
    assert dict(nodes)["frontend"] == "entry point"
    assert dict(nodes)["db"] == "3 calls in · 1 error"
    assert sorted(edges) == sorted(
        [
            ["frontend", "auth", "3 calls", False],
            ["frontend", "backend", "3 calls", False],
            ["backend", "db", "3 calls · 1 error", True],
            ["frontend", HOSTILE, "3 calls", False],
        ]
    )
    # callers left of what they call
    assert columns["frontend"] < columns["backend"] < columns["db"]
    assert columns["auth"] == columns["backend"]
    assert summary == "5 services, 4 links, 12 calls, 1 error"
    # the markup is a name, shown as text
    assert xss is None
    assert markup == 0
    # the click searched the database's traces over the map's range
    assert service == "db"
    assert hits == 3
    assert problems == []


def test_ui_service_map_empty_range_offers_all_time(tmp_path: Path) -> None:
    # Arrange: one call two days ago, outside the default last hour
    with running_obsvty(tmp_path) as server, chromium() as browser:
        sender = SpanSender(server.http_url)
        sender.send(
            [Node("web", "GET /", None, 0, 10), Node("api", "list", 0, 1, 5)],
            time.time_ns() - 2 * 86_400_000_000_000,
        )
        sender.close()
        server.flush()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)

        # Act
        page.goto(f"{server.api_url}/#/map")
        page.locator("#map-all-time").wait_for()
        empty = page.locator("#map-summary").inner_text()
        page.click("#map-all-time")
        page.wait_for_selector("#map g.map-edge")
        edges = page.locator("#map g.map-edge").evaluate_all(
            "gs => gs.map((g) => [g.dataset.parent, g.dataset.child])"
        )
        lookback = page.locator("#map-lookback").input_value()

    # Assert
    assert empty.startswith("No calls between services in this range")
    assert edges == [["web", "api"]]
    assert lookback == ""
