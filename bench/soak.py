"""The soak benchmark (``make soak``, minutes, not in CI): steady open-loop OTLP/gRPC load at half
the measured maximum for a long time, with periodic queries, optionally with spans that started
up to ``--old-max-age`` seconds before they are sent and with retention or a size cap; per 30 s
window it records latency, accepted and refused requests, the server's RSS and CPU, DuckDB's own
memory, the store's size, retention's deletes and the store's checkpoints, how many and how many
over 1 s (``/metrics``, once per window) and how late the generator itself ran; then a graceful
stop, a check that every acknowledged span is stored exactly once, and the targets, each PASS or
FAIL.

    .venv/bin/python -m bench.soak                       # 10 minutes at half the maximum
    .venv/bin/python -m bench.soak --rate 150 --duration 3600 --old-fraction 0.3   # issue 18
    .venv/bin/python -m bench.soak --rate 150 --duration 600 --max-db-size 300MB \\
        --retention 20m --retention-interval 30                # retention and a reached size cap
    .venv/bin/python -m bench.soak --duration 180 --window 15 --env ACK_MODE=durable

Targets (exit code 1 if one fails): p99 latency under ``--p99-ms`` in every window; no window with
a refused or failed request; every full window accepted what was offered (the accepted rate is
flat); RSS after warm-up: the median of the last third of windows at most ``--rss-growth`` above
the first third's, and its peak under ``--rss-limit-mb``; every acknowledged span stored once
(with retention or a size cap: none twice, and no more missing than retention deleted); a clean
exit. The generator's own event-loop lag is checked too: when it exceeds ``--max-lag-ms`` the
figures of that window are the generator's, not the server's (the run is then invalid).

Acknowledged spans are remembered as request numbers and checked in DuckDB (``check_requests``):
an earlier version kept a Python set of their hex ids, whose rehash at 5M, 10M and 20M spans
blocked the generator for up to seconds, after which its open loop sent the overdue requests at
once: the "stall after ~20M spans" of the earlier soaks.

Longer than the project's ~450-line bound: one command; the load, the per-window record and the
PASS/FAIL verdicts read the same window data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import re
import statistics
import sys
import tempfile
import time
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import _env_pair
from bench.load import GrpcClient, generate
from bench.payloads import PayloadFactory
from bench.server import ObsvtyProcess, free_port
from bench.verify import StoreCheck, check_requests
from obsvty.config.values import parse_size

QUERIES = ("/api/v1/services", "/jaeger/api/services")
MiB = 1024 * 1024
MB = 1000 * 1000
DUCKDB_GAUGES = {
    "obsvty_duckdb_memory_bytes": "duckdb_memory_mib",
    "obsvty_duckdb_temporary_storage_bytes": "duckdb_temp_mib",
}
STORE_GAUGES = {**DUCKDB_GAUGES, "obsvty_store_size_bytes": "store_mib"}
DELETED_ROWS = "obsvty_retention_deleted_rows"
CHECKPOINTS = "obsvty_duckdb_checkpoint_duration_seconds"
SLOW_CHECKPOINT_S = "1.0"
"""A checkpoint over this (a bucket bound of the histogram) is counted as slow."""
COUNTS = ("checkpoints", "slow_checkpoints")
"""Scraped counts that only grow; a window shows what it added."""
LAG_TICK_S = 0.05


def duckdb_memory_mib(metrics_text: str) -> dict[str, float]:
    """DuckDB's memory and temp-directory use, in MiB, from a ``/metrics`` scrape (the keys of
    the gauges the server exports; none when it has no DuckDB store)."""
    gauges = server_gauges(metrics_text)
    return {key: gauges[key] for key in DUCKDB_GAUGES.values() if key in gauges}


def server_gauges(metrics_text: str) -> dict[str, float]:
    """From a ``/metrics`` scrape: DuckDB's memory and temp use and the store's size (MiB), the
    spans retention has deleted so far (``deleted_spans``), and the store's checkpoints so far
    (``checkpoints``, of them over :data:`SLOW_CHECKPOINT_S` seconds ``slow_checkpoints``);
    only what the server exports."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name in STORE_GAUGES and family.samples:
            found[STORE_GAUGES[family.name]] = round(family.samples[0].value / MiB, 1)
        elif family.name == DELETED_ROWS:  # a counter: the parser drops the _total suffix
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels.get("table") == "spans":
                    found["deleted_spans"] = sample.value
        elif family.name == CHECKPOINTS:
            samples = {(x.name, x.labels.get("le")): x.value for x in family.samples}
            count = samples.get((f"{CHECKPOINTS}_count", None))
            fast = samples.get((f"{CHECKPOINTS}_bucket", SLOW_CHECKPOINT_S))
            if count is not None and fast is not None:
                found["checkpoints"], found["slow_checkpoints"] = count, count - fast
    return found


