from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from obsvty.adapters.buffer.memory import MemoryBuffer
from obsvty.adapters.logging import (
    bind_request_id,
    configure_logging,
    mask_secrets,
    request_id_var,
    reset_request_id,
)
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics, StateSources, watch_state
from obsvty.application.flush import Flusher
from obsvty.application.health import BufferHealth, HealthRegistry, StoreHealth
from obsvty.config import SettingsError, load_settings, parse_duration, parse_size
from obsvty.domain.batches import SpanBatch
from obsvty.ports.health import ComponentHealth

pytestmark = pytest.mark.unit


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_json_line_carries_request_id_and_masks_tokens() -> None:
    # Arrange
    stream = io.StringIO()
    configure_logging("INFO", "auto", stream)  # a StringIO is not a terminal: JSON
    token = bind_request_id("req-42")

    # Act
    logging.getLogger("obsvty.test").info(
        "refused header Authorization: Bearer s3cr3t-t0ken", extra={"signal": "traces"}
    )
    reset_request_id(token)
    logging.getLogger("obsvty.test").info("after")

    # Assert
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["request_id"] == "req-42"
    assert first["level"] == "INFO"
    assert first["logger"] == "obsvty.test"
    assert first["signal"] == "traces"
    assert "s3cr3t-t0ken" not in first["message"]
    assert "request_id" not in second


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_text_format_is_readable() -> None:
    # Arrange
    stream = io.StringIO()
    configure_logging("WARNING", "text", stream)
    token = bind_request_id(None)

    # Act
    logging.getLogger("obsvty.x").info("hidden")
    logging.getLogger("obsvty.x").warning("shown %d", 1)
    rid = request_id_var.get()
    reset_request_id(token)

    # Assert
    out = stream.getvalue()
    assert "hidden" not in out
    assert f"WARNING obsvty.x [{rid}]: shown 1" in out
    assert len(rid) == 16


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_exception_is_in_json() -> None:
    # Arrange
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)

    # Act
    try:
        raise ValueError("boom password=abcdef")
    except ValueError:
        logging.getLogger("obsvty.x").exception("failed")

    # Assert
    entry = json.loads(stream.getvalue())
    assert "ValueError" in entry["exc_info"]
    assert "abcdef" not in entry["exc_info"]


def test_bind_request_id_rejects_unsafe_client_value() -> None:
    # Act
    token = bind_request_id("bad id\nwith newline")
    rid = request_id_var.get()
    reset_request_id(token)

    # Assert
    assert rid != "bad id\nwith newline"
    assert len(rid) == 16


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("api_key=ABCD1234", "ABCD1234"),
        ('{"token": "tok-123456"}', "tok-123456"),
    ],
)
def test_mask_secrets_hides_credentials(text: str, hidden: str) -> None:
    assert hidden not in mask_secrets(text)


class _Broken:
    name = "broken"

    def health(self) -> ComponentHealth:
        raise RuntimeError("secret detail")


class _Sink:
    name = "cloud-sync"

    def health(self) -> ComponentHealth:
        return ComponentHealth(self.name, lag=12.0, dead_letters=3, details={"state": "open"})


def test_health_registry_broken_reporter_makes_unready_not_crash() -> None:
    # Arrange
    registry = HealthRegistry()
    registry.register(_Broken())
    registry.register(_Sink())

    # Act
    report = registry.check()

    # Assert
    assert report.live
    assert not report.ready
    body = report.to_json(for_readiness=True)
    assert body["status"] == "unavailable"
    components = body["components"]
    assert isinstance(components, dict)
    assert components["broken"]["reason"] == "health check failed: RuntimeError"
    assert components["cloud-sync"] == {
        "live": True,
        "ready": True,
        "lag": 12.0,
        "dead_letters": 3,
        "state": "open",
    }


