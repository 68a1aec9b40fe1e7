"""The in-process cost of decoding one export request into the store's Arrow table, compiled
decoder against the reference one, per item (span, log record, data point), in CPU time of the
decoding thread:

    .venv/bin/python -m bench.decode --signal metrics                    # protobuf, 100 items
    .venv/bin/python -m bench.decode --signal metrics --encoding json --items 100
    .venv/bin/python -m bench.decode --signal logs --store mongodb       # decode + documents

``native``: ``codec.decode_protobuf(payload)`` (or ``decode_json``), which for the signals the
compiled decoder reads is the C decode plus pyarrow's import of its columns; ``reference``: the
same through ``codec.reference()`` plus the table the store would build from its batch
(``duckdb.tables.span_table`` / ``log_table`` / ``metric_table``). No network, no store: the
ingest hot path's decoding alone, the median of several rounds.

``--store mongodb``: the decode plus the MongoDB documents built from its batch (as
``MongoDBStore.write`` builds them, content ids included, before any insert): ``native`` decodes
through ``codec.document_form()`` and builds them column-wise from the Arrow batch
(``mongodb_documents.arrow_documents``); ``reference`` decodes the reference way and builds them
from the list-based batch (``span_documents`` / ``log_documents`` / ``metric_documents``). Each
decode alone is given too: the receivers' share, the documents being the flusher's.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.payloads import SIGNALS, factory_for
from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.storage.duckdb.tables import log_table, metric_table, span_table
from obsvty.adapters.storage.mongodb import store as mongodb_store
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Signal

_TABLES: dict[type[Any], Callable[[Any], Any]] = {
    SpanBatch: span_table,
    LogBatch: log_table,
    MetricBatch: metric_table,
}


def _table(batch: Any) -> Any:
    return batch.table if isinstance(batch, ArrowBatch) else _TABLES[type(batch)](batch)


def _documents(batch: Any) -> Any:
    return list(mongodb_store.documents(batch)[1])


def per_item_us(run: Callable[[], object], items: int, rounds: int, seconds: float) -> float:
    """Median thread CPU time of ``run`` per item, in microseconds."""
    run()  # warm caches and the allocator
    start = time.thread_time()
    run()
    one = max(time.thread_time() - start, 1e-6)
    calls = max(1, int(seconds / rounds / one))
    samples = []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(calls):
            run()
        samples.append((time.thread_time() - start) / calls)
    return statistics.median(samples) / items * 1e6


def measure(
    signal: str,
    encoding: str,
    items: int,
    rounds: int = 5,
    seconds: float = 2.0,
    store: str = "duckdb",
) -> dict[str, float]:
    """Microseconds of thread CPU per item: ``native`` (``nan`` when the compiled decoder does
    not read this signal and encoding) and ``reference``; ``store``: what is built from the
    batch, the DuckDB table or the MongoDB documents."""
    factory = factory_for(signal, items)  # type: ignore[arg-type]
    bodies = [
        factory.json_payload(n) if encoding == "json" else factory.payload(n) for n in range(4)
    ]
    codec = CODECS[Signal(signal)]
    reference = codec.reference()
    build = _table
    if store == "mongodb":
        codec, build = codec.document_form(), _documents

    def decode(c: Any, then: Callable[[Any], object] = build) -> Callable[[], object]:
        method = c.decode_json if encoding == "json" else c.decode_protobuf
        return lambda: [then(method(body).batch) for body in bodies]

    total = items * len(bodies)
    compiled = codec.native_json if encoding == "json" else codec.native
    native = compiled is not None and compiled(bodies[0]) is not None
    result = {
        "native": per_item_us(decode(codec), total, rounds, seconds) if native else float("nan"),
        "reference": per_item_us(decode(reference), total, rounds, seconds),
    }
    if store == "mongodb":  # the receivers' part (the rest is the flusher's)
        nothing = id  # the batch only decoded
        result["native decode"] = (
            per_item_us(decode(codec, nothing), total, rounds, seconds) if native else math.nan
        )
        result["reference decode"] = per_item_us(decode(reference, nothing), total, rounds, seconds)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--signal", choices=SIGNALS, default="traces")
    parser.add_argument("--encoding", choices=("protobuf", "json"), default="protobuf")
    parser.add_argument("--items", type=int, default=100, help="items per request")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="per decoder, all rounds")
    parser.add_argument(
        "--store",
        choices=("duckdb", "mongodb"),
        default="duckdb",
        help="build the DuckDB table or the MongoDB documents from each batch",
    )
    args = parser.parse_args(argv)
    result = measure(args.signal, args.encoding, args.items, args.rounds, args.seconds, args.store)
    native, reference = result["native"], result["reference"]
    print(
        f"{args.signal} over {args.encoding}, {args.items} items per request, "
        f"{args.store} rows, thread CPU:"
    )
    print(f"  native     {native:8.2f} us/item  ({native * args.items:9.0f} us per request)")
    print(f"  reference  {reference:8.2f} us/item  ({reference * args.items:9.0f} us per request)")
    if not math.isnan(native):
        print(f"  reference / native: {reference / native:.1f}x")
    for name in ("native decode", "reference decode"):
        if name in result:
            print(f"  of which {name}: {result[name]:.2f} us/item")


if __name__ == "__main__":
    main()