@dataclass
class Window:
    started_s: float
    seconds: float
    sent_requests: int = 0
    acked_requests: int = 0
    refusals: int = 0
    """Retryable "overloaded" answers (gRPC UNAVAILABLE: the buffer was full)."""
    errors: int = 0
    """Other failures (timeouts, partially rejected requests)."""
    old_requests: int = 0
    """Requests whose spans started up to ``--old-max-age`` before they were sent."""
    latencies: list[float] = field(default_factory=list)
    query_latencies: list[float] = field(default_factory=list)
    query_errors: int = 0
    rss_mib: float = 0.0
    """The window's last RSS sample (sampled every second)."""
    rss_max_mib: float = 0.0
    rss_file_mib: float = 0.0
    """Of the last RSS sample, the pages mapped from files (shared libraries, ~100 MiB); the
    rest, ``rss_mib - rss_file_mib``, is the server's own memory."""
    cpu_s: float | None = None
    """The server's CPU seconds so far at the window's last sample."""
    lag_ms: float = 0.0
    """The generator's worst event-loop lag in the window."""
    duckdb_memory_mib: float | None = None
    duckdb_temp_mib: float | None = None
    store_mib: float | None = None
    deleted_spans: float | None = None
    checkpoints: float | None = None
    """The store's checkpoints in the window (from ``/metrics``)."""
    slow_checkpoints: float | None = None
    """Of them, those over :data:`SLOW_CHECKPOINT_S` seconds."""

    def summary(self, spans_per_request: int) -> dict[str, float | None]:
        lat = sorted(self.latencies) or [0.0]
        q = sorted(self.query_latencies) or [0.0]

        def pct(values: list[float], p: float) -> float:
            return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1)

        seconds = self.seconds or 1.0
        return {
            "t_s": round(self.started_s),
            "seconds": round(self.seconds, 1),
            "offered_spans_per_s": round(self.sent_requests * spans_per_request / seconds),
            "spans_per_s": round(self.acked_requests * spans_per_request / seconds),
            "p50_ms": pct(lat, 0.50),
            "p95_ms": pct(lat, 0.95),
            "p99_ms": pct(lat, 0.99),
            "refusals": self.refusals,
            "errors": self.errors,
            "old_requests": self.old_requests,
            "query_p50_ms": pct(q, 0.50),
            "query_errors": self.query_errors,
            "rss_mib": round(self.rss_mib, 1),
            "rss_max_mib": round(self.rss_max_mib, 1),
            "rss_anon_mib": round(self.rss_mib - self.rss_file_mib, 1),
            "cpu_s": self.cpu_s,
            "lag_ms": round(self.lag_ms, 1),
            "duckdb_memory_mib": self.duckdb_memory_mib,
            "duckdb_temp_mib": self.duckdb_temp_mib,
            "store_mib": self.store_mib,
            "deleted_spans": self.deleted_spans,
            "checkpoints": self.checkpoints,
            "slow_checkpoints": self.slow_checkpoints,
        }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--duration", type=float, default=600.0, help="seconds of steady load")
    p.add_argument("--window", type=float, default=30.0, help="seconds per reported window")
    p.add_argument("--warmup-windows", type=int, default=2, help="windows before RSS is judged")
    p.add_argument("--rate", type=float, default=None, help="requests/s (default: half the max)")
    p.add_argument("--probe", type=float, default=15.0, help="seconds of the maximum probe")
    p.add_argument("--concurrency", type=int, default=8, help="in flight during the probe")
    p.add_argument("--spans-per-request", type=int, default=100)
    p.add_argument("--query-every", type=float, default=2.0, help="seconds between queries")
    p.add_argument(
        "--old-fraction",
        type=float,
        default=0.0,
        help="share of requests whose spans started up to --old-max-age before they are sent",
    )
    p.add_argument("--old-max-age", type=float, default=600.0, help="seconds (spread uniformly)")
    p.add_argument("--retention", default=None, help="OBSVTY_RETENTION of the server, e.g. 20m")
    p.add_argument("--max-db-size", default=None, help="OBSVTY_MAX_DB_SIZE, e.g. 300MB")
    p.add_argument(
        "--retention-interval", type=float, default=None, help="RETENTION_INTERVAL_S (seconds)"
    )
    p.add_argument("--cap-slack", type=float, default=0.5, help="target: store <= cap * (1 + this)")
    p.add_argument("--p99-ms", type=float, default=100.0, help="target: p99 in every window")
    p.add_argument("--rss-growth", type=float, default=0.05, help="target: late/early RSS - 1")
    p.add_argument("--rss-limit-mb", type=float, default=250.0, help="target: peak RSS, MB")
    p.add_argument(
        "--rate-tolerance", type=float, default=0.01, help="target: accepted >= offered x (1-t)"
    )
    p.add_argument("--max-lag-ms", type=float, default=100.0, help="the generator's own lag")
    p.add_argument("--env", type=_env_pair, action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", type=Path, default=None, help="write the report as JSON here")
    p.add_argument("--server-log", type=Path, default=None, help="keep the server's log here")
    return p


def server_settings(args: argparse.Namespace, api_port: int) -> dict[str, str]:
    """The soak server's environment: its API port, retention and size cap, a log that has
    retention's passes (each with the rows it deleted), then ``--env``."""
    settings = {"OBSVTY_API_PORT": str(api_port), "LOG_LEVEL": "INFO"}
    if args.retention is not None:
        settings["OBSVTY_RETENTION"] = args.retention
    if args.max_db_size is not None:
        settings["OBSVTY_MAX_DB_SIZE"] = args.max_db_size
    if args.retention_interval is not None:
        settings["RETENTION_INTERVAL_S"] = str(args.retention_interval)
    return {**settings, **dict(args.env)}


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


@dataclass
class SoakRun:
    windows: list[Window]
    acked: array[int]
    """Numbers of the acknowledged requests (their span ids follow from them)."""
    final_gauges: dict[str, float]


async def _soak(
    server: ObsvtyProcess, api_url: str, rate: float, args: argparse.Namespace
) -> SoakRun:
    factory = PayloadFactory(args.spans_per_request)
    client = GrpcClient(server.grpc_target)
    ages = random.Random(7)  # which requests carry old spans, and how old: the same every run
    acked: array[int] = array("q")
    # request 0 opens the channel before the clock starts: not the first window's latency
    if (await client.send(factory.payload(0))).error is None:
        acked.append(0)
    windows: list[Window] = []
    start = time.perf_counter()
    tasks: set[asyncio.Task[None]] = set()

    def window_at(t: float) -> Window:
        index = max(0, int((t - start) // args.window))
        while len(windows) <= index:
            began = len(windows) * args.window
            windows.append(Window(began, min(args.window, max(0.0, args.duration - began))))
        return windows[index]

    async def one(number: int, due: float, age_s: float) -> None:
        now_ns = time.time_ns() - int(age_s * 1e9) if age_s else None
        outcome = await client.send(factory.payload(number, now_ns))
        done = time.perf_counter()
        w = window_at(due)
        if outcome.overloaded:
            w.refusals += 1
        elif outcome.error is not None or outcome.rejected_items:
            w.errors += 1
        else:
            w.acked_requests += 1
            w.latencies.append(done - due)
            acked.append(number)

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
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), args.query_every)

    async def sampler(stop: asyncio.Event) -> None:
        """RSS and CPU of the server every second; the generator's own lag every tick."""
        next_sample = 0.0
        expected = time.perf_counter() + LAG_TICK_S
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LAG_TICK_S)
            now = time.perf_counter()
            w = window_at(now)
            w.lag_ms = max(w.lag_ms, (now - expected) * 1000)
            expected = now + LAG_TICK_S
            if now >= next_sample:
                next_sample = now + 1.0
                w.rss_mib = server.sample_rss() / MiB
                w.rss_max_mib = max(w.rss_max_mib, w.rss_mib)
                w.rss_file_mib = server.rss_file_last / MiB
                w.cpu_s = round(server.cpu_seconds(), 2)

    async def scrape(http: httpx.AsyncClient) -> dict[str, float]:
        try:
            response = await http.get("/metrics")
        except httpx.HTTPError:
            return {}
        return server_gauges(response.text) if response.status_code == 200 else {}

    async def scraper(stop: asyncio.Event) -> None:
        """Scrape /metrics once per window, near its end (as the RSS a window shows is its
        last sample), and print the window before it (its requests have been answered)."""
        counted: dict[str, float] = {}  # the last scrape's COUNTS
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
            for index in itertools.count():
                due = start + (index + 0.9) * args.window
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, due - time.perf_counter()))
                if stop.is_set():
                    return
                w = window_at(due)
                for key, value in (await scrape(http)).items():
                    added = value - counted.get(key, 0.0) if key in COUNTS else value
                    counted[key] = value
                    setattr(w, key, added)
                if index:
                    print(_row(windows[index - 1].summary(args.spans_per_request)), flush=True)

    stop = asyncio.Event()
    side = [
        asyncio.create_task(queries(stop)),
        asyncio.create_task(sampler(stop)),
        asyncio.create_task(scraper(stop)),
    ]
    print(HEADER, flush=True)
    interval = 1.0 / rate
    for i in itertools.count(1):
        due = start + (i - 1) * interval
        if due - start >= args.duration:
            break
        old = args.old_fraction > 0 and ages.random() < args.old_fraction
        age_s = ages.uniform(0, args.old_max_age) if old else 0.0
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        w = window_at(due)
        w.sent_requests += 1
        w.old_requests += old
        task = asyncio.create_task(one(i, due, age_s))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    stop.set()
    await asyncio.gather(*side)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        final = await scrape(http)
    await client.close()
    return SoakRun(windows, acked, final)


