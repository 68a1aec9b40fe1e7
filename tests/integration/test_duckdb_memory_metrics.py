"""A running obsvty bounds DuckDB's memory with DUCKDB_MEMORY_LIMIT and reports what DuckDB holds
in ``/metrics`` (``obsvty_duckdb_memory_bytes``, ``obsvty_duckdb_temporary_storage_bytes``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client.parser import text_string_to_metric_families

from obsvty.adapters.storage.duckdb.store import DuckDBStore
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration


def _gauges(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics").text
    return {
        family.name: family.samples[0].value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("obsvty_duckdb_") and family.samples
    }


def _send_spans(server: RunningObsvty, count: int) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "memory-test"}))
    exporter = OTLPSpanExporter(endpoint=f"http://{server.grpc_endpoint}", insecure=True)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("memory")
    for i in range(count):
        with tracer.start_as_current_span(f"op-{i % 7}", attributes={"i": i}):
            pass
    provider.shutdown()  # exports what is left


def test_metrics_report_duckdb_memory_on_both_listeners(tmp_path: Path) -> None:
    # Arrange
    with running_obsvty(tmp_path, duckdb_memory_limit="300MB") as server:
        _send_spans(server, 500)
        server.flush()

        # Act
        on_http = _gauges(server.http_url)
        on_api = _gauges(server.api_url)
        store = server.app.store
        assert isinstance(store, DuckDBStore)
        limit = store.cursor().execute("SELECT current_setting('memory_limit')").fetchone()
        stored = store.cursor().execute("SELECT count(*) FROM spans").fetchone()

    # Assert
    assert stored == (500,)
    assert limit == ("286.1 MiB",)  # 300MB = 300 * 1000^2 bytes
    assert on_http["obsvty_duckdb_memory_bytes"] > 0
    assert on_http["obsvty_duckdb_memory_bytes"] <= 300_000_000
    assert on_http["obsvty_duckdb_temporary_storage_bytes"] == 0
    assert on_api["obsvty_duckdb_memory_bytes"] > 0
