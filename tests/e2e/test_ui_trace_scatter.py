"""The trace search's duration-over-time scatter plot in a real headless Chromium: one dot per
trace found, placed by start and duration, red for a trace with an error, a click opens the
trace. Skipped, with the reason, where no Chromium is installed."""

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

DURATIONS_MS = [40, 250, 90, 600]  # in start order, 5 s apart


def test_ui_trace_scatter_dot_per_trace_by_time_and_duration_click_opens(tmp_path: Path) -> None:
    # Arrange: four traces of the last minutes, the third with an error
    ARTIFACTS.mkdir(exist_ok=True)
    with running_obsvty(tmp_path) as server, chromium() as browser:
        sender = SpanSender(server.http_url)
        base = time.time_ns() - 120_000_000_000
        ids = [
            sender.send(
                [
                    Node("shop", f"GET /item/{i}", None, 0, ms),
                    Node("stock", "lookup", 0, 1, ms / 2, error=i == 2),
                ],
                base + i * 5_000_000_000,
            )
            for i, ms in enumerate(DURATIONS_MS)
        ]
        sender.close()
        server.flush()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)
        problems = page_problems(page)

        # Act: search (the default last hour)
        page.goto(f"{server.api_url}/")
        page.wait_for_selector("#ts-scatter circle.dot")
        page.screenshot(path=str(ARTIFACTS / "ui-trace-scatter.png"), full_page=True)
        dots = page.locator("#ts-scatter circle.dot").evaluate_all(
            "cs => cs.map((c) => [c.dataset.traceId, +c.getAttribute('cx'),"
            " +c.getAttribute('cy'), c.classList.contains('error')])"
        )
        rows = page.locator("tr.trace-row").count()

        # Act: click the longest trace's dot
        page.locator(f"#ts-scatter circle.dot[data-trace-id='{ids[3]}']").click()
        page.wait_for_selector(".wf-row")
        opened = page.locator("#tr-meta").inner_text()

    # Assert: a dot per trace listed
    assert rows == 4
    by_id = {d[0]: d[1:] for d in dots}
    assert set(by_id) == set(ids)
    # later traces further right, longer ones higher (smaller y)
    xs = [by_id[i][0] for i in ids]
    assert xs == sorted(xs)
    ys = [by_id[i][1] for i in ids]
    assert sorted(range(4), key=lambda i: ys[i]) == [3, 1, 2, 0]
    # the one with an error is marked
    assert [by_id[i][2] for i in ids] == [False, False, True, False]
    # the click opened that trace
    assert ids[3] in opened
    assert problems == []
