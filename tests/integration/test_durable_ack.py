"""ACK_MODE=durable through the real receivers: an acknowledged export is already committed to
DuckDB; while the store fails, clients get retryable answers, and nothing is lost or doubled."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from obsvty.adapters.buffer.memory import OverflowPolicy
from obsvty.application.ingest import AckMode
from obsvty.config import load_settings
from obsvty.main import Application
from tests.support.reliability import PROTOBUF, otlp_span_request, wait_until
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _span_count(server: RunningObsvty) -> int:
    row = server.app.store.cursor().execute("SELECT count(*) FROM spans").fetchone()
    assert row is not None
    return int(row[0])


def _rename_spans(server: RunningObsvty, old: str, new: str) -> None:
    """A real DuckDB failure for every span write: the table is not there."""

    def attempt() -> bool:
        try:
            server.app.store.cursor().execute(f"ALTER TABLE {old} RENAME TO {new}")
        except duckdb.TransactionException:  # raced with a write; try again
            return False
        return True

    assert wait_until(attempt)


def test_durable_sdk_export_acknowledged_is_already_committed(tmp_path: Path) -> None:
    # Arrange: a flush interval far longer than the test, so only a durable ack can explain rows
    provider = TracerProvider()
    finished = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    for i in range(25):
        provider.get_tracer("durable").start_span(f"op-{i}").end()
    with running_obsvty(tmp_path, ack_mode="durable", flush_interval_ms=600_000) as server:
        exporter = OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)

        # Act
        result = exporter.export(finished.get_finished_spans())

        # Assert
        assert result is SpanExportResult.SUCCESS
        assert _span_count(server) == 25
        assert server.app.ingest.ack_mode is AckMode.DURABLE
        exporter.shutdown()


def test_durable_store_failing_answers_retryably_then_stores_everything_once(
    tmp_path: Path,
) -> None:
    # Arrange
    with running_obsvty(
        tmp_path, ack_mode="durable", durable_ack_timeout_s=0.2, flush_interval_ms=600_000
    ) as server:
        client = httpx.Client(base_url=server.http_url, headers=PROTOBUF, timeout=30)
        channel = grpc.insecure_channel(server.grpc_endpoint)
        export = channel.unary_unary(TRACE_EXPORT)
        _rename_spans(server, "spans", "spans_parked")

        # Act
        http_answer = client.post("/v1/traces", content=otlp_span_request(0))
        with pytest.raises(grpc.RpcError) as grpc_error:
            export(otlp_span_request(100), timeout=30)
        failing = server.app.flusher.stats.store_failing
        _rename_spans(server, "spans_parked", "spans")
        # the client re-sends what was refused, as an SDK would
        assert wait_until(
            lambda: client.post("/v1/traces", content=otlp_span_request(0)).status_code == 200
        )
        export(otlp_span_request(100), timeout=30)

        # Assert
        assert http_answer.status_code == 503
        assert http_answer.headers["Retry-After"] == "1"
        assert grpc_error.value.code() is grpc.StatusCode.UNAVAILABLE
        assert "not committed" in (grpc_error.value.details() or "")
        assert failing is True
        counts = (
            server.app.store.cursor()
            .execute("SELECT count(*), count(DISTINCT span_id) FROM spans")
            .fetchone()
        )
        assert counts == (100, 100)
        assert server.app.flusher.stats.store_failing is False
        channel.close()
        client.close()


def test_durable_mode_forces_reject_policy_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    settings = load_settings(
        obsvty_db_path=tmp_path / "d.duckdb",
        ack_mode="durable",
        buffer_overflow_policy="drop_oldest",
        max_buffer_bytes=1234,
    )

    # Act
    with caplog.at_level(logging.WARNING, logger="obsvty"):
        app = Application(settings)

    # Assert
    assert app.buffer.policy is OverflowPolicy.REJECT
    assert app.buffer.max_bytes == 1234
    assert "BUFFER_OVERFLOW_POLICY=drop_oldest ignored" in caplog.text
    app.store.close()


def test_buffered_mode_keeps_the_chosen_policy(tmp_path: Path) -> None:
    # Arrange
    settings = load_settings(
        obsvty_db_path=tmp_path / "b.duckdb",
        ack_mode="buffered",
        buffer_overflow_policy="drop_oldest",
    )

    # Act
    app = Application(settings)

    # Assert
    assert app.buffer.policy is OverflowPolicy.DROP_OLDEST
    assert app.ingest.ack_mode is AckMode.BUFFERED
    app.store.close()
