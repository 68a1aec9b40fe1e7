"""A running obsvty whose store refuses one batch forever (a fault injector around the real DuckDB
store, wired only by this test): the OpenTelemetry SDK's exporters keep sending, the poison is
parked as a store dead letter, everything else is stored, a durable acknowledgement of the poison
comes once its file is on disk, /readyz says degraded (still 200) and /metrics counts it; after
the server stops, ``obsvty dead-letters replay`` stores the poison once."""

from __future__ import annotations

import functools
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from bench.fault_run import POISON_MARK, PoisonInjector, poison_logs_request
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from obsvty import cli
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.telemetry.metrics import MeteredStore, ObsvtyMetrics
from obsvty.config import load_settings
from obsvty.dead_letters_command import run_dead_letters
from obsvty.ports.store import TelemetryStorePort
from tests.support.reliability import wait_until
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningObsvty]:
    def metered(store: TelemetryStorePort, metrics: ObsvtyMetrics) -> MeteredStore:
        return MeteredStore(PoisonInjector(store), metrics)

    monkeypatch.setattr("obsvty.adapters.buffer.pipeline.MeteredStore", metered)
    with running_obsvty(
        tmp_path, ack_mode="durable", flush_max_attempts=2, durable_ack_timeout_s=30
    ) as running:
        yield running


