"""Query speed as users see it: searches and trace loads over HTTP (native ``/api/v1``, Jaeger
classic and API v3) against a real obsvty subprocess serving a DuckDB file, plus each layer's
share in process (store query, use case, serialisation) on the same file.

The file is built once and reused: ``bench.ingest --keep`` (spans through the OTLP receivers) or
``bench.query --db FILE`` (seeded by SQL; ``--shape day`` spreads them over 24 hours). Every run
copies it, so the original stays as it was. The queries are derived from the data (its newest
span, its busiest service, a root operation, an attribute, traces of 10 and of the most spans),
with absolute times, so a file measured today answers the same tomorrow.

    # over HTTP, 20 rounds each after a warm-up, obsvty's defaults
    python -m bench.query_http http --db FILE [--rounds 20] [--env KEY=VALUE]
    # the layers in process: store query, use case, serialisation
    python -m bench.query_http layers --db FILE
    # ingestion at a fixed rate alone, then with HTTP queries back to back
    python -m bench.query_http ingest --db FILE --rate 250 --duration 20

Longer than the project's ~450-line bound: one command whose query list, HTTP timing and
per-layer timing must name the same queries.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

from bench.load import generate
from bench.payloads import factory_for
from bench.server import ObsvtyProcess

HOUR = 3600 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Data:
    """What the queries are made of, read from the file."""

    newest: int
    oldest: int
    service: str
    operation: str
    attr_key: str
    attr_value: str
    small_trace: str
    big_trace: str
    big_trace_spans: int


def inspect(path: Path) -> Data:
    con = duckdb.connect(str(path), read_only=True)
    try:
        oldest, newest = con.execute(
            "SELECT min(start_time_unix_nano), max(start_time_unix_nano) FROM spans"
        ).fetchone() or (0, 0)
        service = con.execute(
            "SELECT service_name FROM spans GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]  # type: ignore[index]
        operation = con.execute(
            "SELECT name FROM spans WHERE service_name = ? AND parent_span_id = '' "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            [service],
        ).fetchone()[0]  # type: ignore[index]
        sample = con.execute(
            "SELECT attributes FROM spans WHERE attributes <> '{}' LIMIT 1"
        ).fetchall()
        attrs = orjson.loads(sample[0][0]) if sample else {}
        key = next((k for k in ("http.route", "user.id") if k in attrs), None)
        key = key or next((k for k, v in attrs.items() if isinstance(v, str)), "")
        value = str(attrs.get(key, ""))
        row = con.execute(
            "SELECT trace_id FROM spans WHERE start_time_unix_nano >= ? "
            "GROUP BY 1 HAVING count(*) = 10 ORDER BY 1 LIMIT 1",
            [newest - 600 * 1_000_000_000],
        ).fetchone()
        small = row[0] if row else ""
        top = con.execute(
            "SELECT trace_id, count(*) FROM spans WHERE trace_id IN "
            "(SELECT trace_id FROM trace_times ORDER BY start_max - start_min DESC LIMIT 5) "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        big, big_n = (top[0], int(top[1])) if top else ("", 0)
    finally:
        con.close()
    return Data(newest, oldest, service, operation, key, value, small, big, big_n)


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    path: str
    params: list[tuple[str, str]]


def queries(d: Data, last_hour_only: bool = False) -> list[Query]:
    """The issue's queries, on this data: the last hour before its newest span (and, for data
    longer than an hour, the whole of it too)."""
    end = d.newest + 1
    spans = [("last hour", end - HOUR)]
    if not last_hour_only and d.newest - d.oldest > HOUR:
        spans.append(("whole range", d.oldest))
    out: list[Query] = []
    for label, start in spans:
        s = [("start", str(start))]
        us = [("start", str(start // 1000)), ("end", str(end // 1000 + 1))]
        rfc = [
            ("query.start_time_min", _rfc3339(start)),
            ("query.start_time_max", _rfc3339(end)),
        ]
        out += [
            Query(f"native service ({label})", "/api/v1/traces", [("service", d.service), *s]),
            Query(
                f"native service+operation ({label})",
                "/api/v1/traces",
                [("service", d.service), ("operation", d.operation), *s],
            ),
            Query(
                f"native attribute ({label})",
                "/api/v1/traces",
                [("attr", f"{d.attr_key}={d.attr_value}"), *s],
            ),
            Query(
                f"native errors+min 5ms ({label})",
                "/api/v1/traces",
                [("status", "error"), ("min_duration", "5ms"), *s],
            ),
            Query(
                f"native no filter limit 100 ({label})", "/api/v1/traces", [*s, ("limit", "100")]
            ),
            Query(
                f"jaeger classic service limit 20 ({label})",
                "/jaeger/api/traces",
                [("service", d.service), ("limit", "20"), *us],
            ),
            Query(
                f"jaeger v3 service 20 ({label})",
                "/jaeger/api/v3/traces",
                [("query.service_name", d.service), ("query.num_traces", "20"), *rfc],
            ),
        ]
    if d.small_trace:
        out.append(Query("native trace of 10 spans", f"/api/v1/traces/{d.small_trace}", []))
    if d.big_trace:
        n = f"{d.big_trace_spans:,}"
        out.append(Query(f"native trace of {n} spans", f"/api/v1/traces/{d.big_trace}", []))
        out.append(
            Query(f"jaeger classic trace of {n} spans", f"/jaeger/api/traces/{d.big_trace}", [])
        )
        out.append(
            Query(f"jaeger v3 trace of {n} spans", f"/jaeger/api/v3/traces/{d.big_trace}", [])
        )
    return out


def _rfc3339(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{rest:09d}Z"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


@contextmanager
def serving(db: Path, settings: dict[str, str]) -> Iterator[ObsvtyProcess]:
    """obsvty with its defaults (plus ``settings``) on a copy of ``db``."""
    with tempfile.TemporaryDirectory(prefix="obsvty-qbench-") as tmp:
        server = ObsvtyProcess(Path(tmp), settings)
        shutil.copyfile(db, server.db_path)
        with server:
            yield server
            server.stop()


def time_http(client: httpx.Client, q: Query, rounds: int) -> tuple[float, float, int]:
    """p50 and p95 ms over ``rounds`` after a warm-up, and the answer's size in bytes."""
    first = client.get(q.path, params=q.params)
    first.raise_for_status()
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        r = client.get(q.path, params=q.params)
        samples.append((time.perf_counter() - began) * 1000)
        r.raise_for_status()
    p50, p95 = percentiles(samples)
    return p50, p95, len(first.content)


