"""Two traces compared in a real headless Chromium (Jaeger's trace diff): picked in the search
results, their spans grouped by service and operation, what one has that the other lacks marked,
the durations side by side. Also reached from a trace by another trace's id. Skipped, with the
reason, where no Chromium is installed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

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

TIMES = "\N{MULTIPLICATION SIGN}"
MINUS = "\N{MINUS SIGN}"
A = [
    Node("frontend", "GET /checkout", None, 0, 300),
    Node("backend", "load cart", 0, 10, 100),
    Node("db", "SELECT", 1, 20, 20),
    Node("db", "SELECT", 1, 50, 20),
    Node("backend", "price", 0, 120, 150),
]
B = [
    Node("frontend", "GET /checkout", None, 0, 500),
    Node("backend", "load cart", 0, 10, 400),
    Node("db", "SELECT", 1, 20, 100),
    Node("db", "SELECT", 1, 130, 100, error=True),
    Node("db", "SELECT", 1, 240, 100),
    Node("cache", "GET cart", 1, 350, 5),
]


def _rows(page: Page) -> dict[tuple[str, str], dict[str, Any]]:
    rows = page.locator("#cmp-table tr.cmp-row").evaluate_all(
        "rows => rows.map((r) => ({service: r.dataset.service, op: r.dataset.operation,"
        " state: r.dataset.state, hidden: r.hidden,"
        " cells: [...r.cells].slice(1).map((c) => c.innerText.trim())}))"
    )
    return {(r["service"], r["op"]): r for r in rows}


def test_ui_compare_two_picked_traces_grouped_by_service_operation_differences_marked(
    tmp_path: Path,
) -> None:
    # Arrange: two checkouts, the second slower, with a cache call and without pricing
    ARTIFACTS.mkdir(exist_ok=True)
    with running_obsvty(tmp_path) as server, chromium() as browser:
        sender = SpanSender(server.http_url)
        now = time.time_ns() - 60_000_000_000
        trace_a = sender.send(A, now)
        trace_b = sender.send(B, now + 1_000_000_000)
        sender.close()
        server.flush()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)
        problems = page_problems(page)

        # Act: pick both in the search results and compare
        page.goto(f"{server.api_url}/")
        page.wait_for_selector("tr.trace-row")
        disabled = page.locator("#ts-compare").is_disabled()
        page.locator(f"tr.trace-row[data-trace-id='{trace_a}'] .cmp-pick").check()
        page.locator(f"tr.trace-row[data-trace-id='{trace_b}'] .cmp-pick").check()
        page.click("#ts-compare")
        page.wait_for_selector("#cmp-table tr.cmp-row")
        page.screenshot(path=str(ARTIFACTS / "ui-trace-compare.png"), full_page=True)
        rows = _rows(page)
        summary = page.locator("#cmp-summary").inner_text()
        heads = page.locator("#cmp-heads .cmp-trace .id").all_inner_texts()

        # Act: only the differences
        page.check("#cmp-diff-only")
        shown = sorted(k for k, r in _rows(page).items() if not r["hidden"])

        # Act: from trace B's view, compare with A by id
        page.goto(f"{server.api_url}/#/trace/{trace_b}")
        page.wait_for_selector(".wf-row")
        page.fill("#tr-compare-with", trace_a)
        page.click("#tr-compare-form button")
        expect(page.locator("#cmp-heads .cmp-trace .id")).to_have_text([trace_b, trace_a])
        swapped = _rows(page)

    # Assert: the compare button waited for two picks; A and B in pick order
    assert disabled
    assert heads == [trace_a, trace_b]
    # every (service, operation) of either trace, marked by what differs
    states = {k: r["state"] for k, r in rows.items()}
    assert states == {
        ("backend", "load cart"): "same",
        ("backend", "price"): "only-a",
        ("cache", "GET cart"): "only-b",
        ("db", "SELECT"): "changed",
        ("frontend", "GET /checkout"): "same",
    }
    # span counts (errors noted) and durations side by side, with the difference
    select = rows[("db", "SELECT")]["cells"]
    assert select[0] == "2"
    assert select[1] == "3 (1 err)"
    assert select[2].startswith(f"40.0 ms (2 {TIMES} 20.0 ms)")
    assert select[3].startswith(f"300.0 ms (3 {TIMES} 100.0 ms)")
    assert select[4] == "+260.0 ms"
    price = rows[("backend", "price")]["cells"]
    assert price[1] == "0"
    assert price[3] == "—"
    assert rows[("frontend", "GET /checkout")]["cells"][4] == "+200.0 ms"
    assert summary == (
        "5 service/operation pairs: 1 operation only in A, 1 only in B, "
        "1 with other span counts, 2 alike."
    )
    assert shown == [("backend", "price"), ("cache", "GET cart"), ("db", "SELECT")]
    # from the trace view: that trace is A
    assert swapped[("cache", "GET cart")]["state"] == "only-a"
    assert swapped[("db", "SELECT")]["cells"][4] == f"{MINUS}260.0 ms"
    assert problems == []
