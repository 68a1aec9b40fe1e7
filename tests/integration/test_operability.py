from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from prometheus_client.parser import text_string_to_metric_families

from obsvty.adapters.logging import configure_logging
from obsvty.adapters.otlp import native
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import Batch, SpanBatch
from obsvty.ports.health import ComponentHealth
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


def _metrics(server: RunningObsvty) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{server.http_url}/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _send_spans_grpc(server: RunningObsvty, names: list[str], attributes: dict[str, str]) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "ops-test"}))
    exporter = OTLPSpanExporter(endpoint=f"http://{server.grpc_endpoint}", insecure=True)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("ops")
    for name in names:
        tracer.start_span(name, attributes=attributes).end()
    provider.shutdown()


def _wait_until(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_probes_default_server_live_and_ready_with_details(obsvty: RunningObsvty) -> None:
    # Act
    live = httpx.get(f"{obsvty.http_url}/healthz")
    ready = httpx.get(f"{obsvty.http_url}/readyz")

    # Assert
    assert live.status_code == 200
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    assert body["components"]["buffer"]["capacity"] == obsvty.settings.max_buffer_size
    assert body["components"]["buffer"]["items"] == 0
    assert body["components"]["store"]["writable"] is True
    assert body["components"]["store"]["size_bytes"] > 0
    assert ready.headers["cache-control"] == "no-store"


class FakeSink:
    """Stands in for a cloud sync component (the real one plugs into the same registry)."""

    name = "fake-sink"

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            self.name, ready=False, reason="cloud unreachable", lag=250.0, dead_letters=7
        )


def test_readyz_unready_component_answers_503_and_metrics_show_sink(
    obsvty: RunningObsvty,
) -> None:
    # Arrange
    obsvty.app.health.register(FakeSink())

    # Act
    live = httpx.get(f"{obsvty.http_url}/healthz")
    ready = httpx.get(f"{obsvty.http_url}/readyz")
    samples = _metrics(obsvty)

    # Assert
    assert live.status_code == 200  # not ready is not dead: no restart
    assert ready.status_code == 503
    sink = ready.json()["components"]["fake-sink"]
    assert sink == {
        "live": True,
        "ready": False,
        "reason": "cloud unreachable",
        "lag": 250.0,
        "dead_letters": 7,
    }
    assert samples[("obsvty_sink_lag", (("sink", "fake-sink"),))] == 250.0
    assert samples[("obsvty_sink_dead_letters", (("sink", "fake-sink"),))] == 7.0
    assert samples[("obsvty_component_ready", (("component", "fake-sink"),))] == 0.0
    assert samples[("obsvty_component_ready", (("component", "store"),))] == 1.0


def test_metrics_count_requests_items_and_flushes_per_signal_and_protocol(
    obsvty: RunningObsvty, otlp_examples: Path
) -> None:
    # Arrange
    example = (otlp_examples / "trace.json").read_bytes()

    # Act
    _send_spans_grpc(obsvty, ["a", "b", "c"], {})
    ok = httpx.post(f"{obsvty.http_url}/v1/traces", content=example, headers=JSON)
    bad = httpx.post(f"{obsvty.http_url}/v1/logs", content=b"{not json", headers=JSON)
    obsvty.flush()
    samples = _metrics(obsvty)

    # Assert
    assert (ok.status_code, bad.status_code) == (200, 400)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("obsvty_items_accepted_total", signal="traces", protocol="grpc") == 3
    assert value("obsvty_items_accepted_total", signal="traces", protocol="http") == 1
    assert value("obsvty_items_received_total", signal="traces", protocol="http") == 1
    assert value("obsvty_requests_total", signal="traces", protocol="grpc", outcome="ok") == 3
    assert value("obsvty_requests_total", signal="logs", protocol="http", outcome="invalid") == 1
    assert value("obsvty_request_duration_seconds_count", signal="traces", protocol="http") == 1
    assert value("obsvty_buffer_capacity") == obsvty.settings.max_buffer_size
    assert value("obsvty_flush_batch_items_sum") == 4
    assert value("obsvty_store_size_bytes") > 0
    assert value("obsvty_items_dropped_total", signal="traces") == 0


