"""Store dead letters in health and metrics: while any wait, obsvty is degraded (ready and live,
``/readyz`` status ``degraded`` with the reason), and ``/metrics`` counts parked batches and
items and shows the letters waiting."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from obsvty.adapters.buffer.memory import MemoryBuffer
from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics
from obsvty.adapters.telemetry.operations import Operations, OperationsSettings
from obsvty.application.flush import Flusher
from obsvty.application.health import HealthRegistry, StoreDeadLetterHealth
from obsvty.ports.storage_backend import StorageBackend
from obsvty.ports.sync import SyncSourcePort
from tests.support.reliability import RecordingStore, span_batch

pytestmark = pytest.mark.unit


def _backend() -> StorageBackend:
    """A store with nothing but writes: no retention, size or memory gauges."""

    def no_sync() -> SyncSourcePort:
        raise AssertionError("no cloud sync in these tests")

    return StorageBackend(store=RecordingStore(), sync_source=no_sync)


@pytest.fixture
def letters(tmp_path: Path) -> DeadLetterFiles:
    return DeadLetterFiles(tmp_path / "obsvty.duckdb.dead-letters")


@pytest.fixture
def flusher() -> Flusher:
    return Flusher(MemoryBuffer(10), RecordingStore(), batch_size=10, interval=1.0)


def test_store_dead_letter_health_without_letters_is_fine(
    letters: DeadLetterFiles, flusher: Flusher
) -> None:
    # Act
    health = StoreDeadLetterHealth(letters, flusher).health()

    # Assert
    assert (health.live, health.ready, health.degraded, health.reason) == (True, True, False, "")
    assert health.details["waiting"] == 0


def test_store_dead_letter_health_with_a_waiting_letter_is_degraded_but_ready_and_live(
    letters: DeadLetterFiles, flusher: Flusher
) -> None:
    # Arrange
    letters.park(span_batch(0, 3), "refused", attempts=6)
    registry = HealthRegistry()
    registry.register(StoreDeadLetterHealth(letters, flusher))

    # Act
    report = registry.check()
    readiness = report.to_json(for_readiness=True)
    liveness = report.to_json(for_readiness=False)

    # Assert
    assert (report.live, report.ready) == (True, True)
    assert readiness["status"] == liveness["status"] == "degraded"
    component = readiness["components"]["store_dead_letters"]  # type: ignore[index]
    assert component["degraded"] is True
    assert component["reason"] == "1 store dead letter(s) waiting: see obsvty dead-letters list"


def test_store_dead_letter_health_unreadable_directory_is_degraded_with_the_reason(
    tmp_path: Path, flusher: Flusher
) -> None:
    # Arrange: the directory's place is taken by a file
    blocked = tmp_path / "dl"
    blocked.write_text("")

    # Act
    health = StoreDeadLetterHealth(DeadLetterFiles(blocked), flusher).health()

    # Assert
    assert (health.ready, health.degraded) == (True, True)
    assert "cannot read" in health.reason


def test_operations_metrics_count_parked_letters_and_show_those_waiting(
    tmp_path: Path, letters: DeadLetterFiles, flusher: Flusher
) -> None:
    # Arrange
    metrics = ObsvtyMetrics()
    buffer = MemoryBuffer(10)
    Operations(
        OperationsSettings(),
        metrics,
        backend=_backend(),
        buffer=buffer,
        flusher=flusher,
        redactor=None,
        dead_letters=letters,
    )
    letters.park(span_batch(0, 3), "refused", attempts=6)
    flusher.stats.dead_letter_batches, flusher.stats.dead_letter_items = 1, 3

    # Act
    text = generate_latest(metrics.registry).decode()

    # Assert
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if "store_dead_letter" in s.name
    }
    assert samples == {
        "obsvty_store_dead_letter_batches_total": 1.0,
        "obsvty_store_dead_letter_items_total": 3.0,
        "obsvty_store_dead_letters_waiting": 1.0,
    }
    assert 'obsvty_component_ready{component="store_dead_letters"} 1.0' in text


def test_operations_metrics_leave_out_the_waiting_gauge_when_the_directory_is_unreadable(
    tmp_path: Path, flusher: Flusher
) -> None:
    # Arrange: the directory's place is taken by a file
    blocked = tmp_path / "dl"
    blocked.write_text("")
    metrics = ObsvtyMetrics()
    Operations(
        OperationsSettings(),
        metrics,
        backend=_backend(),
        buffer=MemoryBuffer(10),
        flusher=flusher,
        redactor=None,
        dead_letters=DeadLetterFiles(blocked),
    )

    # Act
    text = generate_latest(metrics.registry).decode()

    # Assert
    assert "obsvty_store_dead_letter_batches_total 0.0" in text
    assert "obsvty_store_dead_letters_waiting" not in text
    assert 'obsvty_component_ready{component="store_dead_letters"} 1.0' in text
