"""The DuckDB store's write path in one process, without a network: what a busy Python thread
does to it, and what checkpoints cost at a given interval.

    .venv/bin/python -m bench.store_write gil                 # span table and write, alone / busy
    .venv/bin/python -m bench.store_write checkpoints 100000  # CHECKPOINT every 100k spans
    .venv/bin/python -m bench.store_write checkpoints 128MB   # DuckDB's own trigger instead
    .venv/bin/python -m bench.store_write growth spread       # ms per write as the store fills
    .venv/bin/python -m bench.store_write startup             # opening a store of 3M spans
    .venv/bin/python -m bench.store_write retention           # checkpoints under a size cap

``gil`` builds 5,000-span batches from ``bench.payloads`` and times ``span_table`` and a whole
``DuckDBStore.write`` with the process otherwise idle and next to a thread spinning in Python (as
obsvty's event loop is at saturation): the difference is waiting for the GIL.

``checkpoints`` writes ``--spans`` spans (5,000 per write, timestamps advancing as at 25,000
spans/s, one DuckDB thread) with a checkpoint every N rows (or at a size of write-ahead log), and
reports the CPU per span of the writes (not of making the batches) and the writes that took long
(the checkpoints).

``growth STARTS`` writes ``--spans`` spans (``--batch`` per write, arrivals advancing as at 25,000
spans/s, one DuckDB thread) and prints, every ``--every`` spans, the median and the slowest write
and the CPU per span of those writes, then the whole run's CPU per span. Each batch is one Arrow
table of bench spans (as the compiled decoder makes them) with fresh random ids and start times
by STARTS: ``fresh`` (the batch's arrival), ``spread`` (uniformly up to 10 minutes before it, as
long requests, batch jobs or a client's retry queue send them) or ``long`` (fresh, and one span
of each batch 10 minutes before). What it shows is the cost of de-duplicating spans against the
stored ones as the store fills.

``startup`` makes a store of ``--spans`` synthetic spans (SQL-generated, then checkpointed) and
times opening it with ``DuckDBStore`` (wall, CPU, RSS): the part that grows
with the store is refilling the span key set from the newest rows. RSS is the process's before
and after opening (the generation's own peak comes first).

``retention`` writes ``--spans`` spans (5,000 per write, as fast as one writer thread goes after
a pause of ``--pause`` s each, a third of each batch starting up to 10 minutes early) into a store
whose retention service holds ``--max-db-size`` (checked every 5 s) and, with ``--retention``,
deletes spans older than that; a reader runs a services query every 2 s. It reports every
checkpoint the store made (the writes' and retention's own: writes wait for each), the longest
write, and what retention deleted (after a last pass once the writes end): the in-process view
of what the soak shows as refusals.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa

from bench.duckdb_gil import spinning
from bench.payloads import PayloadFactory
from obsvty.adapters.gc_tuning import tune_gc
from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import SLOW_CHECKPOINT_SECONDS, DuckDBStore
from obsvty.adapters.storage.duckdb.tables import span_table
from obsvty.application.retention import RetentionService
from obsvty.config.values import parse_size
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import SpanBatch
from obsvty.domain.model import Signal

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


TEN_MINUTES_NS = 600 * 10**9
STARTS = ("fresh", "spread", "long")


def _hex_ids(count: int, size: int) -> pa.Array:
    """``count`` random ids of ``size`` bytes as lower-case hex."""
    text = os.urandom(count * size).hex()
    width = 2 * size
    return pa.array([text[i : i + width] for i in range(0, width * count, width)], pa.string())


def growing_tables(
    template: pa.Table, count: int, starts: str, seed: int = 1
) -> Iterator[pa.Table]:
    """``count`` copies of ``template`` (one batch of spans) with fresh random ids, arriving as at
    25,000 spans/s, their start times by ``starts`` (see the module docstring)."""
    rows = template.num_rows
    step_ns = rows * 1_000_000_000 // SPANS_PER_SECOND
    durations = template["duration_ns"]
    rng = random.Random(seed)
    now = time.time_ns()
    for b in range(count):
        arrival = now + b * step_ns
        if starts == "spread":
            begin = [arrival - rng.randrange(TEN_MINUTES_NS) for _ in range(rows)]
        else:
            begin = [arrival - step_ns + i * step_ns // rows for i in range(rows)]
            if starts == "long":
                begin[rng.randrange(rows)] = arrival - TEN_MINUTES_NS
        start = pa.array(begin, pa.int64())
        columns = {
            "trace_id": _hex_ids(rows, 16),
            "span_id": _hex_ids(rows, 8),
            "start_time_unix_nano": start,
            "end_time_unix_nano": pa.array(
                [s + d for s, d in zip(begin, durations.to_pylist(), strict=True)], pa.int64()
            ),
        }
        table = template
        for name, column in columns.items():
            table = table.set_column(table.schema.get_field_index(name), name, column)
        yield table


def growth(starts: str, spans: int, batch: int, every: int, factory: PayloadFactory) -> None:
    requests = max(1, batch // factory.spans_per_request)
    template = next(iter(_template_tables(requests, factory)))
    count = max(1, spans // template.num_rows)
    print(
        f"{starts}: {count * template.num_rows:,} spans, {template.num_rows:,} per write; per "
        f"{every:,} spans: median / slowest write (ms), CPU per span (us)"
    )
    written = window_spans = 0
    window: list[float] = []
    cpu = window_cpu = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "growth.duckdb", threads=1, memory_limit=MEMORY_LIMIT)
        try:
            for table in growing_tables(template, count, starts):
                started, started_cpu = time.perf_counter(), time.process_time()
                store.write([ArrowBatch(Signal.TRACES, table)])
                window.append(time.perf_counter() - started)
                took_cpu = time.process_time() - started_cpu
                cpu += took_cpu
                window_cpu += took_cpu
                written += table.num_rows
                window_spans += table.num_rows
                if window_spans >= every:
                    print(
                        f"  {written:>10,}  {statistics.median(window) * 1000:6.1f} /"
                        f" {max(window) * 1000:6.1f}   {window_cpu / window_spans * 1e6:5.1f}"
                    )
                    window, window_spans, window_cpu = [], 0, 0.0
        finally:
            store.close()
    print(f"  all: {cpu / written * 1e6:.2f} us CPU per span")


_SYNTHETIC_SPANS = """
INSERT INTO spans SELECT md5(i::VARCHAR), substr(md5((i * 7)::VARCHAR), 1, 16), '', '', 0, 'op',
    1, {start:d} + i * 40000, {start:d} + i * 40000 + 1000, 1000, '{{}}', 0, '[]', 0, '[]', 0, 0,
    '', 'svc', '{{}}', 0, '', 'scope', '1', '{{}}', 0, ''