def run_http(args: argparse.Namespace) -> None:
    data = inspect(args.db)
    print(f"data: {data}")
    with serving(args.db, dict(args.env)) as server:
        base = f"http://127.0.0.1:{server.api_port}"
        with httpx.Client(base_url=base, timeout=60) as client:
            _wait(client)
            print(f"load average before: {os.getloadavg()}")
            print(f"{'query (HTTP)':52} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>10}")
            for q in queries(data):
                if args.only and args.only not in q.name:
                    continue
                p50, p95, size = time_http(client, q, args.rounds)
                print(f"{q.name:52} {p50:8.1f} {p95:8.1f} {size:10,}", flush=True)
            print(f"load average after: {os.getloadavg()}")


def _wait(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/api/v1/services").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the query API did not answer")


# ----------------------------------------------------------------------------------- layers


def run_layers(args: argparse.Namespace) -> None:
    """Each search's time in the store (the port), the use case, and the answer's encoding, in
    process on a copy of the file, with obsvty's default DuckDB settings."""
    from fastapi.testclient import TestClient

    from obsvty.adapters.api import jaeger
    from obsvty.adapters.api.query_api import create_query_app
    from obsvty.adapters.storage.duckdb.query import DuckDBQuery
    from obsvty.adapters.storage.duckdb.store import DuckDBStore
    from obsvty.application.query import QueryService
    from obsvty.config import Settings, parse_size

    data = inspect(args.db)
    with tempfile.TemporaryDirectory(prefix="obsvty-qlayers-") as tmp:
        path = Path(tmp) / "bench.duckdb"
        shutil.copyfile(args.db, path)
        limit = parse_size(Settings.model_fields["duckdb_memory_limit"].default)
        store = DuckDBStore(path, memory_limit=limit)
        port = DuckDBQuery(store)
        service = QueryService(port)
        app = create_query_app(service, routers={"/jaeger": jaeger.create_jaeger_router(service)})
        client = TestClient(app)
        print(f"load average before: {os.getloadavg()}")
        print(f"{'query':52} {'store':>8} {'usecase':>8} {'in-proc':>8}  (p50 ms)")
        for q in queries(data):
            if args.only and args.only not in q.name:
                continue
            steps = _layers(q, port, service, client)
            cols = " ".join(f"{percentiles(_times(fn, args.rounds))[0]:8.1f}" for fn in steps)
            print(f"{q.name:52} {cols}", flush=True)
        print(f"load average after: {os.getloadavg()}")
        store.close()


