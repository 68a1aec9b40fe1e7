"""Flusher: retries a failing store keeping the batch, reports the failure, publishes commits."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer, OverflowPolicy
from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.flush import Flusher
from obsvty.ports.buffer import BufferFullError
from tests.support.reliability import (
    FailingStore,
    RecordingStore,
    span_batch,
    span_numbers,
    wait_until,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def store() -> FailingStore:
    return FailingStore(RecordingStore())


@pytest.fixture
def watermark() -> CommitWatermark:
    return CommitWatermark()


@pytest.fixture
def buffer() -> MemoryBuffer:
    return MemoryBuffer(10, OverflowPolicy.REJECT)


@pytest.fixture
def flusher(
    buffer: MemoryBuffer, store: FailingStore, watermark: CommitWatermark
) -> Iterator[Flusher]:
    flusher = Flusher(
        buffer,
        store,
        batch_size=1000,
        interval=60.0,
        max_backoff=0.02,
        watermark=watermark,
        eager=True,
    )
    flusher.start()
    yield flusher
    store.heal()
    flusher.stop(10)


def _committed(store: FailingStore) -> list[int]:
    inner = store.inner
    assert isinstance(inner, RecordingStore)
    return span_numbers(inner.committed)


def test_flusher_eager_writes_without_waiting_for_interval_or_batch_size(
    flusher: Flusher, buffer: MemoryBuffer, store: FailingStore, watermark: CommitWatermark
) -> None:
    # Act
    sequence = buffer.put(span_batch(0, 3)).sequence

    # Assert
    assert wait_until(lambda: watermark.committed >= sequence)
    assert _committed(store) == [0, 1, 2]
    assert flusher.stats.flushed_items == 3


def test_flusher_failing_store_keeps_batch_reports_failure_and_stores_all_once_healed(
    flusher: Flusher, buffer: MemoryBuffer, store: FailingStore, watermark: CommitWatermark
) -> None:
    # Arrange
    store.fail()
    sequence = buffer.put(span_batch(0, 4)).sequence
    assert wait_until(lambda: store.failed_writes >= 2)

    # Act: the buffer fills while the store fails, then the client is told to retry
    buffer.put(span_batch(4, 10))
    with pytest.raises(BufferFullError):
        buffer.put(span_batch(14, 1))
    failing = (flusher.stats.store_failing, flusher.stats.last_error, watermark.committed)
    store.heal()

    # Assert
    assert failing[0] is True
    assert failing[1] is not None
    assert "no space left" in failing[1]
    assert failing[2] < sequence
    assert wait_until(lambda: buffer.size() == 0 and not flusher.stats.store_failing)
    assert wait_until(lambda: watermark.committed >= sequence + 1)
    assert _committed(store) == list(range(14))
    assert flusher.stats.failing_since_monotonic is None
    assert flusher.stats.consecutive_failures == 0
    assert flusher.stats.failures >= 2


def test_flusher_store_failing_at_shutdown_counts_lost_items_and_publishes_nothing(
    buffer: MemoryBuffer, store: FailingStore, watermark: CommitWatermark
) -> None:
    # Arrange
    flusher = Flusher(
        buffer,
        store,
        batch_size=1000,
        interval=60.0,
        max_backoff=0.01,
        shutdown_attempts=2,
        watermark=watermark,
    )
    store.fail()
    buffer.put(span_batch(0, 3))
    flusher.start()

    # Act
    flusher.stop(10)

    # Assert
    assert flusher.stats.lost_items == 3
    assert watermark.committed == 0
    assert _committed(store) == []


def test_flusher_flush_once_on_empty_buffer_writes_nothing(
    buffer: MemoryBuffer, store: FailingStore
) -> None:
    # Arrange
    flusher = Flusher(buffer, store, batch_size=10, interval=60.0)

    # Act
    written = flusher.flush_once()

    # Assert
    assert written == 0
    assert store.writes == 0


def test_flusher_eager_with_gather_commits_requests_arriving_together_at_once(
    buffer: MemoryBuffer, watermark: CommitWatermark
) -> None:
    # Arrange: a gather window far longer than the test, ended early by a full batch
    store = RecordingStore()
    flusher = Flusher(
        buffer, store, batch_size=6, interval=60.0, watermark=watermark, eager=True, gather=60.0
    )
    flusher.start()

    # Act: the second request comes well after the first (an eager flusher without a gather
    # window commits the first one alone meanwhile)
    buffer.put(span_batch(0, 3))
    time.sleep(0.2)
    sequence = buffer.put(span_batch(3, 3)).sequence
    committed = wait_until(lambda: watermark.committed >= sequence)
    flusher.stop(10)

    # Assert: one commit for both requests
    assert committed
    assert flusher.stats.flushes == 1
    assert span_numbers(store.committed) == [0, 1, 2, 3, 4, 5]