def _sdk_tracer(server: RunningObsvty) -> tuple[TracerProvider, list[SpanExportResult]]:
    """The SDK with its OTLP/HTTP exporter; the export results are recorded."""
    exporter = OTLPSpanExporter(endpoint=f"{server.http_url}/v1/traces", timeout=30)
    results: list[SpanExportResult] = []
    export = exporter.export

    def recorded(spans):  # type: ignore[no-untyped-def]
        results.append(export(spans))
        return results[-1]

    exporter.export = recorded  # type: ignore[method-assign]
    provider = TracerProvider(resource=Resource({"service.name": "dead-letter-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, results


def _poison_while_others_send(server: RunningObsvty, good: int) -> list[SpanExportResult]:
    """One client exports the poison span (waiting for its durable acknowledgement) while another
    exports ``good`` spans one by one; the results, the poison's first."""
    poison_provider, poison_results = _sdk_tracer(server)
    provider, results = _sdk_tracer(server)
    poisoner = threading.Thread(
        target=lambda: poison_provider.get_tracer("poison").start_span(POISON_MARK).end()
    )
    poisoner.start()
    tracer = provider.get_tracer("tests.dead_letters")
    for i in range(good):
        tracer.start_span(f"good-{i}").end()
    poisoner.join(60)
    poison_provider.shutdown()
    provider.shutdown()
    return poison_results + results


def _scrape(server: RunningObsvty) -> dict[str, float]:
    text = httpx.get(f"{server.http_url}/metrics").text
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if "store_dead_letter" in s.name
    }


def _span_names(db_path: Path) -> list[str]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM spans").fetchall())
    finally:
        con.close()


def test_server_poison_batch_is_parked_others_stored_and_replay_stores_it_once(
    server: RunningObsvty,
) -> None:
    # Act
    results = _poison_while_others_send(server, good=6)
    assert wait_until(lambda: _scrape(server).get("obsvty_store_dead_letter_batches_total") == 1)
    metrics = _scrape(server)
    ready = httpx.get(f"{server.http_url}/readyz")
    live = httpx.get(f"{server.http_url}/healthz")

    # Assert: every export acknowledged, the poison once its letter was written
    assert results == [SpanExportResult.SUCCESS] * 7
    assert metrics["obsvty_store_dead_letter_items_total"] == 1
    assert metrics["obsvty_store_dead_letters_waiting"] == 1
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert "obsvty dead-letters" in ready.json()["components"]["store_dead_letters"]["reason"]
    assert live.status_code == 200
    server.flush()
    store = server.app.store
    assert isinstance(store, DuckDBStore)
    names = store.cursor().execute("SELECT name FROM spans ORDER BY name").fetchall()
    assert [n for (n,) in names] == [f"good-{i}" for i in range(6)]


def test_server_replay_after_stop_stores_the_poison_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: a run that parks the poison, then the server stops (the fault goes with it)
    def metered(store: TelemetryStorePort, metrics: ObsvtyMetrics) -> MeteredStore:
        return MeteredStore(PoisonInjector(store), metrics)

    monkeypatch.setattr("obsvty.adapters.buffer.pipeline.MeteredStore", metered)
    with running_obsvty(
        tmp_path, ack_mode="durable", flush_max_attempts=2, durable_ack_timeout_s=30
    ) as server:
        results = _poison_while_others_send(server, good=2)
        settings = server.settings
    monkeypatch.undo()
    out, err = io.StringIO(), io.StringIO()

    # Act
    code = run_dead_letters(settings, "replay", every=True, out=out, err=err)
    again = run_dead_letters(load_settings(**settings.model_dump()), "replay", every=True)

    # Assert
    assert results == [SpanExportResult.SUCCESS] * 3
    assert (code, again) == (0, 0)
    assert "1 replayed, 0 failed" in err.getvalue()
    assert _span_names(tmp_path / "obsvty.duckdb") == sorted([POISON_MARK, "good-0", "good-1"])


def _logs_request(first: int, count: int) -> bytes:
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    for i in range(first, first + count):
        record = records.add()
        record.time_unix_nano = 1_750_000_000_000_000_000 + i
        record.body.string_value = f"good {i}"
    return request.SerializeToString()


def test_server_on_mongodb_parks_poison_logs_and_replay_stores_them_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mongodb_uri: str, mongodb_database: str
) -> None:
    # Arrange
    def metered(store: TelemetryStorePort, metrics: ObsvtyMetrics) -> MeteredStore:
        return MeteredStore(PoisonInjector(store), metrics)

    monkeypatch.setattr("obsvty.adapters.buffer.pipeline.MeteredStore", metered)
    settings = {
        "obsvty_storage": "mongodb",
        "mongodb_uri": mongodb_uri,
        "mongodb_database": mongodb_database,
        "flush_max_attempts": 2,
    }
    with running_obsvty(tmp_path, **settings) as server:
        post = functools.partial(
            httpx.post, headers={"Content-Type": "application/x-protobuf"}, timeout=30
        )
        answers = [post(f"{server.http_url}/v1/logs", content=poison_logs_request(7))]
        for first in range(0, 40, 10):  # other clients keep sending
            answers.append(post(f"{server.http_url}/v1/logs", content=_logs_request(first, 10)))
            if wait_until(lambda: server.app.flusher.stats.dead_letter_batches == 1, 0.5):
                break
        parked = wait_until(lambda: server.app.flusher.stats.dead_letter_batches == 1)
        server.flush()
        live_settings = server.settings
    monkeypatch.undo()
    logs = MongoClient(mongodb_uri)[mongodb_database]["logs"]
    stored_before = logs.count_documents({})

    # Act
    first = run_dead_letters(live_settings, "replay", every=True)
    second = run_dead_letters(live_settings, "replay", every=True)

    # Assert
    assert parked
    assert [a.status_code for a in answers] == [200] * len(answers)
    good = 10 * (len(answers) - 1)
    assert stored_before == good
    assert (first, second) == (0, 0)
    assert logs.count_documents({}) == good + 7
    assert logs.count_documents({"body": {"$regex": POISON_MARK}}) == 7


def test_server_replay_through_the_admin_api_while_serving_stores_the_poison_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: the server parks the poison, then the fault is removed while it keeps serving
    injectors: list[PoisonInjector] = []

    def metered(store: TelemetryStorePort, metrics: ObsvtyMetrics) -> MeteredStore:
        injectors.append(PoisonInjector(store))
        return MeteredStore(injectors[-1], metrics)

    monkeypatch.setattr("obsvty.adapters.buffer.pipeline.MeteredStore", metered)
    with running_obsvty(
        tmp_path, ack_mode="durable", flush_max_attempts=2, durable_ack_timeout_s=30
    ) as server:
        results = _poison_while_others_send(server, good=2)
        injectors[0].active = False
        listed = httpx.get(f"{server.api_url}/api/v1/admin/store-dead-letters").json()

        # Act
        first = cli.main(["dead-letters", "replay", "--all", "--api-url", server.api_url])
        second = cli.main(["dead-letters", "replay", "--all", "--api-url", server.api_url])
        store = server.app.store
        assert isinstance(store, DuckDBStore)
        names = store.cursor().execute("SELECT name FROM spans ORDER BY name").fetchall()
        ready = httpx.get(f"{server.http_url}/readyz").json()["status"]

    # Assert
    assert results == [SpanExportResult.SUCCESS] * 3
    assert [(x["signal"], x["items"]) for x in listed["store_dead_letters"]] == [("traces", 1)]
    assert (first, second) == (0, 0)
    assert "1 replayed, 0 failed" in capsys.readouterr().err
    assert [n for (n,) in names] == sorted(["good-0", "good-1", POISON_MARK])
    assert ready == "ok"


def test_replay_through_the_api_unreachable_or_refused_exits_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: a server that asks for a query token, and a port nobody listens on
    with running_obsvty(tmp_path, obsvty_query_tokens="right-token") as server:
        settings = server.settings
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
        closed.close()

        # Act
        refused = run_dead_letters(
            settings,
            "replay",
            every=True,
            api_url=server.api_url,
            token="wrong-token",  # noqa: S106 - a test credential
        )
        unreachable = run_dead_letters(settings, "replay", every=True, api_url=nobody)

    # Assert
    err = capsys.readouterr().err
    assert (refused, unreachable) == (1, 1)
    assert "answered HTTP 401" in err
    assert "cannot reach the obsvty query API" in err
