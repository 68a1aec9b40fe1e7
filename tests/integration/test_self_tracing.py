"""Self-tracing: obsvty's own pipeline spans, exported by the real OpenTelemetry SDK to a second,
real obsvty, never into itself; and the settings refuse an endpoint that is obsvty itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from obsvty import cli
from obsvty.config import SettingsError, load_settings
from tests.support.duckdb_rows import rows
from tests.support.server import running_obsvty

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
PIPELINE_SPANS = {"obsvty.receive", "obsvty.ingest", "obsvty.store.write"}


def _service(row: dict[str, Any]) -> Any:
    return row["resource_attributes"].get("service.name")


def test_self_tracing_spans_arrive_at_the_collector_and_not_in_obsvty_itself(
    tmp_path: Path, otlp_examples: Path
) -> None:
    # Arrange: a second obsvty plays the collector
    example = (otlp_examples / "trace.json").read_bytes()
    (tmp_path / "collector").mkdir()
    (tmp_path / "traced").mkdir()
    with running_obsvty(tmp_path / "collector") as collector:
        with running_obsvty(
            tmp_path / "traced",
            obsvty_self_tracing=True,
            obsvty_self_tracing_endpoint=f"http://{collector.grpc_endpoint}",
        ) as traced:
            # Act: one export request, flushed; the graceful stop exports the spans
            answer = httpx.post(f"{traced.http_url}/v1/traces", content=example, headers=JSON)
            traced.flush()
        collector.flush()
        at_collector = rows(collector.app.store.cursor(), "spans")
    with duckdb.connect(str(traced.db_path), read_only=True) as db:
        in_traced = rows(db, "spans")

    # Assert
    assert answer.status_code == 200
    own = [r for r in at_collector if _service(r) == "obsvty"]
    assert {r["name"] for r in own} >= PIPELINE_SPANS
    receive = next(r for r in own if r["name"] == "obsvty.receive")
    ingest = next(r for r in own if r["name"] == "obsvty.ingest")
    assert receive["attributes"]["obsvty.outcome"] == "ok"
    assert receive["attributes"]["obsvty.signal"] == "traces"
    assert receive["attributes"]["obsvty.protocol"] == "http"
    assert receive["attributes"]["obsvty.items.accepted"] == 1
    assert ingest["trace_id"] == receive["trace_id"]
    assert ingest["parent_span_id"] == receive["span_id"]
    write = next(r for r in own if r["name"] == "obsvty.store.write")
    assert write["attributes"]["obsvty.items"] == 1
    assert [r["name"] for r in in_traced] == ["I'm a server span"]  # the example's only
    assert not any(_service(r) == "obsvty" for r in in_traced)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:4317",
        "localhost:4318",
        "http://[::1]:4317",
        "http://0.0.0.0:4318",
        "127.0.0.1",  # no port: the OTLP/gRPC default, 4317
    ],
)
def test_self_tracing_endpoint_at_own_receivers_is_refused(endpoint: str) -> None:
    # Act / Assert
    with pytest.raises(SettingsError, match="own OTLP receivers"):
        load_settings(obsvty_self_tracing=True, obsvty_self_tracing_endpoint=endpoint)


def test_self_tracing_on_without_endpoint_is_refused() -> None:
    # Act / Assert
    with pytest.raises(SettingsError, match="OBSVTY_SELF_TRACING_ENDPOINT"):
        load_settings(obsvty_self_tracing=True)


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:14317", "https://collector.example:4317", "otel:4317"]
)
def test_self_tracing_endpoint_elsewhere_is_accepted(endpoint: str) -> None:
    # Act
    settings = load_settings(obsvty_self_tracing=True, obsvty_self_tracing_endpoint=endpoint)

    # Assert
    assert settings.obsvty_self_tracing_endpoint == endpoint


def test_self_tracing_endpoint_of_own_receivers_on_moved_ports_is_refused() -> None:
    # Act / Assert: the receivers moved to 5317; 4317 is then someone else's
    with pytest.raises(SettingsError, match="own OTLP receivers"):
        load_settings(
            otlp_grpc_port=5317,
            obsvty_self_tracing=True,
            obsvty_self_tracing_endpoint="localhost:5317",
        )
    assert load_settings(
        otlp_grpc_port=5317, obsvty_self_tracing=True, obsvty_self_tracing_endpoint="localhost:4317"
    ).obsvty_self_tracing


def test_cli_serve_self_tracing_into_itself_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OBSVTY_SELF_TRACING", "true")
    monkeypatch.setenv("OBSVTY_SELF_TRACING_ENDPOINT", "http://localhost:4317")

    # Act
    code = cli.main(["serve"])

    # Assert
    assert code == 2
    err = capsys.readouterr().err
    assert "OBSVTY_SELF_TRACING_ENDPOINT=http://localhost:4317" in err
    assert len(err.strip().splitlines()) == 1
