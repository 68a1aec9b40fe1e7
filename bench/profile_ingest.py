"""The server's ingest work in one process, stage by stage, without any network: parse the
protobuf, convert to columns, and write flush-sized batches into a fresh DuckDB file.

    .venv/bin/python -m bench.profile_ingest --requests 500            # per-stage timings
    .venv/bin/python -m bench.profile_ingest --requests 500 --profile  # plus cProfile top 30

It is how hot-path changes are measured before the end-to-end ``bench.ingest`` run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from bench.payloads import PayloadFactory
from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.duckdb.tables import span_table
from obsvty.domain.batches import SpanBatch


def run(requests: int, spans_per_request: int, flush_batch_size: int, threads: int | None) -> None:
    factory = PayloadFactory(spans_per_request)
    payloads = [factory.payload(n) for n in range(requests)]
    spans = requests * spans_per_request

    t0 = time.perf_counter()
    messages = [TRACES.parse_protobuf(p) for p in payloads]
    t1 = time.perf_counter()
    decoded = [TRACES.to_domain(m) for m in messages]
    t2 = time.perf_counter()
    per_flush = max(1, flush_batch_size // spans_per_request)
    groups = [
        [d.batch for d in decoded[i : i + per_flush]] for i in range(0, len(decoded), per_flush)
    ]
    arrow_seconds = 0.0
    for group in groups:
        a = time.perf_counter()
        merged = group[0] if len(group) == 1 else SpanBatch.concat(group)  # type: ignore[arg-type]
        span_table(merged)  # type: ignore[arg-type]
        arrow_seconds += time.perf_counter() - a
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "profile.duckdb", threads=threads)
        t3 = time.perf_counter()
        for group in groups:
            store.write(group)
        t4 = time.perf_counter()
        store.close()

    def line(stage: str, seconds: float) -> str:
        return f"  {stage:<28} {seconds * 1000:9.1f} ms  {spans / seconds:12,.0f} spans/s"

    print(f"{requests} requests x {spans_per_request} spans, flushes of {per_flush} requests")
    print(line("protobuf parse", t1 - t0))
    print(line("to_domain (columns)", t2 - t1))
    print(line("Arrow + JSON (span_table)", arrow_seconds))
    print(line("store.write (incl. Arrow)", t4 - t3))
    print(line("total receive+store", (t2 - t0) + (t4 - t3)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--spans-per-request", type=int, default=100)
    parser.add_argument("--flush-batch-size", type=int, default=5000)
    parser.add_argument("--duckdb-threads", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="print the cProfile top 30")
    args = parser.parse_args()
    call = (args.requests, args.spans_per_request, args.flush_batch_size, args.duckdb_threads)
    if not args.profile:
        run(*call)
        return
    profiler = cProfile.Profile()
    profiler.runcall(run, *call)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
