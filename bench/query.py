"""Query benchmark: trace search and trace loading on a DuckDB file holding N spans.

Seeds the file straight through SQL (fast: a million spans in seconds), in the exact schema the
store writes: 20 services, 50 operations, traces of 10 spans over one hour, 2% errors, typed
attributes, plus one trace of 1,000 spans. Then times each query through the query port
(``DuckDBQuery``, as the API calls it) and prints p50/p95. With ``--with-ingest`` it also measures
the store's write throughput alone and while the queries run, to show that reads do not block
ingestion (DuckDB MVCC: readers use their own cursors).

    python -m bench.query [--spans 1000000] [--rounds 30] [--with-ingest] [--db PATH]
    # a file for bench.query_http (queries over HTTP): 10M spans over a day, seeded and kept
    python -m bench.query --spans 10000000 --shape day --db day.duckdb --seed-only
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.config import Settings, parse_size
from obsvty.domain.batches import SpanBatch
from obsvty.domain.model import InstrumentationScope, Resource
from obsvty.ports.query import AttributeFilter, TraceQuery

T0 = 1_704_880_800_000_000_000
HOUR = 3600 * 1_000_000_000
BIG_TRACE = "b" * 32

_SEED = """
INSERT INTO spans BY NAME
SELECT
    lpad(printf('%x', i // 10), 32, '0') AS trace_id,
    lpad(printf('%x', i), 16, '0') AS span_id,
    CASE WHEN i % 10 = 0 THEN '' ELSE lpad(printf('%x', i - i % 10), 16, '0') END
        AS parent_span_id,
    '' AS trace_state, 1 AS flags,
    'op-' || ((i * 7) % 50) AS name,
    CASE WHEN i % 10 = 0 THEN 2 ELSE 3 END AS kind,
    $t0 + (i // 10) * ($hour // ($n // 10)) + (i % 10) * 1000 AS start_time_unix_nano,
    $t0 + (i // 10) * ($hour // ($n // 10)) + (i % 10) * 1000 + dur AS end_time_unix_nano,
    dur AS duration_ns,
    '{"http.status_code":' || (CASE WHEN i % 50 = 0 THEN 500 ELSE 200 END)
        || ',"http.method":"GET","user.id":"u' || (i % 1000) || '"}' AS attributes,
    0 AS dropped_attributes_count, '[]' AS events, 0 AS dropped_events_count,
    '[]' AS links, 0 AS dropped_links_count,
    CASE WHEN i % 50 = 0 THEN 2 ELSE 0 END AS status_code,
    '' AS status_message,
    'svc-' || ((i // 10) % 20) AS service_name,
    '{"service.name":"svc-' || ((i // 10) % 20) || '","host.name":"h1"}'
        AS resource_attributes,
    0 AS resource_dropped_attributes_count, '' AS resource_schema_url,
    'lib' AS scope_name, '1.0' AS scope_version, '{}' AS scope_attributes,
    0 AS scope_dropped_attributes_count, '' AS scope_schema_url
FROM (SELECT range AS i, 1000 + (hash(range) % 5000000) AS dur FROM range($n))
"""


def seed(store: DuckDBStore, spans: int, over_ns: int = HOUR) -> None:
    """``spans`` spread evenly over ``over_ns`` from ``T0``, then the 1,000-span trace."""
    con = store.cursor()
    con.execute(_SEED, {"n": spans, "t0": T0, "hour": over_ns})
    # one trace of 1,000 spans, in the middle of the hour
    con.execute(
        _SEED.replace("lpad(printf('%x', i // 10), 32, '0')", f"'{BIG_TRACE}'")
        .replace("lpad(printf('%x', i), 16, '0')", "lpad(printf('f%x', i), 16, '0')")
        .replace(
            "CASE WHEN i % 10 = 0 THEN '' ELSE lpad(printf('%x', i - i % 10), 16, '0') END",
            "CASE WHEN i = 0 THEN '' ELSE lpad(printf('f%x', 0), 16, '0') END",
        ),
        {"n": 1000, "t0": T0 + HOUR // 2, "hour": HOUR},
    )
    # what the store's write path records next to the spans (duckdb_schema.TRACE_TIMES)
    con.execute(duckdb_schema.TRACE_TIMES_OF.format(source="spans"))
    con.execute("CHECKPOINT")
    con.close()


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


def queries(q: DuckDBQuery) -> dict[str, Callable[[], object]]:
    last_10m = T0 + HOUR - 600 * 1_000_000_000
    return {
        "search: no filter (20 newest)": lambda: q.find_traces(TraceQuery()),
        "search: service": lambda: q.find_traces(TraceQuery(service="svc-7")),
        "search: service + operation": lambda: q.find_traces(
            TraceQuery(service="svc-7", operation="op-21")
        ),
        "search: service + min duration 4ms": lambda: q.find_traces(
            TraceQuery(service="svc-7", min_duration_ns=4_000_000)
        ),
        "search: service + errors": lambda: q.find_traces(
            TraceQuery(service="svc-3", errors_only=True)
        ),
        "search: attribute http.status_code=500": lambda: q.find_traces(
            TraceQuery(attributes=(AttributeFilter("http.status_code", 500),))
        ),
        "search: service + attribute + last 10 min": lambda: q.find_traces(
            TraceQuery(
                service="svc-7",
                start_unix_nano=last_10m,
                attributes=(AttributeFilter("user.id", "u70"),),
            )
        ),
        "load: trace of 10 spans": lambda: q.get_trace(bytes.fromhex(f"{4242:032x}")),
        "load: trace of 1,000 spans": lambda: q.get_trace(bytes.fromhex(BIG_TRACE)),
    }


def _ingest_batch(n: int) -> SpanBatch:
    b = SpanBatch()
    res, sc = Resource({"service.name": "ingest"}), InstrumentationScope("bench")
    for i in range(n):
        b.trace_id.append(i.to_bytes(16, "big"))
        b.span_id.append((i + 1).to_bytes(8, "big"))
        b.parent_span_id.append(b"")
        b.trace_state.append("")
        b.flags.append(0)
        b.name.append("ingest")
        b.kind.append(1)
        b.start_time_unix_nano.append(T0 + i)
        b.end_time_unix_nano.append(T0 + i + 1000)
        b.attributes.append({"i": i})
        b.dropped_attributes_count.append(0)
        b.events.append([])
        b.dropped_events_count.append(0)
        b.links.append([])
        b.dropped_links_count.append(0)
        b.status_code.append(0)
        b.status_message.append("")
        b.resource.append(res)
        b.scope.append(sc)
    return b


def ingest_rate(store: DuckDBStore, seconds: float, batch: SpanBatch) -> float:
    """Spans written per second through the store's write path for ``seconds``."""
    written = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        store.write([batch])
        written += len(batch)
    return written / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--with-ingest", action="store_true")
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument(
        "--shape",
        choices=("hour", "day"),
        default="hour",
        help="spread the spans over one hour (default) or 24 hours",
    )
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="seed --db and stop (for bench.query_http, which copies the file per run)",
    )
    parser.add_argument(
        "--duckdb-memory-limit",
        default=Settings.model_fields["duckdb_memory_limit"].default,
        help="as DUCKDB_MEMORY_LIMIT (default: obsvty's default; 0 or off: DuckDB's own)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        store = DuckDBStore(path, memory_limit=parse_size(args.duckdb_memory_limit))
        print(f"DuckDB memory limit: {args.duckdb_memory_limit}")
        began = time.perf_counter()
        seed(store, args.spans, HOUR * (24 if args.shape == "day" else 1))
        print(f"seeded {args.spans:,} + 1,000 spans in {time.perf_counter() - began:.1f}s")
        if args.seed_only:
            store.close()
            return
        q = DuckDBQuery(store)
        print(f"{'query':48} {'p50 ms':>8} {'p95 ms':>8}")
        for name, fn in queries(q).items():
            p50, p95 = timed(fn, args.rounds)
            print(f"{name:48} {p50:8.1f} {p95:8.1f}")
        if args.with_ingest:
            batch = _ingest_batch(5000)
            alone = ingest_rate(store, 5, batch)
            stop = threading.Event()
            served = [0]

            def query_loop() -> None:
                work = list(queries(q).values())
                while not stop.is_set():
                    work[served[0] % len(work)]()
                    served[0] += 1

            reader = threading.Thread(target=query_loop)
            reader.start()
            during = ingest_rate(store, 5, batch)
            stop.set()
            reader.join()
            print(f"store writes alone:          {alone:12,.0f} spans/s")
            print(f"store writes while querying: {during:12,.0f} spans/s ({served[0]} queries)")
        store.close()


if __name__ == "__main__":
    main()