HEADER = (
    "  t_s  offered accepted   p50   p99 (ms) refused errors  lag_ms  rss_mib anon_mib  cpu_us/span"
    "  duckdb_mib  store_mib  deleted  ckpt  >1s"
)


def _row(r: dict[str, float | None]) -> str:
    return (
        f"{r['t_s']:>5} {r['offered_spans_per_s']:>8} {r['spans_per_s']:>8} {r['p50_ms']:>5} "
        f"{r['p99_ms']:>7} {r['refusals']:>7} {r['errors']:>6} {r['lag_ms']:>7} "
        f"{r['rss_mib']:>8} {_fmt(r.get('rss_anon_mib')):>8} {_fmt(r.get('cpu_us_per_span')):>12} "
        f"{_fmt(r['duckdb_memory_mib']):>11} {_fmt(r['store_mib']):>10} "
        f"{_fmt(r['deleted_spans']):>8} {_fmt(r.get('checkpoints')):>5} "
        f"{_fmt(r.get('slow_checkpoints')):>4}"
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def add_cpu_per_span(rows: list[dict[str, float | None]], spans_per_request: int) -> None:
    """Each window's server CPU per accepted span (from the CPU-seconds samples)."""
    previous = 0.0
    for r in rows:
        cpu, spans = r["cpu_s"], (r["spans_per_s"] or 0) * (r["seconds"] or 0)
        if cpu is None:
            r["cpu_us_per_span"] = None
            continue
        r["cpu_us_per_span"] = round((cpu - previous) / spans * 1e6, 1) if spans else None
        previous = cpu


@dataclass(frozen=True)
class Verdict:
    target: str
    ok: bool
    detail: str


def _cap_verdict(rows: list[dict[str, float | None]], args: argparse.Namespace) -> Verdict:
    """The store on disk (file and write-ahead log) reached the size cap and, from then on,
    stayed within the cap and its slack: the log's rows not yet checkpointed and what arrives
    between two size checks."""
    cap = parse_size(args.max_db_size) or 0
    sizes = [(r["t_s"], float(r.get("store_mib") or 0) * MiB) for r in rows]
    reached = [(t, size) for t, size in sizes if size >= cap]
    target = f"size cap reached, then store <= cap + {args.cap_slack:.0%}"
    if not reached:
        return Verdict(target, False, f"never reached: store at most {max(sizes)[1] / MiB:.0f} MiB")
    since = reached[0][0]
    peak = max(size for _, size in sizes[sizes.index(reached[0]) :])
    return Verdict(
        target,
        peak <= cap * (1 + args.cap_slack),
        f"reached by t={since}; store at most {peak / MiB:.0f} MiB, cap {cap / MiB:.0f} MiB",
    )


_DELETED_LOG = re.compile(r"retention deleted (\d+) spans")


def deleted_spans_logged(log: str) -> int:
    """The spans retention deleted, from the server's log (a line for each pass that deleted)."""
    return sum(int(n) for n in _DELETED_LOG.findall(log))


def judge(
    rows: list[dict[str, float | None]],
    args: argparse.Namespace,
    store: StoreCheck,
    deleted_spans: float,
    exit_code: int | None,
) -> list[Verdict]:
    """The soak's targets, each with what was measured."""
    verdicts = []
    worst = max(rows, key=lambda r: r["p99_ms"] or 0.0)
    over = [r["t_s"] for r in rows if (r["p99_ms"] or 0.0) >= args.p99_ms]
    verdicts.append(
        Verdict(
            f"p99 < {args.p99_ms:g} ms in every window",
            not over,
            f"worst {worst['p99_ms']} ms at t={worst['t_s']}; over in windows {over}",
        )
    )
    refused = [r["t_s"] for r in rows if r["refusals"] or r["errors"]]
    total = sum(int(r["refusals"] or 0) for r in rows)
    failed = sum(int(r["errors"] or 0) for r in rows)
    verdicts.append(
        Verdict(
            "no window with a refusal or error",
            not refused,
            f"{total} refusals, {failed} errors; in windows {refused}",
        )
    )
    full = [r for r in rows if r["seconds"] == args.window]
    short = [
        r["t_s"]
        for r in full
        if (r["spans_per_s"] or 0) < (r["offered_spans_per_s"] or 0) * (1 - args.rate_tolerance)
    ]
    rates = [float(r["spans_per_s"] or 0) for r in full]
    verdicts.append(
        Verdict(
            "accepted rate flat (every full window accepted what was offered)",
            bool(full) and not short,
            f"accepted {min(rates, default=0):.0f}-{max(rates, default=0):.0f} spans/s; "
            f"short in windows {short}",
        )
    )
    judged = rows[args.warmup_windows :]
    rss = [float(r["rss_mib"] or 0) for r in judged if r["rss_mib"]]
    third = max(1, len(rss) // 3)
    early, late = _median(rss[:third]), _median(rss[-third:])
    growth = late / early - 1 if early else 0.0
    verdicts.append(
        Verdict(
            f"RSS late median <= early median + {args.rss_growth:.0%}",
            bool(rss) and late <= early * (1 + args.rss_growth),
            f"early {early:.1f} MiB, late {late:.1f} MiB ({growth:+.1%})",
        )
    )
    peak = max((float(r["rss_max_mib"] or 0) for r in judged), default=0.0)
    limit_mib = args.rss_limit_mb * MB / MiB
    verdicts.append(
        Verdict(
            f"RSS after warm-up < {args.rss_limit_mb:g} MB",
            bool(rss) and peak < limit_mib,
            f"peak {peak:.1f} MiB ({peak * MiB / MB:.0f} MB)",
        )
    )
    retention = args.retention is not None or args.max_db_size is not None
    stored_ok = store.duplicates == 0 and (
        store.missing <= deleted_spans if retention else store.missing == 0
    )
    verdicts.append(
        Verdict(
            "every acknowledged span stored once"
            + (" (or deleted by retention)" if retention else ""),
            stored_ok,
            f"{store.acknowledged} acknowledged, {store.stored_rows} rows, {store.missing} "
            f"missing, {store.duplicates} duplicates, {deleted_spans:.0f} deleted by retention",
        )
    )
    if args.max_db_size is not None:
        verdicts.append(_cap_verdict(rows, args))
    verdicts.append(Verdict("clean exit", exit_code == 0, f"server exit code {exit_code}"))
    lag = max(rows, key=lambda r: r["lag_ms"] or 0.0)
    verdicts.append(
        Verdict(
            f"generator kept its schedule (lag < {args.max_lag_ms:g} ms; else the run is invalid)",
            (lag["lag_ms"] or 0.0) < args.max_lag_ms,
            f"worst {lag['lag_ms']} ms at t={lag['t_s']}",
        )
    )
    return verdicts


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="obsvty-soak-") as tmp:
        api_port = free_port()
        settings = server_settings(args, api_port)
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
            print(
                f"soak: {rate:.1f} req/s of {args.spans_per_request} spans for "
                f"{args.duration:.0f}s (max probed: {probed}), old spans: {args.old_fraction:.0%}"
            )
            run = asyncio.run(_soak(server, f"http://127.0.0.1:{api_port}", rate, args))
            stopped = server.stop()
        check = check_requests(server.db_path, run.acked, args.spans_per_request)
        server_log = server.log_path.read_text(errors="replace")
        logged_deletes = deleted_spans_logged(server_log)
        if args.server_log is not None:
            args.server_log.write_text(server_log)
    rows = [w.summary(args.spans_per_request) for w in run.windows if w.seconds > 0]
    add_cpu_per_span(rows, args.spans_per_request)
    # the last scrape can miss a retention step that ran before the server stopped; its log
    # has each one
    deleted = max(run.final_gauges.get("deleted_spans", 0.0), float(logged_deletes))
    verdicts = judge(rows, args, check, deleted, stopped.exit_code)
    print(HEADER)
    for r in rows:
        print(_row(r))
    print(f"store: {check}; server exit {stopped.exit_code}")
    for v in verdicts:
        print(f"{'PASS' if v.ok else 'FAIL'}  {v.target}: {v.detail}")
    passed = all(v.ok for v in verdicts)
    if args.output:
        report = {
            "rate_requests_per_s": rate,
            "probed_max_requests_per_s": probed,
            "settings": settings,
            "old_fraction": args.old_fraction,
            "old_max_age_s": args.old_max_age,
            "windows": rows,
            "final_gauges": run.final_gauges,
            "store": asdict(check),
            "exit_code": stopped.exit_code,
            "targets": [asdict(v) for v in verdicts],
            "passed": passed,
        }
        args.output.write_text(json.dumps(report, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
