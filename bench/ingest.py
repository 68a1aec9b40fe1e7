"""The ingest benchmark (``make bench``): a fresh obsvty subprocess, realistic 100-span trace
requests over OTLP/gRPC or OTLP/HTTP (protobuf), then a graceful stop and a check that every
acknowledged span is stored exactly once.

    # maximum sustained throughput over gRPC (closed loop, 8 requests in flight)
    .venv/bin/python -m bench.ingest --protocol grpc --concurrency 8 --duration 30
    # latency at a fixed 100 requests/s (open loop)
    .venv/bin/python -m bench.ingest --protocol grpc --rate 100 --duration 30
    # any obsvty setting, e.g. the reject overflow policy
    .venv/bin/python -m bench.ingest --env BUFFER_OVERFLOW_POLICY=reject

It prints a report and, with ``--output``, writes it as JSON. Exit code 1 when an acknowledged
span is missing from the store (or stored twice), or the server did not stop cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.load import LoadResult, Protocol, generate
from bench.payloads import PayloadFactory
from bench.server import ObsvtyProcess, StopResult
from bench.verify import StoreCheck, check_store


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip().upper(), value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description="Ingest benchmark against a fresh obsvty subprocess (see docs/PERFORMANCE.md).",
    )
    p.add_argument("--protocol", choices=("grpc", "http"), default="grpc")
    p.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="requests in flight (closed loop); HTTP connections (both modes)",
    )
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: this many requests per second (default: closed loop, max throughput)",
    )
    p.add_argument("--spans-per-request", type=int, default=100)
    p.add_argument("--output", type=Path, default=None, help="write the report as JSON here")
    p.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an obsvty setting for the server (repeatable), e.g. FLUSH_BATCH_SIZE=10000",
    )
    p.add_argument("--keep", action="store_true", help="keep the DuckDB file and server log")
    return p


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_total_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def summarize(
    args: argparse.Namespace,
    load: LoadResult,
    check: StoreCheck,
    stop: StopResult,
    server: ObsvtyProcess,
    cpu: dict[str, float],
    loadavg: tuple[tuple[float, ...], tuple[float, ...]],
) -> dict[str, Any]:
    latencies = sorted(load.latencies)
    spans = args.spans_per_request
    measured = load.measured_seconds
    return {
        "config": {
            "protocol": args.protocol,
            "mode": "open-loop" if args.rate else "closed-loop",
            "rate_requests_per_s": args.rate,
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "spans_per_request": spans,
            "server_settings": dict(args.env),
            "command": " ".join([Path(sys.executable).name, "-m", "bench.ingest", *sys.argv[1:]]),
        },
        "machine": machine(),
        "load_average_before": loadavg[0],
        "load_average_after": loadavg[1],
        "throughput": {
            "spans_per_s": load.measured_accepted_requests * spans / measured,
            "requests_per_s": load.measured_accepted_requests / measured,
        },
        "latency_ms": {
            "samples": len(latencies),
            "p50": _percentile(latencies, 0.50) * 1000,
            "p95": _percentile(latencies, 0.95) * 1000,
            "p99": _percentile(latencies, 0.99) * 1000,
            "max": (latencies[-1] * 1000) if latencies else float("nan"),
            "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        },
        "requests": {
            "sent": load.sent_requests,
            "acknowledged": len(load.accepted_requests),
            "partially_rejected": len(load.partially_rejected_requests),
            "rejected_spans": load.rejected_spans,
            "errors": dict(load.errors),
            "max_in_flight": load.max_in_flight,
        },
        "store": {
            "acknowledged_spans": check.acknowledged,
            "stored_rows": check.stored_rows,
            "missing": check.missing,
            "duplicates": check.duplicates,
            "unacknowledged_stored": check.unacknowledged_stored,
            "every_acknowledged_span_stored": check.ok,
        },
        "server": {
            "rss_peak_mib": server.rss_peak / 2**20,
            "rss_end_mib": server.rss_last / 2**20,
            "cpu_cores_used": cpu["server"],
            "cpu_us_per_span": cpu["server_us_per_span"],
            "shutdown_s": stop.shutdown_seconds,
            "exit_code": stop.exit_code,
        },
        "generator": {"cpu_cores_used": cpu["generator"]},
    }


def print_report(report: dict[str, Any]) -> None:
    c, t, lat = report["config"], report["throughput"], report["latency_ms"]
    r, s, srv = report["requests"], report["store"], report["server"]
    mode = (
        f"open loop at {c['rate_requests_per_s']:g} req/s"
        if c["rate_requests_per_s"]
        else (f"closed loop, {c['concurrency']} in flight")
    )
    print(f"obsvty ingest benchmark: {c['protocol']}, {mode}, {c['duration_s']:g}s measured")
    print(f"  throughput   {t['spans_per_s']:,.0f} spans/s ({t['requests_per_s']:,.1f} req/s)")
    print(
        f"  latency      p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms  "
        f"p99 {lat['p99']:.1f} ms  max {lat['max']:.1f} ms  ({lat['samples']} samples)"
    )
    print(
        f"  requests     {r['sent']} sent, {r['acknowledged']} acknowledged, "
        f"{r['partially_rejected']} partially rejected, errors {r['errors'] or 'none'}"
    )
    print(
        f"  store        {s['acknowledged_spans']} acknowledged spans, {s['stored_rows']} rows, "
        f"missing {s['missing']}, duplicates {s['duplicates']}, "
        f"unacknowledged stored {s['unacknowledged_stored']}"
    )
    print(
        f"  server       RSS peak {srv['rss_peak_mib']:.0f} MiB, end {srv['rss_end_mib']:.0f} MiB, "
        f"CPU {srv['cpu_cores_used']:.2f} cores ({srv['cpu_us_per_span']:.0f} us/span), "
        f"shutdown {srv['shutdown_s']:.1f}s, "
        f"exit {srv['exit_code']}"
    )
    print(f"  generator    CPU {report['generator']['cpu_cores_used']:.2f} cores")
    before, after = report["load_average_before"], report["load_average_after"]
    print(f"  load average before {before}, after {after}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    factory = PayloadFactory(args.spans_per_request)
    protocol: Protocol = args.protocol
    loadavg_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="obsvty-bench-") as tmp:
        workdir = Path(tmp)
        with ObsvtyProcess(workdir, dict(args.env)) as server:
            me = psutil.Process()

            def cpu_now() -> tuple[float, float, float]:
                mine = me.cpu_times()
                return time.perf_counter(), mine.user + mine.system, server.cpu_seconds()

            before = cpu_now()
            load = asyncio.run(
                generate(
                    protocol,
                    factory,
                    grpc_target=server.grpc_target,
                    http_url=server.http_url,
                    concurrency=args.concurrency,
                    duration=args.duration,
                    warmup=args.warmup,
                    rate=args.rate,
                )
            )
            after = cpu_now()
            stop = server.stop()
        wall = after[0] - before[0]
        acked_spans = max(1, len(load.accepted_requests) * args.spans_per_request)
        cpu = {
            "generator": (after[1] - before[1]) / wall,
            "server": (after[2] - before[2]) / wall,
            # CPU time per acknowledged span: the efficiency figure, robust to a busy machine
            "server_us_per_span": (after[2] - before[2]) / acked_spans * 1e6,
        }
        acknowledged = {
            span_id for number in load.accepted_requests for span_id in factory.span_ids(number)
        }
        check = check_store(server.db_path, acknowledged)
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="obsvty-bench-kept-"))
            for path in (server.db_path, server.log_path):
                path.rename(kept / path.name)
            print(f"kept the DuckDB file and server log in {kept}")
    return summarize(args, load, check, stop, server, cpu, (loadavg_before, os.getloadavg()))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.rate is not None and args.rate <= 0:
        parser().error("--rate must be positive")
    report = run(args)
    print_report(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    healthy = report["store"]["every_acknowledged_span_stored"]
    return 0 if healthy and report["server"]["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