def _layers(q: Query, port: Any, service: Any, client: Any) -> list[Callable[[], object]]:
    """Store call, use case (the route's work before encoding), whole route in process."""
    from obsvty.adapters.api.query_params import parse_trace_id

    whole = lambda: client.get(q.path, params=q.params).raise_for_status()  # noqa: E731
    if q.path.count("/") > 3 and "/traces/" in q.path:
        trace_id = parse_trace_id("trace_id", q.path.rsplit("/", 1)[1])
        return [lambda: port.get_trace(trace_id), lambda: service.get_trace(trace_id), whole]
    query = _trace_query(q)
    if q.path.startswith("/jaeger"):
        return [lambda: port.find_traces(query), lambda: service.find_trace_spans(query), whole]
    return [lambda: port.find_traces(query), lambda: service.find_traces(query), whole]


def _trace_query(q: Query) -> Any:
    from obsvty.adapters.api.query_params import parse_attribute_filter, parse_duration
    from obsvty.ports.query import TraceQuery

    p = dict(q.params)
    if q.path == "/jaeger/api/traces":
        start, end = int(p["start"]) * 1000, int(p["end"]) * 1000 + 1000
    elif q.path == "/jaeger/api/v3/traces":
        from obsvty.adapters.api.jaeger_params import rfc3339_ns

        start = rfc3339_ns("s", p["query.start_time_min"])
        end = rfc3339_ns("e", p["query.start_time_max"]) + 1
    else:
        start, end = int(p["start"]), None
    attr = p.get("attr")
    return TraceQuery(
        service=p.get("service") or p.get("query.service_name"),
        operation=p.get("operation"),
        start_unix_nano=start,
        end_unix_nano=end,
        min_duration_ns=parse_duration("m", p["min_duration"]) if "min_duration" in p else None,
        errors_only=p.get("status") == "error",
        attributes=(parse_attribute_filter("attr", attr),) if attr else (),
        limit=int(p.get("limit") or p.get("query.num_traces") or 20),
    )