FROM range({count:d}) AS t(i)
"""


def startup(spans: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "startup.duckdb"
        DuckDBStore(path, threads=1).close()
        con = duckdb.connect(str(path))
        con.execute(_SYNTHETIC_SPANS.format(start=time.time_ns(), count=spans))
        con.execute("CHECKPOINT")
        con.close()
        gc.collect()
        process = psutil.Process()
        rss = process.memory_info().rss
        started, started_cpu = time.perf_counter(), time.process_time()
        store = DuckDBStore(path, threads=1, memory_limit=MEMORY_LIMIT)
        took, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        opened = process.memory_info().rss
        store.close()
    print(
        f"open a store of {spans:,} spans: {took:.2f} s, {cpu:.2f} s CPU; RSS"
        f" +{(opened - rss) / 2**20:.0f} MiB with it open"
    )


OLD_SHARE = 0.3  # of each batch's spans, starting up to 10 minutes before they arrive


def retention(spans: int, max_bytes: int, max_age: float | None, pause: float) -> None:
    template = next(iter(_template_tables(BATCH_REQUESTS, PayloadFactory(100))))
    count = max(1, spans // template.num_rows)
    old_rows = int(template.num_rows * OLD_SHARE)
    checkpoints: list[float] = []
    longest_write = 0.0
    done = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "retention.duckdb", memory_limit=MEMORY_LIMIT)
        store.observe_checkpoints(checkpoints.append)

        def limits() -> RetentionService:
            return RetentionService(
                DuckDBRetention(store), max_age_seconds=max_age, max_bytes=max_bytes, interval=30
            )

        service = limits()
        reader = threading.Thread(target=_services_every_2s, args=(store, done), daemon=True)
        service.start()
        reader.start()
        fresh = growing_tables(template, count, "fresh", seed=1)
        late = growing_tables(template, count, "spread", seed=2)
        started = time.perf_counter()
        try:
            for table, early in zip(fresh, late, strict=True):
                time.sleep(pause)
                batch = pa.concat_tables([table.slice(old_rows), early.slice(0, old_rows)])
                write_started = time.perf_counter()
                store.write([ArrowBatch(Signal.TRACES, batch)])
                longest_write = max(longest_write, time.perf_counter() - write_started)
            elapsed = time.perf_counter() - started
        finally:
            done.set()
            service.stop()
            reader.join()
        try:  # a last pass (a stopped service skips the size limit): a short run shows it too
            deleted = limits().run_once()["spans"] + service.deleted_totals()["spans"]
            used = DuckDBRetention(store).used_bytes()
        finally:
            store.close()
    slow = sum(1 for c in checkpoints if c >= SLOW_CHECKPOINT_SECONDS)
    print(
        f"{count * template.num_rows:,} spans in {elapsed:.0f} s, {deleted:,} deleted by retention,"
        f" {used / 2**20:.0f} MiB in use at the end; {len(checkpoints)} checkpoints, {slow} over"
        f" 1 s, median {statistics.median(checkpoints or [0.0]) * 1000:.0f} ms, longest"
        f" {max(checkpoints or [0.0]) * 1000:.0f} ms; longest write {longest_write * 1000:.0f} ms"
    )


def _services_every_2s(store: DuckDBStore, done: threading.Event) -> None:
    cursor = store.cursor()
    while not done.wait(2.0):
        cursor.execute("SELECT service_name, count(*) FROM spans GROUP BY 1").fetchall()
    cursor.close()


def _template_tables(requests: int, factory: PayloadFactory) -> Iterator[pa.Table]:
    now = time.time_ns()
    decoded = [
        TRACES.to_domain(TRACES.parse_protobuf(factory.payload(n, now))).batch
        for n in range(requests)
    ]
    yield span_table(SpanBatch.concat(decoded))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("gil", help="span table and write, alone and next to a busy thread")
    every = sub.add_parser("checkpoints", help="checkpoint stalls and CPU at an interval")
    every.add_argument("every", help="rows between checkpoints (100000), or a log size (128MB)")
    every.add_argument("--spans", type=int, default=1_200_000)
    grow = sub.add_parser("growth", help="ms per write as the store fills, by span start times")
    grow.add_argument("starts", choices=STARTS)
    grow.add_argument("--spans", type=int, default=3_000_000)
    grow.add_argument("--batch", type=int, default=5_000, help="spans per write")
    grow.add_argument("--every", type=int, default=250_000, help="spans per line printed")
    start = sub.add_parser("startup", help="opening a store of many spans (the key set refill)")
    start.add_argument("--spans", type=int, default=3_000_000)
    cap = sub.add_parser("retention", help="checkpoints while retention holds a size cap")
    cap.add_argument("--spans", type=int, default=12_000_000)
    cap.add_argument("--max-db-size", default="300MB")
    cap.add_argument("--retention", type=float, default=None, help="max age, seconds")
    cap.add_argument("--pause", type=float, default=0.03, help="seconds before each write")
    args = parser.parse_args()
    tune_gc()
    factory = PayloadFactory(100)
    if args.command == "gil":
        gil(factory)
    elif args.command == "startup":
        startup(args.spans)
    elif args.command == "retention":
        retention(args.spans, parse_size(args.max_db_size) or 0, args.retention, args.pause)
    elif args.command == "growth":
        growth(args.starts, args.spans, args.batch, args.every, factory)
    else:
        checkpoints(args.every, args.spans, factory)


if __name__ == "__main__":
    main()
