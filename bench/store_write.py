"""The DuckDB store's write path in one process, without a network: what a busy Python thread
does to it, and what checkpoints cost at a given interval.

    .venv/bin/python -m bench.store_write gil                 # span table and write, alone / busy
    .venv/bin/python -m bench.store_write checkpoints 100000  # CHECKPOINT every 100k spans
    .venv/bin/python -m bench.store_write checkpoints 128MB   # DuckDB's own trigger instead

``gil`` builds 5,000-span batches from ``bench.payloads`` and times ``span_table`` and a whole
``DuckDBStore.write`` with the process otherwise idle and next to a thread spinning in Python (as
obsvty's event loop is at saturation): the difference is waiting for the GIL.

``checkpoints`` writes ``--spans`` spans (5,000 per write, timestamps advancing as at 25,000
spans/s, one DuckDB thread) with a checkpoint every N rows (or at a size of write-ahead log), and
reports the CPU per span of the writes (not of making the batches) and the writes that took long
(the checkpoints).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.duckdb_gil import spinning
from bench.payloads import PayloadFactory
from obsvty.adapters.gc_tuning import tune_gc
from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb_store import DuckDBStore, span_table
from obsvty.domain.batches import SpanBatch

BATCH_REQUESTS = 50  # of 100 spans: the flusher's default batch of 5,000
SPANS_PER_SECOND = 25_000
LONG_WRITE_S = 0.15
MEMORY_LIMIT = 256 * 2**20


def batches(count: int, factory: PayloadFactory) -> Iterator[SpanBatch]:
    """``count`` batches of 5,000 spans whose times advance as they would at 25,000 spans/s,
    each made when it is asked for (a long run does not hold them all)."""
    now = time.time_ns()
    step_ns = BATCH_REQUESTS * factory.spans_per_request * 1_000_000_000 // SPANS_PER_SECOND
    for b in range(count):
        decoded = [
            TRACES.to_domain(TRACES.parse_protobuf(factory.payload(n, now + b * step_ns))).batch
            for n in range(b * BATCH_REQUESTS, (b + 1) * BATCH_REQUESTS)
        ]
        yield SpanBatch.concat(decoded)  # type: ignore[arg-type]


def _median_ms(work: Callable[[SpanBatch], object], items: list[SpanBatch], busy: bool) -> float:
    times = []
    with spinning(busy):
        for item in items:
            started = time.perf_counter()
            work(item)
            times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1000


def gil(factory: PayloadFactory) -> None:
    items = list(batches(40, factory))
    print(f"5,000-span batches, median of {len(items) // 2} (ms): alone / next to a busy thread")
    print(
        f"  span_table        {_median_ms(span_table, items[:20], False):7.1f} /"
        f" {_median_ms(span_table, items[20:], True):7.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "gil.duckdb", threads=1, memory_limit=MEMORY_LIMIT)
        try:

            def write(batch: SpanBatch) -> None:
                store.write([batch])

            alone = _median_ms(write, items[:20], False)
            busy = _median_ms(write, items[20:], True)
        finally:
            store.close()
    print(f"  DuckDBStore.write {alone:7.1f} / {busy:7.1f}")


def checkpoints(every: str, spans: int, factory: PayloadFactory) -> None:
    count = max(1, spans // (BATCH_REQUESTS * factory.spans_per_request))
    by_rows = every.isdigit()
    written = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoints.duckdb"
        store = DuckDBStore(
            path,
            threads=1,
            memory_limit=MEMORY_LIMIT,
            checkpoint_rows=int(every) if by_rows else 2**62,
        )
        if not by_rows:
            store.cursor().execute(f"SET checkpoint_threshold = '{every}'")
        long_writes = []
        cpu = 0.0
        for number, batch in enumerate(batches(count, factory), 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            store.write([batch])
            took = time.perf_counter() - started
            cpu += time.process_time() - started_cpu
            written += len(batch)
            if took > LONG_WRITE_S:
                long_writes.append((number, round(took * 1000)))
        store.close()
        size = path.stat().st_size
    print(f"checkpoint every {every}: {written:,} spans, {cpu / written * 1e6:.1f} us CPU per span")
    print(f"  writes over {LONG_WRITE_S * 1000:.0f} ms (write number, ms): {long_writes}")
    print(f"  file {size / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("gil", help="span table and write, alone and next to a busy thread")
    every = sub.add_parser("checkpoints", help="checkpoint stalls and CPU at an interval")
    every.add_argument("every", help="rows between checkpoints (100000), or a log size (128MB)")
    every.add_argument("--spans", type=int, default=1_200_000)
    args = parser.parse_args()
    tune_gc()
    factory = PayloadFactory(100)
    if args.command == "gil":
        gil(factory)
    else:
        checkpoints(args.every, args.spans, factory)


if __name__ == "__main__":
    main()