def test_redaction_defaults_store_only_redacted_values(tmp_path: Path) -> None:
    # Arrange
    with running_obsvty(
        tmp_path, obsvty_redaction_defaults=True, obsvty_redaction_hash_key="k3y"
    ) as server:
        redactor = server.app.redactor
        assert redactor is not None
        redacted: list[type] = []
        apply = redactor.apply

        def recording_apply(batch: Batch) -> None:  # the real redaction, its batch type noted
            redacted.append(type(batch))
            apply(batch)

        redactor.apply = recording_apply  # type: ignore[method-assign]
        # Act
        _send_spans_grpc(
            server,
            ["GET /users/jane@corp.example"],
            {"user.email": "jane@corp.example", "db.password": "hunter2", "ok": "fine"},
        )
        server.flush()
        rows = server.app.store.cursor().execute("SELECT name, attributes FROM spans").fetchall()
        samples = _metrics(server)

    # Assert
    ((name, attributes),) = rows
    assert "jane@corp.example" not in name
    assert name.startswith("GET /users/hmac:")
    assert "hunter2" not in attributes
    assert "db.password" not in attributes
    assert "jane@corp.example" not in attributes
    assert "fine" in attributes
    assert name.removeprefix("GET /users/") in attributes  # same value, same hash: joinable
    assert samples[("obsvty_redactions_total", (("rule", "email"),))] == 2
    assert samples[("obsvty_redactions_total", (("rule", "key:*password*"),))] == 1
    # the compiled decoder's Arrow batch was redacted (redaction no longer forces the reference
    # decoder), unless this run has no compiled decoder
    assert redacted == [ArrowBatch if native.AVAILABLE else SpanBatch]


def test_retention_running_server_deletes_expired_spans(
    tmp_path: Path, otlp_examples: Path
) -> None:
    # Arrange: the official example's span is from 2018, long past a one-hour retention
    example = (otlp_examples / "trace.json").read_bytes()
    with running_obsvty(tmp_path, obsvty_retention="1h", retention_interval_s=0.05) as server:
        httpx.post(f"{server.http_url}/v1/traces", content=example, headers=JSON)
        server.flush()
        retention = server.app.operations.retention
        assert retention is not None

        # Act
        deleted = _wait_until(lambda: retention.deleted_totals()["spans"] >= 1)
        ready = httpx.get(f"{server.http_url}/readyz").json()
        samples = _metrics(server)
        left = server.app.store.cursor().execute("SELECT count(*) FROM spans").fetchone()

    # Assert
    assert deleted
    assert left == (0,)
    assert ready["components"]["retention"]["max_age_seconds"] == 3600
    assert ready["components"]["retention"]["deleted_rows"]["spans"] == 1
    assert samples[("obsvty_retention_deleted_rows_total", (("table", "spans"),))] == 1


def test_retention_running_server_reclaim_checkpoint_is_in_metrics(
    tmp_path: Path, otlp_examples: Path
) -> None:
    # Arrange: an expired span, then no more writes: retention's reclaim checkpoints itself
    example = (otlp_examples / "trace.json").read_bytes()
    checkpoints = "obsvty_duckdb_checkpoint_duration_seconds"
    with running_obsvty(tmp_path, obsvty_retention="1h", retention_interval_s=0.05) as server:
        before = _metrics(server)
        httpx.post(f"{server.http_url}/v1/traces", content=example, headers=JSON)
        server.flush()

        # Act
        counted = _wait_until(lambda: _metrics(server)[(f"{checkpoints}_count", ())] >= 1)
        samples = _metrics(server)

    # Assert: the series exists from the start, and the checkpoint is counted in its buckets
    assert before[(f"{checkpoints}_count", ())] == 0
    assert counted
    assert samples[(f"{checkpoints}_bucket", (("le", "+Inf"),))] >= 1
    assert samples[(f"{checkpoints}_sum", ())] > 0


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream)
    yield stream
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_request_id_from_client_is_on_the_request_log_line(
    obsvty: RunningObsvty, json_log: io.StringIO
) -> None:
    # Act
    response = httpx.post(
        f"{obsvty.http_url}/v1/traces",
        content=b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}',
        headers={**JSON, "x-request-id": "req-abc-123"},
    )

    # Assert
    assert response.status_code == 200
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    mine = [entry for entry in lines if entry.get("request_id") == "req-abc-123"]
    assert mine, lines
    assert any("http traces export partial" in entry["message"] for entry in mine)
