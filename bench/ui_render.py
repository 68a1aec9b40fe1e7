"""Browser benchmark: how long the web UI's trace view takes to show a trace of N spans.

Writes one synthetic trace (default 1,000 spans: a few services, nesting up to depth 8, events
and attributes) straight into a fresh DuckDB file through the store port, serves the Jaeger API
and the UI over real HTTP, and opens ``#/trace/<id>`` in headless Chromium, several times. Each
run measures, inside the page, from the hash change to the moment the last waterfall row is in
the DOM and laid out (fetch + parse + build + first layout), and reports p50/max.

    python -m bench.ui_render [--spans 1000] [--runs 7]      (or: make bench-ui)
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from pathlib import Path

from fastapi import FastAPI
from tests.support.asgi_server import serving
from tests.support.browser import chromium
from tests.support.records import span_batch

from obsvty.adapters.api.jaeger import create_jaeger_router
from obsvty.adapters.api.ui import mount_ui
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.application.query import QueryService
from obsvty.domain.model import InstrumentationScope, Resource, Span, SpanEvent, StatusCode

BASE_NS = 1_704_880_800_000_000_000


def synthetic_trace(count: int, seed: int = 7) -> list[Span]:
    rng = random.Random(seed)
    trace_id = rng.randbytes(16)
    resources = [Resource({"service.name": f"service-{i}", "host.name": "bench"}) for i in range(6)]
    scope = InstrumentationScope("bench", "1.0")
    spans: list[Span] = []
    depth: dict[bytes, int] = {}
    for i in range(count):
        span_id = rng.randbytes(8)
        parent = b""
        start = BASE_NS
        if spans:
            candidates = [s for s in spans[-50:] if depth[s.span_id] < 8]
            chosen = rng.choice(candidates or spans)
            parent = chosen.span_id
            start = chosen.start_time_unix_nano + rng.randrange(1, 1_000_000)
        depth[span_id] = depth.get(parent, -1) + 1
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=span_id,
                parent_span_id=parent,
                name=f"operation {i % 40}",
                kind=1 + i % 5,
                start_time_unix_nano=start,
                end_time_unix_nano=start + rng.randrange(10_000, 50_000_000),
                resource=resources[i % len(resources)],
                scope=scope,
                attributes={"http.status_code": 200 + i % 5, "i": i, "tag": f"value {i}"},
                events=(SpanEvent(start + 5_000, "checkpoint", {"n": i}),),
                status_code=StatusCode.ERROR if i % 97 == 0 else StatusCode.UNSET,
            )
        )
    return spans


MEASURE = """async ([traceId, expected]) => {
  document.getElementById('wf-rows').replaceChildren();  // no rows left from the last run
  const t0 = performance.now();
  location.hash = `#/trace/${traceId}`;
  while (document.querySelectorAll('#wf-rows .wf-row').length !== expected) {
    await new Promise((r) => setTimeout(r, 1));
  }
  document.body.getBoundingClientRect();  // force layout
  await new Promise((r) => requestAnimationFrame(() => r()));
  return performance.now() - t0;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    spans = synthetic_trace(args.spans)
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "bench.duckdb")
        try:
            store.write([span_batch(spans)])
            app = FastAPI()
            app.include_router(
                create_jaeger_router(QueryService(DuckDBQuery(store))), prefix="/jaeger"
            )
            mount_ui(app)
            with serving(app) as url, chromium() as browser:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{url}/#/logs")  # a page without the trace, then switch to it
                page.wait_for_load_state("networkidle")
                timings = []
                for _ in range(args.runs):
                    page.evaluate("() => { location.hash = '#/metrics'; }")
                    page.wait_for_timeout(100)
                    timings.append(page.evaluate(MEASURE, [spans[0].trace_id.hex(), len(spans)]))
                Path("bench-results").mkdir(exist_ok=True)
                page.screenshot(path="bench-results/ui-render.png")
        finally:
            store.close()
    timings.sort()
    print(
        f"trace view, {len(spans)} spans, {args.runs} runs: "
        f"p50 {statistics.median(timings):.0f} ms, min {timings[0]:.0f} ms, "
        f"max {timings[-1]:.0f} ms (fetch + JSON + DOM build + layout, headless Chromium)"
    )


if __name__ == "__main__":
    main()
