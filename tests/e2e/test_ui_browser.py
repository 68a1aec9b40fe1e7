"""The web UI in a real headless Chromium, on telemetry sent through the OpenTelemetry SDK.

The UI is served by a real obsvty (``running_obsvty``) on its query API listener, reading the
native API and the Jaeger API there. Traces: search, open one, check the waterfall rows (order,
nesting, bar positions, error and orphan marks) and the side panel; a span named with HTML stays
text. Logs: newest first, severity colours, the trace link, live refresh (new and late records in
place, none repeated), filters. Metrics: a counter as a rate and as totals, a histogram as
percentile lines, two processes of one service as two lines and a restart as a break in its
line. A log record full of HTML/JS stays text too. Screenshots go to ``test-artifacts/`` (kept
by CI). Skipped, with the reason, where no Chromium is installed.

Longer than the project's ~450-line bound: one browser session and its telemetry serve every view
checked here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS, chromium, chromium_path
from tests.support.sample_trace import (
    BASE_NS,
    SampleTrace,
    send_sample_logs,
    send_sample_metric,
    send_sample_trace,
)
from tests.support.server import RunningObsvty, running_obsvty

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


def _send_log(http_url: str, body: str, severity: SeverityNumber, time_ns: int) -> None:
    provider = LoggerProvider(resource=Resource.create({"service.name": "frontend"}))
    exporter = OTLPLogExporter(endpoint=f"{http_url}/v1/logs", timeout=10)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("shop.web").emit(
        timestamp=time_ns, severity_number=severity, severity_text=severity.name, body=body
    )
    provider.shutdown()


@dataclass(frozen=True)
class Served:
    server: RunningObsvty
    sample: SampleTrace
    logs_at_ns: int

    @property
    def url(self) -> str:
        return self.server.api_url  # the real query API listener: /api/v1, /jaeger and the UI


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running_obsvty(Path(tmp_path_factory.mktemp("ui"))) as server:
        sample = send_sample_trace(server.http_url)
        _send_hostile_span(server.http_url)
        now_ns = time.time_ns()
        send_sample_logs(server.http_url, sample.trace_id, now_ns)
        send_sample_metric(server.http_url)
        server.flush()
        yield Served(server, sample, now_ns)


@pytest.fixture(scope="module")
def ui_url(served: Served) -> tuple[str, SampleTrace]:
    return served.url, served.sample


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


def test_ui_log_full_of_html_renders_as_text_never_markup(browser: object, tmp_path: Path) -> None:
    # Arrange: a log record whose service, scope, severity text, body and attribute are markup
    with running_obsvty(tmp_path) as server:
        provider = LoggerProvider(resource=Resource.create({"service.name": "<b>evil</b>"}))
        exporter = OTLPLogExporter(endpoint=f"{server.http_url}/v1/logs", timeout=10)
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        provider.get_logger("<i>scope</i>").emit(
            timestamp=time.time_ns(),
            severity_number=SeverityNumber.ERROR,
            severity_text="<u>ERROR</u>",
            body=HOSTILE,
            attributes={"<script>": "<script>window.__xss=3</script>"},
        )
        provider.shutdown()
        server.flush()
        page = _page(browser)

        # Act: open the Logs screen
        page.goto(f"{server.api_url}/#/logs")
        expect(page.locator("#log-results tbody tr")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "ui-hostile-log.png"), full_page=True)

        # Assert: the markup is shown as text, nothing ran, no element was created from it
        assert _log_bodies(page) == [HOSTILE]
        row = page.locator("#log-results tbody tr").first
        assert row.locator("td").nth(2).inner_text() == "<b>evil</b>"
        assert page.evaluate("window.__xss === undefined")
        assert page.locator("main img, main b, main i, main u, main script").count() == 0
        page.close()


def _log_bodies(page: object) -> list[str]:
    return page.locator("#log-results tbody td.body").all_inner_texts()  # type: ignore[attr-defined,no-any-return]


def test_ui_logs_newest_first_coloured_linked_live_and_filtered(
    browser: object, served: Served
) -> None:
    # Arrange
    page = _page(browser)
    ARTIFACTS.mkdir(exist_ok=True)

    # Act: open the Logs screen
    page.goto(f"{served.url}/#/logs")
    expect(page.locator("#log-results tbody tr")).to_have_count(3)

    # Assert: newest first, one row per record, severity classes and distinct colours
    assert _log_bodies(page) == ["checkout failed", "slow query", "cart loaded"]
    rows = page.locator("#log-results tbody tr")
    assert [rows.nth(i).get_attribute("data-severity") for i in range(3)] == [
        "error",
        "warn",
        "info",
    ]
    colours = [
        rows.nth(i).locator(".sev").evaluate("e => getComputedStyle(e).color") for i in range(3)
    ]
    assert colours[0] == "rgb(207, 34, 46)"  # --error
    assert len(set(colours)) == 3
    assert rows.nth(0).locator("td").nth(2).inner_text() == "frontend"
    assert rows.nth(1).locator("a").count() == 0  # only the record with a trace id links

    # Act: two records arrive while the screen is open: a new one, and a late one stamped
    # before the others (as a batching SDK delivers it)
    _send_log(served.server.http_url, "payment declined", SeverityNumber.FATAL, time.time_ns())
    late_ns = served.logs_at_ns - 10_000_000_000
    _send_log(served.server.http_url, "late batch", SeverityNumber.DEBUG, late_ns)
    served.server.flush()
    expect(page.locator("#log-results tbody tr")).to_have_count(5)
    page.wait_for_timeout(2500)  # one more live refresh must not change the list
    page.screenshot(path=str(ARTIFACTS / "ui-logs.png"), full_page=True)

    # Assert: each lands in its place, is marked new, and nothing is repeated
    assert _log_bodies(page) == [
        "payment declined",
        "checkout failed",
        "slow query",
        "cart loaded",
        "late batch",
    ]
    assert "new" in (rows.nth(0).get_attribute("class") or "")
    assert "new" in (rows.nth(4).get_attribute("class") or "")
    assert "new" not in (rows.nth(1).get_attribute("class") or "")
    assert rows.nth(0).get_attribute("data-severity") == "fatal"

    # Act + Assert: filters (minimum severity, text in the body, trace id)
    page.select_option("#ls-severity", "17")
    expect(page.locator("#log-results tbody td.body")).to_have_text(
        ["payment declined", "checkout failed"]
    )
    page.select_option("#ls-severity", "")
    page.fill("#ls-text", "SLOW")
    page.click("#ls-submit")
    expect(page.locator("#log-results tbody td.body")).to_have_text(["slow query"])
    page.fill("#ls-text", "")
    page.fill("#ls-trace", served.sample.trace_id)
    page.click("#ls-submit")
    expect(page.locator("#log-results tbody td.body")).to_have_text(["checkout failed"])

    # Act: follow the record's trace link
    page.locator(f"#log-results a[href='#/trace/{served.sample.trace_id}']").click()
    page.wait_for_selector(".wf-row")

    # Assert: the trace view of that trace
    assert page.locator(".wf-row").count() == 3
    assert served.sample.trace_id in page.locator("#tr-meta").inner_text()
    page.close()


def _point_values(page: object) -> list[float]:
    titles = page.locator("#chart circle.point title").all_text_contents()  # type: ignore[attr-defined]
    return [float(t.splitlines()[-1].split()[0]) for t in titles]


def test_ui_metrics_counter_as_rate_and_totals_histogram_as_percentiles(
    browser: object, served: Served
) -> None:
    # Arrange
    page = _page(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{served.url}/#/metrics")
    page.wait_for_selector("#ms-name option[value='orders.placed']", state="attached")

    # Act: pick the counter (auto: a rate per second)
    page.select_option("#ms-name", "orders.placed")
    page.wait_for_selector("#chart path.line")
    page.screenshot(path=str(ARTIFACTS / "ui-metrics-counter.png"), full_page=True)

    # Assert: one line (the one series), a point per export, all positive rates
    assert "rate per second" in page.locator("#ms-summary").inner_text()
    assert page.locator("#chart path.line").count() == 1
    assert page.locator("#chart-legend li").all_inner_texts() == ["frontend · region=eu"]
    rates = _point_values(page)
    assert len(rates) == 5
    assert all(r > 0 for r in rates)

    # Act: show the running totals instead
    page.select_option("#ms-show", "value")
    expect(page.locator("#ms-summary")).to_contain_text("value")

    # Assert: the cumulative counter: 1, 1+2, ... 1+2+3+4+5
    assert _point_values(page) == [1, 3, 6, 10, 15]

    # Act: pick the histogram (auto: percentiles)
    page.select_option("#ms-show", "auto")
    page.select_option("#ms-name", "checkout.duration")
    expect(page.locator("#ms-summary")).to_contain_text("percentiles")
    page.screenshot(path=str(ARTIFACTS / "ui-metrics-histogram.png"), full_page=True)

    # Assert: p50, p90, p99 lines, estimates within the recorded 10..100 ms, ordered
    legend = page.locator("#chart-legend li").all_inner_texts()
    assert legend == ["p50 · frontend", "p90 · frontend", "p99 · frontend"]
    values = _point_values(page)
    assert len(values) == 15
    assert all(10 <= v <= 100 for v in values)
    p50, p90, p99 = values[0], values[5], values[10]
    assert p50 < p90 <= p99
    page.close()


RATES = {"a": 10.0, "b": 5.0, "c": 2.0, "d": 4.0}  # per second


def _send_two_processes_with_a_restart(http_url: str) -> None:
    """A counter growing 10/s in one process of a service (``service.instance.id`` a) and 5/s
    in another (b), collected every 0.2 s; b stops after three exports and restarts (a new
    start time) ~0.8 s later, as a process restarted with the same resource would, for three
    more. Two more (c, d) of a service "twin" share one resource, as two SDK processes do
    without a ``service.instance.id``."""
    resources = {
        name: Resource.create({"service.name": "worker", "service.instance.id": name})
        for name in ("a", "b")
    }
    resources["c"] = resources["d"] = Resource.create({"service.name": "twin"})
    exporter = OTLPMetricExporter(endpoint=f"{http_url}/v1/metrics", timeout=10)
    running: dict[str, tuple[MeterProvider, InMemoryMetricReader, Any]] = {}
    since: dict[str, int] = {}  # when each process last counted

    def start(name: str) -> None:
        reader = InMemoryMetricReader()
        provider = MeterProvider(resource=resources[name], metric_readers=[reader])
        counter = provider.get_meter("jobs").create_counter("jobs.done")
        counter.add(0)  # the count starts now
        running[name] = (provider, reader, counter)
        since[name] = time.time_ns()

    try:
        for name in RATES:
            start(name)
        for i in range(10):
            if i == 7:
                start("b")
            time.sleep(0.2)
            if i == 3:
                running.pop("b")[0].shutdown()
            now = time.time_ns()
            for name, (_, _, counter) in running.items():
                counter.add(RATES[name] * (now - since[name]) / 1e9)  # per second that passed
                since[name] = now
            collected = [reader.get_metrics_data() for _, reader, _ in running.values()]
            for data in collected:  # both collected first: an export's delay shifts neither
                assert data is not None
                assert exporter.export(data) == MetricExportResult.SUCCESS
    finally:
        exporter.shutdown()
        for provider, _, _ in running.values():
            provider.shutdown()


def test_ui_metrics_two_processes_two_lines_restart_breaks_the_line(
    browser: object, tmp_path: Path
) -> None:
    # Arrange
    with running_obsvty(tmp_path) as server:
        _send_two_processes_with_a_restart(server.http_url)
        server.flush()
        page = _page(browser)
        ARTIFACTS.mkdir(exist_ok=True)

        # Act: the counter as a rate (the default for a sum)
        page.goto(f"{server.api_url}/#/metrics")
        page.wait_for_selector("#ms-name option[value='jobs.done']", state="attached")
        page.select_option("#ms-name", "jobs.done")
        page.select_option("#ms-service", "worker")
        expect(page.locator("#chart path.line")).to_have_count(2)
        page.screenshot(path=str(ARTIFACTS / "ui-metrics-two-processes.png"), full_page=True)

        # Assert: one line per process, told apart in the legend by the instance id
        assert page.locator("#chart-legend li").all_inner_texts() == [
            "worker · service.instance.id=a",
            "worker · service.instance.id=b",
        ]
        # a's line runs on; b's breaks where it was down (a second "M"oveto, no line across)
        paths = [
            d or ""
            for d in page.locator("#chart path.line").evaluate_all(
                "paths => paths.map((p) => p.getAttribute('d'))"
            )
        ]
        assert [d.count("M") for d in paths] == [1, 2]
        # a's 10 points at ~10/s, b's 3 + 3 at ~5/s (the first of each run from its start)
        lines = page.locator("#chart g.points")
        a, b = (
            [
                float(t.splitlines()[-1].split()[0])
                for t in lines.nth(i).locator("title").all_text_contents()
            ]
            for i in (0, 1)
        )
        assert a == [pytest.approx(RATES["a"], rel=0.2)] * 10
        assert b == [pytest.approx(RATES["b"], rel=0.2)] * 6

        # Act: the processes alike in resource
        page.select_option("#ms-service", "twin")
        expect(page.locator("#chart-legend li")).to_have_count(2)
        expect(page.locator("#chart-legend li").first).to_contain_text("twin · started ")

        # Assert: two lines, labelled by when each started (numbered within one millisecond)
        legend = page.locator("#chart-legend li").all_inner_texts()
        assert all(text.startswith("twin · started ") for text in legend), legend
        assert len(set(legend)) == 2
        c, d = (
            [
                float(t.splitlines()[-1].split()[0])
                for t in lines.nth(i).locator("title").all_text_contents()
            ]
            for i in (0, 1)
        )
        assert c == [pytest.approx(RATES["c"], rel=0.2)] * 10
        assert d == [pytest.approx(RATES["d"], rel=0.2)] * 10
        page.close()


def test_ui_logs_older_pages_follow_the_cursor_without_gaps_or_repeats(
    browser: object, tmp_path: Path
) -> None:
    # Arrange: 450 logs in one SDK batch, three per millisecond (ties the cursor must break)
    count = 450
    base_ns = time.time_ns() - 5_000_000_000
    with running_obsvty(tmp_path) as server:
        provider = LoggerProvider(resource=Resource.create({"service.name": "batch"}))
        exporter = OTLPLogExporter(endpoint=f"{server.http_url}/v1/logs", timeout=10)
        provider.add_log_record_processor(
            BatchLogRecordProcessor(exporter, max_export_batch_size=512)
        )
        logger = provider.get_logger("batch")
        for i in range(count):
            logger.emit(
                timestamp=base_ns + (i // 3) * 1_000_000,
                severity_number=SeverityNumber.INFO,
                body=f"log {i}",
            )
        provider.shutdown()
        server.flush()
        page = _page(browser)

        # Act: the first page, one live refresh over it, then every older page
        page.goto(f"{server.api_url}/#/logs")
        expect(page.locator("#log-results tbody tr")).to_have_count(200)
        page.wait_for_timeout(2500)  # let a live refresh run: it must not pull older records in
        expect(page.locator("#log-results tbody tr")).to_have_count(200)
        page.click("#ls-more")
        expect(page.locator("#log-results tbody tr")).to_have_count(400)
        page.click("#ls-more")
        expect(page.locator("#log-results tbody tr")).to_have_count(count)
        expect(page.locator("#ls-more")).to_be_hidden()
        bodies = _log_bodies(page)
        page.close()

    # Assert: every record once, newest first (ties: the later stored first)
    assert sorted(bodies, key=lambda b: int(b.split()[1])) == [f"log {i}" for i in range(count)]
    times = [int(b.split()[1]) // 3 for b in bodies]
    assert times == sorted(times, reverse=True)
