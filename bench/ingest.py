"""The ingest benchmark (``make bench``): a fresh obsvty subprocess, realistic export requests of
100 items (spans, log records or metric data points) over OTLP/gRPC or OTLP/HTTP (protobuf or
OTLP/JSON), then a graceful stop and a check that every acknowledged item is stored exactly once
(spans by id, log records and data points by counting the rows).

    # maximum sustained throughput over gRPC (closed loop, 8 requests in flight)
    .venv/bin/python -m bench.ingest --protocol grpc --concurrency 8 --duration 30
    # latency at a fixed 100 requests/s (open loop)
    .venv/bin/python -m bench.ingest --protocol grpc --rate 100 --duration 30
    # any obsvty setting, e.g. the reject overflow policy
    .venv/bin/python -m bench.ingest --env BUFFER_OVERFLOW_POLICY=reject
    # logs or metrics; OTLP/JSON over HTTP
    .venv/bin/python -m bench.ingest --signal logs --protocol grpc --concurrency 16
    .venv/bin/python -m bench.ingest --protocol http --encoding json --concurrency 16

The null sink (``bench/null_sink.py``: the same kind of gRPC and HTTP servers, parsing each
request and answering success, storing nothing) is the transport-and-parse ceiling of the machine:

    # the same load against the null sink instead of obsvty
    .venv/bin/python -m bench.ingest --target null-sink --protocol grpc --concurrency 16
    # obsvty and the null sink alternated, 3 rounds (default) of 20 s each: obsvty/null-sink
    .venv/bin/python -m bench.ingest --compare --protocol grpc --concurrency 16 --duration 20
    .venv/bin/python -m bench.ingest --compare --protocol http --encoding json --concurrency 16
    .venv/bin/python -m bench.ingest --compare --signal metrics --protocol grpc --concurrency 16

HTTP load goes out over plain asyncio streams by default (``--http-client raw``, a tenth of the
CPU of httpx per request); ``--http-client httpx`` is the client of the figures measured before
the null sink existed.

``--compare`` prints, for each round and as the median of the rounds, the throughput ratio
obsvty/null-sink, items/s, p99 latency and server CPU in µs per item of both. Within a round the
order alternates (obsvty first in odd rounds, the null sink first in even ones), so a drift of the
machine's load weighs on both alike.

It prints a report and, with ``--output``, writes it as JSON. Exit code 1 when an acknowledged
item is missing from the store (or stored twice), or a server did not stop cleanly.

Longer than the project's ~450-line bound: one command whose load generators (gRPC, raw HTTP,
httpx), null sink and stored-once check are read and changed together.
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
from bench.payloads import ENCODINGS, SIGNALS, PayloadFactory, RequestFactory, factory_for
from bench.server import NullSinkProcess, ObsvtyProcess, ServerProcess, StopResult
from bench.verify import COUNTED_TABLES, StoreCheck, check_count, check_store

TARGETS = ("obsvty", "null-sink")


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip().upper(), value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description="Ingest benchmark against a fresh obsvty subprocess, or the null sink, or "
        "both alternated (see docs/PERFORMANCE.md).",
    )
    p.add_argument("--protocol", choices=("grpc", "http"), default="grpc")
    p.add_argument("--signal", choices=SIGNALS, default="traces", help="what the requests carry")
    p.add_argument(
        "--encoding",
        choices=ENCODINGS,
        default="protobuf",
        help="HTTP bodies: protobuf or OTLP/JSON (gRPC is protobuf)",
    )
    p.add_argument(
        "--http-client",
        choices=("raw", "httpx"),
        default="raw",
        help="HTTP load: raw asyncio streams (cheap, the default) or httpx (the figures of the "
        "first four sessions)",
    )
    p.add_argument(
        "--target",
        choices=TARGETS,
        default="obsvty",
        help="the server under load: obsvty, or the null sink (parses, stores nothing)",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="obsvty and the null sink alternated, --rounds times; prints obsvty/null-sink",
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds of --compare")
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
    p.add_argument(
        "--items-per-request",
        "--spans-per-request",
        dest="items_per_request",
        type=int,
        default=100,
        help="spans, log records or data points per request",
    )
    p.add_argument("--output", type=Path, default=None, help="write the report as JSON here")
    p.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an obsvty setting for the server (repeatable), e.g. FLUSH_BATCH_SIZE=10000",
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the DuckDB file and server log (obsvty)"
    )
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


def _store_report(check: StoreCheck | None, traces: bool) -> dict[str, Any] | None:
    if check is None:  # the null sink stores nothing
        return None
    report: dict[str, Any] = {
        "acknowledged_items": check.acknowledged,
        "stored_rows": check.stored_rows,
        "missing": check.missing,
        "duplicates": check.duplicates,
        "unacknowledged_stored": check.unacknowledged_stored,
        "every_acknowledged_item_stored": check.ok,
    }
    if traces:  # the names of the first reports
        report["acknowledged_spans"] = check.acknowledged
        report["every_acknowledged_span_stored"] = check.ok
    return report


def summarize(
    args: argparse.Namespace,
    target: str,
    factory: RequestFactory,
    load: LoadResult,
    check: StoreCheck | None,
    stop: StopResult,
    server: ServerProcess,
    cpu: dict[str, float],
    loadavg: tuple[tuple[float, ...], tuple[float, ...]],
) -> dict[str, Any]:
    latencies = sorted(load.latencies)
    items = args.items_per_request
    measured = load.measured_seconds
    traces = factory.signal == "traces"
    config: dict[str, Any] = {
        "target": target,
        "signal": factory.signal,
        "item": factory.item,
        "protocol": args.protocol,
        "encoding": args.encoding,
        "http_client": args.http_client if args.protocol == "http" else None,
        "mode": "open-loop" if args.rate else "closed-loop",
        "rate_requests_per_s": args.rate,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "items_per_request": items,
        "server_settings": dict(args.env) if target == "obsvty" else {},
        "command": " ".join([Path(sys.executable).name, "-m", "bench.ingest", *sys.argv[1:]]),
    }
    throughput = {
        "items_per_s": load.measured_accepted_requests * items / measured,
        "requests_per_s": load.measured_accepted_requests / measured,
    }
    requests: dict[str, Any] = {
        "sent": load.sent_requests,
        "acknowledged": len(load.accepted_requests),
        "partially_rejected": len(load.partially_rejected_requests),
        "rejected_items": load.rejected_items,
        "errors": dict(load.errors),
        "max_in_flight": load.max_in_flight,
    }
    server_report = {
        "rss_peak_mib": server.rss_peak / 2**20,
        "rss_end_mib": server.rss_last / 2**20,
        "cpu_cores_used": cpu["server"],
        "cpu_us_per_item": cpu["server_us_per_item"],
        "shutdown_s": stop.shutdown_seconds,
        "exit_code": stop.exit_code,
    }
    if traces:  # the names of the first reports
        config["spans_per_request"] = items
        throughput["spans_per_s"] = throughput["items_per_s"]
        requests["rejected_spans"] = load.rejected_items
        server_report["cpu_us_per_span"] = cpu["server_us_per_item"]
    return {
        "config": config,
        "machine": machine(),
        "load_average_before": loadavg[0],
        "load_average_after": loadavg[1],
        "throughput": throughput,
        "latency_ms": {
            "samples": len(latencies),
            "p50": _percentile(latencies, 0.50) * 1000,
            "p95": _percentile(latencies, 0.95) * 1000,
            "p99": _percentile(latencies, 0.99) * 1000,
            "max": (latencies[-1] * 1000) if latencies else float("nan"),
            "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        },
        "requests": requests,
        "store": _store_report(check, traces),
        "server": server_report,
        "generator": {"cpu_cores_used": cpu["generator"]},
    }


def _transport(config: dict[str, Any]) -> str:
    if config["protocol"] == "grpc":
        return "OTLP/gRPC"
    return "OTLP/HTTP " + ("JSON" if config["encoding"] == "json" else "protobuf")


def _mode(config: dict[str, Any]) -> str:
    if config["rate_requests_per_s"]:
        return f"open loop at {config['rate_requests_per_s']:g} req/s"
    return f"closed loop, {config['concurrency']} in flight"


def print_report(report: dict[str, Any]) -> None:
    c, t, lat = report["config"], report["throughput"], report["latency_ms"]
    r, s, srv = report["requests"], report["store"], report["server"]
    item = c["item"]
    print(
        f"{c['target']} ingest benchmark: {c['signal']} over {_transport(c)}, {_mode(c)}, "
        f"{c['duration_s']:g}s measured"
    )
    print(f"  throughput   {t['items_per_s']:,.0f} {item}/s ({t['requests_per_s']:,.1f} req/s)")
    print(
        f"  latency      p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms  "
        f"p99 {lat['p99']:.1f} ms  max {lat['max']:.1f} ms  ({lat['samples']} samples)"
    )
    print(
        f"  requests     {r['sent']} sent, {r['acknowledged']} acknowledged, "
        f"{r['partially_rejected']} partially rejected, errors {r['errors'] or 'none'}"
    )
    if s is None:
        print("  store        none (the null sink stores nothing)")
    else:
        print(
            f"  store        {s['acknowledged_items']} acknowledged {item}, "
            f"{s['stored_rows']} rows, missing {s['missing']}, duplicates {s['duplicates']}, "
            f"unacknowledged stored {s['unacknowledged_stored']}"
        )
    print(
        f"  server       RSS peak {srv['rss_peak_mib']:.0f} MiB, end {srv['rss_end_mib']:.0f} MiB, "
        f"CPU {srv['cpu_cores_used']:.2f} cores ({srv['cpu_us_per_item']:.1f} us/item), "
        f"shutdown {srv['shutdown_s']:.1f}s, "
        f"exit {srv['exit_code']}"
    )
    print(f"  generator    CPU {report['generator']['cpu_cores_used']:.2f} cores")
    before, after = report["load_average_before"], report["load_average_after"]
    print(f"  load average before {before}, after {after}")


def _check(
    args: argparse.Namespace, factory: RequestFactory, load: LoadResult, db_path: Path
) -> StoreCheck:
    if isinstance(factory, PayloadFactory):
        acknowledged = {
            span_id for number in load.accepted_requests for span_id in factory.span_ids(number)
        }
        return check_store(db_path, acknowledged)
    items = args.items_per_request
    return check_count(
        db_path,
        COUNTED_TABLES[factory.signal],
        len(load.accepted_requests) * items,
        load.unsure_requests * items,
    )


def run(args: argparse.Namespace, target: str | None = None) -> dict[str, Any]:
    """One run against ``target`` (default ``args.target``): start it, load it, stop it, and
    (obsvty) check its store."""
    target = target or args.target
    factory = factory_for(args.signal, args.items_per_request)
    protocol: Protocol = args.protocol
    loadavg_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="obsvty-bench-") as tmp:
        workdir = Path(tmp)
        server: ServerProcess = (
            ObsvtyProcess(workdir, dict(args.env))
            if target == "obsvty"
            else NullSinkProcess(workdir)
        )
        with server:
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
                    encoding=args.encoding,
                    http_client=args.http_client,
                )
            )
            after = cpu_now()
            stop = server.stop()
        wall = after[0] - before[0]
        acked_items = max(1, len(load.accepted_requests) * args.items_per_request)
        cpu = {
            "generator": (after[1] - before[1]) / wall,
            "server": (after[2] - before[2]) / wall,
            # CPU time per acknowledged item: the efficiency figure, robust to a busy machine
            "server_us_per_item": (after[2] - before[2]) / acked_items * 1e6,
        }
        check = None
        if isinstance(server, ObsvtyProcess):
            check = _check(args, factory, load, server.db_path)
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="obsvty-bench-kept-"))
            paths = [server.log_path]
            if isinstance(server, ObsvtyProcess):
                paths.append(server.db_path)
            for path in paths:
                path.rename(kept / path.name)
            print(f"kept the {target} files in {kept}")
    return summarize(
        args, target, factory, load, check, stop, server, cpu, (loadavg_before, os.getloadavg())
    )


def healthy(report: dict[str, Any]) -> bool:
    """The server stopped cleanly and (obsvty) every acknowledged item is stored once."""
    store = report["store"]
    stored = store is None or store["every_acknowledged_item_stored"]
    return bool(stored and report["server"]["exit_code"] == 0)


def _figures(report: dict[str, Any]) -> dict[str, float]:
    return {
        "items_per_s": report["throughput"]["items_per_s"],
        "p99_ms": report["latency_ms"]["p99"],
        "cpu_us_per_item": report["server"]["cpu_us_per_item"],
        "cpu_cores_used": report["server"]["cpu_cores_used"],
        "generator_cpu_cores_used": report["generator"]["cpu_cores_used"],
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """obsvty and the null sink alternated ``args.rounds`` times in one sitting."""
    rounds: list[dict[str, Any]] = []
    loadavg_before = os.getloadavg()
    for number in range(args.rounds):
        order = TARGETS if number % 2 == 0 else TARGETS[::-1]
        reports = {}
        for target in order:
            report = run(args, target)
            reports[target] = report
            figures = _figures(report)
            print(
                f"round {number + 1}/{args.rounds} {target:9} "
                f"{figures['items_per_s']:>10,.0f} {report['config']['item']}/s  "
                f"p99 {figures['p99_ms']:7.1f} ms  "
                f"{figures['cpu_us_per_item']:6.1f} us/item  "
                f"{figures['cpu_cores_used']:.2f} cores (generator "
                f"{figures['generator_cpu_cores_used']:.2f})  "
                f"{'ok' if healthy(report) else 'FAILED'}",
                flush=True,
            )
        obsvty, sink = _figures(reports["obsvty"]), _figures(reports["null-sink"])
        rounds.append(
            {
                "order": list(order),
                "obsvty": obsvty,
                "null_sink": sink,
                "ratio": _ratio(obsvty["items_per_s"], sink["items_per_s"]),
                "healthy": all(healthy(r) for r in reports.values()),
                "reports": reports,
            }
        )
    first = rounds[0]["reports"]["obsvty"]

    def median(side: str, key: str) -> float:
        return float(statistics.median(r[side][key] for r in rounds))

    return {
        "config": {**first["config"], "target": "compare", "rounds": args.rounds},
        "machine": first["machine"],
        "load_average_before": loadavg_before,
        "load_average_after": os.getloadavg(),
        "rounds": rounds,
        "median": {
            "ratio": statistics.median(r["ratio"] for r in rounds),
            "obsvty": {key: median("obsvty", key) for key in rounds[0]["obsvty"]},
            "null_sink": {key: median("null_sink", key) for key in rounds[0]["null_sink"]},
        },
        "healthy": all(r["healthy"] for r in rounds),
    }


def print_comparison(comparison: dict[str, Any]) -> None:
    c = comparison["config"]
    item = c["item"]
    print(
        f"obsvty vs null sink: {c['signal']} over {_transport(c)}, {_mode(c)}, "
        f"{c['duration_s']:g}s measured, {c['rounds']} rounds alternated"
    )
    print(
        f"  {'':8} {'ratio':>6} | {'obsvty ' + item + '/s':>22} {'p99 ms':>8} {'us/item':>8} "
        f"| {'null sink ' + item + '/s':>25} {'p99 ms':>8} {'us/item':>8}"
    )
    rows = [(f"round {i + 1}", r) for i, r in enumerate(comparison["rounds"])]
    rows.append(("median", comparison["median"]))
    for label, row in rows:
        o, n = row["obsvty"], row["null_sink"]
        print(
            f"  {label:8} {row['ratio']:6.3f} | {o['items_per_s']:22,.0f} {o['p99_ms']:8.1f} "
            f"{o['cpu_us_per_item']:8.1f} | {n['items_per_s']:25,.0f} {n['p99_ms']:8.1f} "
            f"{n['cpu_us_per_item']:8.1f}"
        )
    print(
        "  obsvty/null-sink throughput ratio, median of rounds: "
        f"{comparison['median']['ratio']:.3f}"
    )
    before, after = comparison["load_average_before"], comparison["load_average_after"]
    print(f"  load average before {before}, after {after}")
    if not comparison["healthy"]:
        print("  FAILED: an acknowledged item is not stored once, or a server did not stop cleanly")


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.rate is not None and args.rate <= 0:
        p.error("--rate must be positive")
    if args.protocol == "grpc" and args.encoding != "protobuf":
        p.error("--encoding json is for --protocol http (OTLP/gRPC is protobuf)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.items_per_request < 1:
        p.error("--items-per-request must be positive")
    if args.compare:
        comparison = compare(args)
        print_comparison(comparison)
        if args.output:
            args.output.write_text(json.dumps(comparison, indent=2) + "\n")
        return 0 if comparison["healthy"] else 1
    report = run(args)
    print_report(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if healthy(report) else 1


if __name__ == "__main__":
    sys.exit(main())