def test_health_registry_duplicate_name_refused_and_unregister() -> None:
    # Arrange
    registry = HealthRegistry()
    registry.register(_Sink())

    # Act / Assert
    with pytest.raises(ValueError, match="cloud-sync"):
        registry.register(_Sink())
    registry.unregister("cloud-sync")
    assert registry.check().components == []


def _spans(n: int) -> SpanBatch:
    b = SpanBatch()
    b.trace_id.extend([b"\x01" * 16] * n)
    b.name.extend(["s"] * n)
    return b


def test_buffer_health_saturated_buffer_is_not_ready() -> None:
    # Arrange
    buffer = MemoryBuffer(100)
    health = BufferHealth(buffer)
    buffer.put(_spans(94))
    ok = health.health()

    # Act
    buffer.put(_spans(1))
    saturated = health.health()

    # Assert
    assert ok.ready
    assert not saturated.ready
    assert saturated.reason == "buffer 95% full"
    assert saturated.details["items"] == 95
    assert saturated.details["capacity"] == 100


class _Store:
    def __init__(self) -> None:
        self.fail = False

    def write(self, batches: object) -> None:
        from obsvty.ports.store import StoreError

        if self.fail:
            raise StoreError("disk full")

    def close(self) -> None:
        pass


def test_store_health_follows_flusher_writes() -> None:
    # Arrange
    buffer = MemoryBuffer(100)
    store = _Store()
    flusher = Flusher(buffer, store, batch_size=10, interval=1)
    now = [100.0]
    health = StoreHealth(flusher, clock=lambda: now[0], store_size=lambda: 123)
    before = health.health()
    buffer.put(_spans(1))
    flusher.flush_once()
    now[0] = 102.5

    # Act
    after = health.health()

    # Assert
    assert before.ready
    assert before.details["last_flush_age_seconds"] is None
    assert after.ready
    assert after.details["writable"] is True
    assert after.details["flushed_items"] == 1
    assert after.details["size_bytes"] == 123


def test_parse_duration_units_and_off() -> None:
    assert parse_duration("72h") == timedelta(hours=72)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("30") == timedelta(seconds=30)
    assert parse_duration("off") is None
    with pytest.raises(ValueError, match="unit"):
        parse_duration("3 fortnights")


def test_parse_size_units() -> None:
    assert parse_size("10GB") == 10 * 1000**3
    assert parse_size("512MiB") == 512 * 1024**2
    assert parse_size("1.5G") == 1_500_000_000
    assert parse_size("2048") == 2048
    assert parse_size("") is None
    with pytest.raises(ValueError, match="unit"):
        parse_size("ten gigs")


def test_load_settings_bad_retention_names_setting() -> None:
    with pytest.raises(SettingsError, match="OBSVTY_RETENTION"):
        load_settings(obsvty_retention="soon")


def test_load_settings_secret_hash_key_never_echoed() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(obsvty_redaction_hash_key=["not", "a", "string"])
    assert "not" not in str(info.value)
    assert "OBSVTY_REDACTION_HASH_KEY" in str(info.value)


def test_load_settings_retention_and_size(tmp_path: Path) -> None:
    settings = load_settings(obsvty_retention="2d", obsvty_max_db_size="1GiB")
    assert settings.obsvty_retention == timedelta(days=2)
    assert settings.obsvty_max_db_size == 1024**3


def test_metrics_scrape_reports_buffer_drops_per_signal() -> None:
    # Arrange: a real buffer that drops 2 of 5 spans
    buffer = MemoryBuffer(3)
    metrics = ObsvtyMetrics()
    watch_state(metrics, StateSources(buffer=buffer))
    buffer.put(_spans(5))

    # Act
    samples = {
        (s.name, tuple(s.labels.values())): s.value
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for s in family.samples
    }

    # Assert
    assert samples[("obsvty_items_dropped_total", ("traces",))] == 2
    assert samples[("obsvty_items_dropped_total", ("logs",))] == 0
    assert samples[("obsvty_items_dropped_total", ("metrics",))] == 0
