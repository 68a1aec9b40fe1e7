"""The soak benchmark (``make soak``, minutes, not in CI): steady OTLP/gRPC load at half the
measured maximum for a long time, with periodic queries, recording per window the server's RSS,
request latency percentiles and throughput, and DuckDB's own memory (the server's
``obsvty_duckdb_memory_bytes`` and ``obsvty_duckdb_temporary_storage_bytes``, scraped from
``/metrics`` once per window) to tell whether DuckDB is what grows; then a graceful stop and a
check that every acknowledged span is stored exactly once.

    .venv/bin/python -m bench.soak                       # 10 minutes at half the maximum
    .venv/bin/python -m bench.soak --duration 180 --window 15 --env ACK_MODE=durable
    .venv/bin/python -m bench.soak --rate 40             # skip the maximum probe

Exit code 1 when RSS grew after warm-up (last windows' median above the first post-warm-up
windows' median by more than ``--rss-growth``), an acknowledged span is missing or doubled, or the
server did not stop cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import _env_pair
from bench.load import GrpcClient, generate
from bench.payloads import PayloadFactory
from bench.server import ObsvtyProcess, free_port
from bench.verify import check_store

QUERIES = ("/api/v1/services", "/jaeger/api/services")
MiB = 1024 * 1024
DUCKDB_GAUGES = {
    "obsvty_duckdb_memory_bytes": "duckdb_memory_mib",
    "obsvty_duckdb_temporary_storage_bytes": "duckdb_temp_mib",
}


def duckdb_memory_mib(metrics_text: str) -> dict[str, float]:
    """DuckDB's memory and temp-directory use, in MiB, from a ``/metrics`` scrape (the keys of
    the gauges the server exports; none when it has no DuckDB store)."""
    return {
        DUCKDB_GAUGES[family.name]: round(family.samples[0].value / MiB, 1)
        for family in text_string_to_metric_families(metrics_text)
        if family.name in DUCKDB_GAUGES and family.samples
    }


@dataclass
class Window:
    started_s: float
    acked_requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    query_latencies: list[float] = field(default_factory=list)
    query_errors: int = 0
    rss_mib: float = 0.0
    duckdb_memory_mib: float | None = None
    duckdb_temp_mib: float | None = None

    def summary(self, seconds: float, spans_per_request: int) -> dict[str, float | None]:
        lat = sorted(self.latencies) or [0.0]
        q = sorted(self.query_latencies) or [0.0]

        def pct(values: list[float], p: float) -> float:
            return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1)

        return {
            "t_s": round(self.started_s),
            "spans_per_s": round(self.acked_requests * spans_per_request / seconds),
            "p50_ms": pct(lat, 0.50),
            "p95_ms": pct(lat, 0.95),
            "p99_ms": pct(lat, 0.99),
            "errors": self.errors,
            "query_p50_ms": pct(q, 0.50),
            "query_errors": self.query_errors,
            "rss_mib": round(self.rss_mib, 1),
            "duckdb_memory_mib": self.duckdb_memory_mib,
            "duckdb_temp_mib": self.duckdb_temp_mib,
        }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    p.add_argument("--duration", type=float, default=600.0, help="seconds of steady load")
    p.add_argument("--window", type=float, default=30.0, help="seconds per reported window")
    p.add_argument("--warmup-windows", type=int, default=2, help="windows before RSS is judged")
    p.add_argument("--rate", type=float, default=None, help="requests/s (default: half the max)")
    p.add_argument("--probe", type=float, default=15.0, help="seconds of the maximum probe")
    p.add_argument("--concurrency", type=int, default=8, help="in flight during the probe")
    p.add_argument("--spans-per-request", type=int, default=100)
    p.add_argument("--query-every", type=float, default=2.0, help="seconds between queries")
    p.add_argument("--rss-growth", type=float, default=0.10, help="allowed RSS growth (ratio)")
    p.add_argument("--env", type=_env_pair, action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", type=Path, default=None, help="write the report as JSON here")
    return p


async def _probe_max(server: ObsvtyProcess, args: argparse.Namespace) -> float:
    probe = await generate(
        "grpc",
        PayloadFactory(args.spans_per_request, seed=99),
        grpc_target=server.grpc_target,
        http_url=server.http_url,
        concurrency=args.concurrency,
        duration=args.probe,
        warmup=2.0,
        rate=None,
    )
    return probe.measured_accepted_requests / probe.measured_seconds


async def _soak(
    server: ObsvtyProcess, api_url: str, rate: float, args: argparse.Namespace
) -> tuple[list[Window], set[str]]:
    factory = PayloadFactory(args.spans_per_request)
    client = GrpcClient(server.grpc_target)
    numbers = itertools.count()
    acked: set[str] = set()
    windows: list[Window] = []
    start = time.perf_counter()
    tasks: set[asyncio.Task[None]] = set()

    def window_at(t: float) -> Window:
        index = int((t - start) // args.window)
        while len(windows) <= index:
            windows.append(Window(started_s=len(windows) * args.window))
        return windows[index]

    async def one(number: int, due: float) -> None:
        outcome = await client.send(factory.payload(number))
        done = time.perf_counter()
        w = window_at(due)
        if outcome.error is not None or outcome.rejected_items:
            w.errors += 1
            return
        w.acked_requests += 1
        w.latencies.append(done - due)
        acked.update(factory.span_ids(number))

    async def queries(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
            for i in itertools.count():
                if stop.is_set():
                    return
                began = time.perf_counter()
                try:
                    response = await http.get(QUERIES[i % len(QUERIES)])
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                w = window_at(began)
                if ok:
                    w.query_latencies.append(time.perf_counter() - began)
                else:
                    w.query_errors += 1
                with_timeout = asyncio.wait_for(stop.wait(), args.query_every)
                with contextlib.suppress(TimeoutError):
                    await with_timeout

    async def rss_sampler(stop: asyncio.Event) -> None:
        while not stop.is_set():
            window_at(time.perf_counter()).rss_mib = server.sample_rss() / MiB
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def duckdb_sampler(stop: asyncio.Event) -> None:
        """Scrape /metrics once per window, near its end (as the RSS a window shows is its
        last sample)."""
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
            for index in itertools.count():
                due = start + (index + 0.9) * args.window
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, due - time.perf_counter()))
                if stop.is_set():
                    return
                try:
                    response = await http.get("/metrics")
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    w = window_at(due)
                    for key, value in duckdb_memory_mib(response.text).items():
                        setattr(w, key, value)

    stop = asyncio.Event()
    side = [
        asyncio.create_task(queries(stop)),
        asyncio.create_task(rss_sampler(stop)),
        asyncio.create_task(duckdb_sampler(stop)),
    ]
    interval = 1.0 / rate
    printed = -1
    for i in numbers:
        due = start + i * interval
        if due - start >= args.duration:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        while printed < int((due - start) // args.window) - 1:  # a window is over: show it
            printed += 1
            row = window_at(start + printed * args.window).summary(
                args.window, args.spans_per_request
            )
            print(json.dumps(row), flush=True)
    if tasks:
        await asyncio.gather(*tasks)
    stop.set()
    await asyncio.gather(*side)
    await client.close()
    return windows, acked


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _mib(value: float | None) -> str:
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="obsvty-soak-") as tmp:
        api_port = free_port()
        settings = {"OBSVTY_API_PORT": str(api_port), **dict(args.env)}
        rate = args.rate
        probed = None
        if rate is None:
            # a server of its own (fresh file, no backlog), rejecting when full: the probe
            # measures what the store sustains, not how fast a dropping buffer acknowledges
            probe_dir = Path(tmp) / "probe"
            probe_dir.mkdir()
            with ObsvtyProcess(
                probe_dir, {**settings, "BUFFER_OVERFLOW_POLICY": "reject"}
            ) as probe_server:
                probed = asyncio.run(_probe_max(probe_server, args))
                probe_server.stop()
            rate = max(1.0, probed / 2)
        soak_dir = Path(tmp) / "soak"
        soak_dir.mkdir()
        with ObsvtyProcess(soak_dir, settings) as server:
            print(f"soak: {rate:.1f} req/s for {args.duration:.0f}s (max probed: {probed})")
            windows, acked = asyncio.run(_soak(server, f"http://127.0.0.1:{api_port}", rate, args))
            stopped = server.stop()
        check = check_store(server.db_path, acked)
    rows = [w.summary(args.window, args.spans_per_request) for w in windows]
    judged = [float(v) for r in rows[args.warmup_windows :] if (v := r["rss_mib"])]
    third = max(1, len(judged) // 3)
    early, late = _median(judged[:third]), _median(judged[-third:])
    rss_ok = early == 0 or late <= early * (1 + args.rss_growth)
    duckdb = [r["duckdb_memory_mib"] for r in rows[args.warmup_windows :]]
    duckdb_judged = [float(v) for v in duckdb if v is not None]
    duckdb_third = max(1, len(duckdb_judged) // 3)
    duckdb_early = _median(duckdb_judged[:duckdb_third])
    duckdb_late = _median(duckdb_judged[-duckdb_third:])
    report = {
        "rate_requests_per_s": rate,
        "probed_max_requests_per_s": probed,
        "settings": settings,
        "windows": rows,
        "rss_early_mib": early,
        "rss_late_mib": late,
        "rss_ok": rss_ok,
        "duckdb_memory_early_mib": duckdb_early,
        "duckdb_memory_late_mib": duckdb_late,
        "store": asdict(check),
        "exit_code": stopped.exit_code,
    }
    print("t_s  spans/s  p50  p95  p99 (ms)  errors  query_p50  rss_mib  duckdb_mib  temp_mib")
    for r in rows:
        print(
            f"{r['t_s']:>4} {r['spans_per_s']:>8} {r['p50_ms']:>6} {r['p95_ms']:>6} "
            f"{r['p99_ms']:>6} {r['errors']:>6} {r['query_p50_ms']:>8} {r['rss_mib']:>8} "
            f"{_mib(r['duckdb_memory_mib']):>11} {_mib(r['duckdb_temp_mib']):>9}"
        )
    print(f"RSS after warm-up: early {early:.1f} MiB, late {late:.1f} MiB, ok={rss_ok}")
    print(f"DuckDB memory after warm-up: early {duckdb_early:.1f} MiB, late {duckdb_late:.1f} MiB")
    print(f"store: {check}; server exit {stopped.exit_code}")
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
    return 0 if rss_ok and check.ok and stopped.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
