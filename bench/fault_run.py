"""Fault run for store dead letters (issue 18): steady OTLP/gRPC span load; halfway, a poison
batch (spans and log records the store refuses every time) is sent; it must be parked as store
dead letters within the bounded retries while everything else is stored, ``/readyz`` must say
degraded and ``/metrics`` count it; after a graceful stop, ``obsvty dead-letters replay --all``
with the fault removed (the plain ``obsvty`` command) must store it exactly once, and a second
replay nothing.

The fault: obsvty served by this module (``--serve``), its real store wrapped in
:class:`PoisonInjector`, which refuses any write holding a span named, or a log record whose body
contains, :data:`POISON_MARK` (as a store refuses a value it can never take). It is wired only
here and by tests, never by obsvty itself.

    .venv/bin/python -m bench.fault_run                          # 3 minutes at 40 requests/s
    .venv/bin/python -m bench.fault_run --duration 60 --env ACK_MODE=durable

Exit code 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow.compute as pc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import _env_pair
from bench.load import GrpcClient
from bench.payloads import PayloadFactory
from bench.server import ObsvtyProcess
from bench.verify import check_store
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import Batch, LogBatch, SpanBatch
from obsvty.domain.model import Signal
from obsvty.ports.store import StoreError, TelemetryStorePort

POISON_MARK = "obsvty-fault-run-poison"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _poisoned(batch: Batch) -> bool:
    if isinstance(batch, ArrowBatch):
        column = {Signal.TRACES: "name", Signal.LOGS: "body"}.get(batch.signal)
        if column is None:
            return False
        found = pc.any(pc.match_substring(batch.table.column(column), POISON_MARK)).as_py()
        return bool(found)
    if isinstance(batch, SpanBatch):
        return POISON_MARK in batch.name
    if isinstance(batch, LogBatch):
        return any(isinstance(b, str) and POISON_MARK in b for b in batch.body)
    return False


class PoisonInjector:
    """Fault injector at the storage boundary (fault runs and tests only): the real store, except
    that any write holding a poison item fails, every time, as a store refuses a value it can
    never take."""

    def __init__(self, store: TelemetryStorePort) -> None:
        self._store = store
        self.refused = 0
        self.active = True
        """``False``: the fault is removed, every write goes through."""

    def write(self, batches: Sequence[Batch]) -> None:
        if self.active and any(_poisoned(b) for b in batches):
            self.refused += 1
            raise StoreError(f"injected poison: the store cannot take {POISON_MARK!r}")
        self._store.write(batches)

    def close(self) -> None:
        self._store.close()


def install_poison_injector() -> None:
    """Make the next :class:`obsvty.main.Application` write through a :class:`PoisonInjector`."""
    import obsvty.adapters.buffer.pipeline
    from obsvty.adapters.telemetry.metrics import MeteredStore, ObsvtyMetrics

    def metered(store: TelemetryStorePort, metrics: ObsvtyMetrics) -> MeteredStore:
        return MeteredStore(PoisonInjector(store), metrics)

    obsvty.adapters.buffer.pipeline.MeteredStore = metered  # type: ignore[misc,assignment]


def poison_spans_request(count: int) -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    now = time.time_ns()
    for i in range(count):
        span = spans.add()
        span.trace_id = bytes.fromhex("f0" * 15) + bytes([1])
        span.span_id = (0xF000_0000_0000_0000 + i + 1).to_bytes(8, "big")
        span.name = POISON_MARK
        span.start_time_unix_nano = now + i
        span.end_time_unix_nano = now + i + 1000
    return request.SerializeToString()


def poison_logs_request(count: int) -> bytes:
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    now = time.time_ns()
    for i in range(count):
        record = records.add()
        record.time_unix_nano = now + i
        record.body.CopyFrom(AnyValue(string_value=f"{POISON_MARK} {i}"))
    return request.SerializeToString()


class FaultObsvtyProcess(ObsvtyProcess):
    """obsvty with the poison injector (``python -m bench.fault_run --serve``)."""

    name = "obsvty (poison injector)"

    def __init__(self, workdir: Path, settings: dict[str, str] | None = None) -> None:
        super().__init__(workdir, settings)
        repo = str(Path(__file__).resolve().parents[1])
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (repo, os.environ.get("PYTHONPATH", "")) if p
        )

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.fault_run", "--serve"]


@dataclass
class Run:
    acked_span_ids: set[str] = field(default_factory=set)
    acked_requests: int = 0
    errors: int = 0
    poison_sent_s: float | None = None
    poison_answers: list[int] = field(default_factory=list)
    poison_acked_after_s: float | None = None
    parked_after_s: float | None = None
    readyz_while_parked: str = ""
    metrics_while_parked: dict[str, float] = field(default_factory=dict)


def _metrics(text: str) -> dict[str, float]:
    wanted = (
        "obsvty_store_dead_letter_batches",
        "obsvty_store_dead_letter_items",
        "obsvty_store_dead_letters_waiting",
        "obsvty_flush_failures",
    )
    out = {}
    for family in text_string_to_metric_families(text):
        if family.name in wanted:
            for sample in family.samples:
                if sample.name.endswith(("_total", "_waiting")):
                    out[sample.name] = sample.value
    return out


async def _load(server: FaultObsvtyProcess, args: argparse.Namespace, run: Run) -> None:
    factory = PayloadFactory(args.spans_per_request)
    client = GrpcClient(server.grpc_target)
    start = time.perf_counter()
    tasks: set[asyncio.Task[None]] = set()

    async def one(number: int) -> None:
        outcome = await client.send(factory.payload(number))
        if outcome.error is not None or outcome.rejected_items:
            run.errors += 1
            return
        run.acked_requests += 1
        run.acked_span_ids.update(factory.span_ids(number))

    async def poison() -> None:
        await asyncio.sleep(args.duration / 2)
        run.poison_sent_s = time.perf_counter() - start
        async with httpx.AsyncClient(base_url=server.http_url, headers=PROTOBUF, timeout=60) as h:
            sent = time.perf_counter()
            answers = await asyncio.gather(
                h.post("/v1/traces", content=poison_spans_request(args.poison_items)),
                h.post("/v1/logs", content=poison_logs_request(args.poison_items)),
            )
            run.poison_acked_after_s = round(time.perf_counter() - sent, 3)
            run.poison_answers = [a.status_code for a in answers]
            while time.perf_counter() - start < args.duration:
                scraped = _metrics((await h.get("/metrics")).text)
                if scraped.get("obsvty_store_dead_letter_batches_total", 0) >= 2:
                    run.parked_after_s = round(time.perf_counter() - sent, 3)
                    run.metrics_while_parked = scraped
                    run.readyz_while_parked = (await h.get("/readyz")).json()["status"]
                    return
                await asyncio.sleep(0.1)

    side = asyncio.create_task(poison())
    interval = 1.0 / args.rate
    for i in itertools.count():
        due = start + i * interval
        if due - start >= args.duration:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    await side
    await client.close()


def _counts(db_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        queries = {
            "poison_spans": ("SELECT count(*) FROM spans WHERE name = ?", [POISON_MARK]),
            "poison_logs": ("SELECT count(*) FROM logs WHERE contains(body, ?)", [POISON_MARK]),
            "logs": ("SELECT count(*) FROM logs", []),
        }
        return {
            key: int(con.execute(sql, params).fetchone()[0])  # type: ignore[index]
            for key, (sql, params) in queries.items()
        }
    finally:
        con.close()


def _cli(server: ObsvtyProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    """The plain ``obsvty`` command (no injector: the fault removed) on the run's settings."""
    return subprocess.run(  # nosec B603 - our own interpreter and arguments
        [sys.executable, "-m", "obsvty", *argv],
        cwd=server.workdir,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.fault_run", description=__doc__)
    p.add_argument("--duration", type=float, default=180.0, help="seconds of steady load")
    p.add_argument("--rate", type=float, default=40.0, help="span requests per second")
    p.add_argument("--spans-per-request", type=int, default=100)
    p.add_argument("--poison-items", type=int, default=50, help="items per poison request")
    p.add_argument("--env", type=_env_pair, action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", type=Path, default=None, help="write the report as JSON here")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.serve:  # the server side: obsvty with the injector
        install_poison_injector()
        from obsvty.cli import main as obsvty_main

        return obsvty_main(["serve"])
    run = Run()
    with tempfile.TemporaryDirectory(prefix="obsvty-fault-run-") as tmp:
        settings = {"LOG_LEVEL": "ERROR", **dict(args.env)}
        with FaultObsvtyProcess(Path(tmp), settings) as server:
            print(f"fault run: {args.rate:g} req/s for {args.duration:g}s, poison at half-time")
            asyncio.run(_load(server, args, run))
            stopped = server.stop()
        from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles

        letters = DeadLetterFiles(server.db_path.with_name(server.db_path.name + ".dead-letters"))
        parked = [
            {"signal": x.signal.value, "items": x.items, "attempts": x.attempts}
            for x in letters.letters()
        ]
        stored = check_store(server.db_path, run.acked_span_ids)
        before = _counts(server.db_path)
        first = _cli(server, "dead-letters", "replay", "--all")
        after = _counts(server.db_path)
        second = _cli(server, "dead-letters", "replay", "--all")
        again = _counts(server.db_path)
        listed = _cli(server, "dead-letters", "list")
        replayed = check_store(server.db_path, run.acked_span_ids)
    n = args.poison_items
    checks = {
        "poison parked during the run": run.parked_after_s is not None,
        "parked as 2 letters (spans, logs)": sorted((p["signal"], p["items"]) for p in parked)
        == [("logs", n), ("traces", n)],
        "readyz degraded while parked": run.readyz_while_parked == "degraded",
        "every acknowledged span stored once": stored.ok,
        "no poison stored before replay": before["poison_spans"] == 0 == before["poison_logs"],
        "server stopped cleanly": stopped.exit_code == 0,
        "replay exit 0": first.returncode == 0,
        "replay stored the poison once": after["poison_spans"] == n == after["poison_logs"],
        "second replay stored nothing": again == after and second.returncode == 0,
        "no letter left": listed.stdout.strip() == "",
        "still every span once after replay": replayed.ok and replayed.unacknowledged_stored == n,
    }
    report: dict[str, Any] = {
        "duration_s": args.duration,
        "rate_requests_per_s": args.rate,
        "settings": settings,
        "acked_requests": run.acked_requests,
        "errors": run.errors,
        "poison_sent_at_s": run.poison_sent_s,
        "poison_answers": run.poison_answers,
        "poison_acked_after_s": run.poison_acked_after_s,
        "parked_after_s": run.parked_after_s,
        "parked": parked,
        "metrics_while_parked": run.metrics_while_parked,
        "readyz_while_parked": run.readyz_while_parked,
        "store_before_replay": str(stored),
        "counts_before_replay": before,
        "counts_after_replay": after,
        "counts_after_second_replay": again,
        "replay_stderr": first.stderr.strip().splitlines()[-1:],
        "checks": checks,
    }
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