def _times(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


# ----------------------------------------------------------------------------------- ingest


def _query_loop(
    base: str,
    work: list[Query],
    stop: threading.Event,
    served: list[float],
    failures: list[str],
    timeout: float,
) -> None:
    """The queries one after another until ``stop``: each one's ms in ``served``, or why it
    failed (an error status, a timeout after ``timeout`` seconds) in ``failures``."""
    with httpx.Client(base_url=base, timeout=timeout) as client:
        _wait(client)  # the query API may start after the OTLP listener that was waited for
        n = 0
        while not stop.is_set():
            q = work[n % len(work)]
            n += 1
            began = time.perf_counter()
            try:
                client.get(q.path, params=q.params).raise_for_status()
                served.append((time.perf_counter() - began) * 1000)
            except httpx.HTTPError as exc:
                failures.append(f"{q.name}: {exc!r}")


def run_ingest(args: argparse.Namespace) -> None:
    """Ingestion at ``--rate`` requests/s of 100 spans into obsvty serving a copy of the file,
    alone and then with HTTP queries back to back (one client), alternated ``--rounds`` times."""
    data = inspect(args.db)
    work = [q for q in queries(data, last_hour_only=True) if "trace of" not in q.name]
    factory = factory_for("traces", 100)
    for round_ in range(args.rounds):
        for with_queries in (round_ % 2 == 1, round_ % 2 == 0):
            with serving(args.db, dict(args.env)) as server:
                base = f"http://127.0.0.1:{server.api_port}"
                stop = threading.Event()
                served: list[float] = []
                failures: list[str] = []

                reader = (
                    threading.Thread(
                        target=_query_loop,
                        args=(base, work, stop, served, failures, args.query_timeout),
                    )
                    if with_queries
                    else None
                )
                before = os.getloadavg()
                if reader:
                    reader.start()
                load = asyncio.run(
                    generate(
                        "grpc",
                        factory,
                        grpc_target=server.grpc_target,
                        http_url=server.http_url,
                        concurrency=64,
                        duration=args.duration,
                        warmup=1.0,
                        rate=args.rate,
                    )
                )
                stop.set()
                if reader:
                    reader.join()
                rate = load.measured_accepted_requests * 100 / max(load.measured_seconds, 1e-9)
                lat = sorted(load.latencies)
                p99 = lat[max(0, round(0.99 * len(lat)) - 1)] * 1000 if lat else float("nan")
                refused = sum(load.errors.values())
                label = "with queries" if with_queries else "alone       "
                extra = ""
                if with_queries:
                    q50, q95 = percentiles(served) if served else (float("nan"),) * 2
                    extra = (
                        f" | {len(served)} queries p50 {q50:.0f} p95 {q95:.0f} max "
                        f"{max(served, default=0):.0f} ms, {len(failures)} failed"
                    )
                print(
                    f"round {round_ + 1} {label}: {rate:9,.0f} spans/s ingest p99 {p99:6.1f} ms, "
                    f"{refused} refused/errors{extra}; load {before[0]:.1f}",
                    flush=True,
                )
                if load.errors:
                    print(f"   refused/errors by kind: {dict(load.errors)}")
                for f in failures[:3]:
                    print(f"   failed: {f}")


def run_prepare(args: argparse.Namespace) -> None:
    """Adds one trace of ``--big-trace`` spans (typed attributes, an event on every 4th span)
    through the store's write path, its spans starting over 10 s in the middle of the data."""
    from obsvty.adapters.storage.duckdb.store import DuckDBStore
    from obsvty.domain.batches import SpanBatch
    from obsvty.domain.model import InstrumentationScope, Resource, SpanEvent

    data = inspect(args.db)
    n = args.big_trace
    begin = (data.oldest + data.newest) // 2
    trace_id = bytes.fromhex("b" * 32)
    resources = [
        Resource({"service.name": f"big-{k}", "host.name": f"node-{k}", "service.version": "1"})
        for k in range(6)
    ]
    scope = InstrumentationScope("bench.big", "1.0")
    b = SpanBatch()
    for i in range(n):
        start = begin + i * (10_000_000_000 // n)
        b.trace_id.append(trace_id)
        b.span_id.append((0xB000 + i).to_bytes(8, "big"))
        b.parent_span_id.append(b"" if i == 0 else (0xB000 + (i - 1) // 4).to_bytes(8, "big"))
        b.trace_state.append("")
        b.flags.append(1)
        b.name.append(f"op-{i % 25}")
        b.kind.append(2 if i == 0 else 3)
        b.start_time_unix_nano.append(start)
        b.end_time_unix_nano.append(start + 5_000_000)
        b.attributes.append(
            {
                "http.route": f"/api/v1/item/{i % 40}",
                "http.response.status_code": 200,
                "app.cache.hit": i % 3 == 0,
                "app.ratio": i / n,
                "db.statement": "SELECT * FROM items WHERE id = ?",
            }
        )
        b.dropped_attributes_count.append(0)
        b.events.append(
            [SpanEvent(start + 1000, "cache.miss", {"cache.key": f"k{i}"})] if i % 4 == 0 else []
        )
        b.dropped_events_count.append(0)
        b.links.append([])
        b.dropped_links_count.append(0)
        b.status_code.append(0)
        b.status_message.append("")
        b.resource.append(resources[i % len(resources)])
        b.scope.append(scope)
    store = DuckDBStore(args.db)
    store.write([b])
    store.close()
    print(f"added a trace of {n:,} spans ({trace_id.hex()}) at {begin}")


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip().upper(), value


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.query_http", description=__doc__)
    p.add_argument("mode", choices=("http", "layers", "ingest", "prepare"))
    p.add_argument("--db", type=Path, required=True, help="a DuckDB file; copied per run")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--only", default="", help="only the queries whose name contains this")
    p.add_argument("--env", type=_env_pair, action="append", default=[], help="KEY=VALUE")
    p.add_argument("--rate", type=float, default=250.0, help="ingest: requests/s of 100 spans")
    p.add_argument("--duration", type=float, default=20.0, help="ingest: measured seconds")
    p.add_argument("--big-trace", type=int, default=1000, help="prepare: spans of the trace")
    p.add_argument("--query-timeout", type=float, default=10.0, help="ingest: seconds")
    args = p.parse_args(argv)
    modes = {"http": run_http, "layers": run_layers, "ingest": run_ingest, "prepare": run_prepare}
    modes[args.mode](args)


if __name__ == "__main__":
    main()
