"""Flusher: writes by size or by interval, in batches of at most ``batch_size`` items, and drains
everything on stop. (Store failures are covered in test_flusher_reliability.)"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer
from obsvty.application.flush import Flusher
from obsvty.domain.batches import Batch
from tests.support.reliability import RecordingStore, span_batch, span_numbers, wait_until

pytestmark = pytest.mark.unit

HOUR = 3600.0


class WriteRecordingStore(RecordingStore):
    """Test double store: also records how many items each write carried."""

    def __init__(self) -> None:
        super().__init__()
        self.write_sizes: list[int] = []

    def write(self, batches: Sequence[Batch]) -> None:
        self.write_sizes.append(sum(len(b) for b in batches))
        super().write(batches)


def test_flusher_full_batch_is_written_without_waiting_for_the_interval() -> None:
    # Arrange
    buffer, store = MemoryBuffer(100), WriteRecordingStore()
    flusher = Flusher(buffer, store, batch_size=5, interval=HOUR)
    flusher.start()

    # Act
    buffer.put(span_batch(0, 5))
    written = wait_until(lambda: store.write_sizes == [5])
    flusher.stop(10)

    # Assert
    assert written
    assert span_numbers(store.committed) == [0, 1, 2, 3, 4]


def test_flusher_partial_batch_is_written_when_the_interval_passes() -> None:
    # Arrange
    buffer, store = MemoryBuffer(100), WriteRecordingStore()
    flusher = Flusher(buffer, store, batch_size=1000, interval=0.02)
    flusher.start()

    # Act
    buffer.put(span_batch(0, 2))
    written = wait_until(lambda: len(store.committed) > 0)
    flusher.stop(10)

    # Assert
    assert written
    assert span_numbers(store.committed) == [0, 1]
    assert flusher.stats.flushed_items == 2


def test_flusher_stop_drains_everything_in_order_in_batches_of_batch_size() -> None:
    # Arrange
    buffer, store = MemoryBuffer(100), WriteRecordingStore()
    for first in range(0, 23, 4):
        buffer.put(span_batch(first, min(4, 23 - first)))
    flusher = Flusher(buffer, store, batch_size=5, interval=HOUR)

    # Act
    flusher.start()
    flusher.stop(10)

    # Assert
    assert span_numbers(store.committed) == list(range(23))
    assert max(store.write_sizes) <= 5
    assert sum(store.write_sizes) == 23
    assert buffer.size() == 0
    assert (flusher.stats.flushed_items, flusher.stats.failures) == (23, 0)


def test_flusher_flush_once_writes_at_most_batch_size_and_returns_the_count() -> None:
    # Arrange
    buffer, store = MemoryBuffer(100), WriteRecordingStore()
    buffer.put(span_batch(0, 7))
    flusher = Flusher(buffer, store, batch_size=5, interval=HOUR)

    # Act
    counts = [flusher.flush_once(), flusher.flush_once(), flusher.flush_once()]

    # Assert
    assert counts == [5, 2, 0]
    assert store.write_sizes == [5, 2]
    assert flusher.stats.last_flush_monotonic is not None
