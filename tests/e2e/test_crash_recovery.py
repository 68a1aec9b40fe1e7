"""kill -9 obsvty in durable mode while the OpenTelemetry SDK sends spans, restart it, repeat:
every span whose export was acknowledged is stored, and no span is stored twice (the SDK re-sends
requests whose answer the kill swallowed)."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import duckdb
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.reliability import wait_until
from tests.support.subprocess_server import obsvty_process

pytestmark = pytest.mark.e2e

WORKERS = 4
SPANS_PER_EXPORT = 100
KILLS = 3
MAX_ATTEMPTS = 200

SpanKey = tuple[str, str]


class SpanLoad:
    """Worker threads, each an SDK tracer whose finished spans go out through the SDK's OTLP/gRPC
    exporter; an export that fails is retried, same spans, until it is acknowledged."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.acked: set[SpanKey] = set()
        self.failed_exports = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._guarded, args=(n,), daemon=True) for n in range(WORKERS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)

    def acked_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def _guarded(self, worker: int) -> None:
        try:
            self._run(worker)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def _run(self, worker: int) -> None:
        provider = TracerProvider(resource=Resource({"service.name": f"crash-worker-{worker}"}))
        finished = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(finished))
        tracer = provider.get_tracer("tests.crash_recovery")
        exporter = OTLPSpanExporter(endpoint=self.endpoint, insecure=True, timeout=3)
        while not self._stop.is_set():
            for i in range(SPANS_PER_EXPORT):
                tracer.start_span(f"operation-{i % 7}", attributes={"i": i}).end()
            spans = finished.get_finished_spans()
            finished.clear()
            attempts = 1
            while exporter.export(spans) is not SpanExportResult.SUCCESS:
                with self._lock:
                    self.failed_exports += 1
                attempts += 1
                if attempts > MAX_ATTEMPTS:
                    raise RuntimeError("export never acknowledged")
                self._stop.wait(0.1)
            keys = {(f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}") for s in spans}
            with self._lock:
                self.acked |= keys
        exporter.shutdown()
        provider.shutdown()


def test_durable_mode_kill9_mid_stream_and_restart_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    # Arrange
    db_path = tmp_path / "crash.duckdb"
    rng = random.Random(7)
    with obsvty_process(
        db_path, ack_mode="durable", durable_ack_timeout_s=2, log_level="WARNING"
    ) as server:
        load = SpanLoad(server.grpc_endpoint)
        load.start()

        # Act: kill -9 at a different moment of the stream each time, restart on the same file
        for _ in range(KILLS):
            target = load.acked_count() + rng.randint(3, 12) * SPANS_PER_EXPORT
            assert wait_until(lambda t=target: load.acked_count() >= t, timeout=60), (
                server.log_text()
            )
            server.kill()
            server.start()
        target = load.acked_count() + 5 * SPANS_PER_EXPORT
        assert wait_until(lambda: load.acked_count() >= target, timeout=60), server.log_text()
        load.stop()
        server.kill()

    # Assert: the file opens after the last kill (the WAL replays) and holds exactly once
    # every acknowledged span
    assert load.errors == []
    con = duckdb.connect(str(db_path))
    stored = con.execute("SELECT trace_id, span_id FROM spans").fetchall()
    con.close()
    stored_keys = set(stored)
    assert load.acked - stored_keys == set()
    assert len(stored) == len(stored_keys)
    assert load.failed_exports > 0  # the kills did interrupt exports, which were re-sent
