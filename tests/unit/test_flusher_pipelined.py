"""Flusher with writes in flight (``writes_in_flight=2``, as wired for the DuckDB process): the next
batch goes to the store while the previous one commits, yet writes complete, publish the
watermark and count in the order they were taken, and a failed write is retried."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer
from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.flush import Flusher
from obsvty.domain.batches import Batch
from obsvty.ports.store import StoreError
from tests.support.reliability import RecordingStore, span_batch, span_numbers, wait_until

pytestmark = pytest.mark.unit

HOUR = 3600.0


class GatedStore(RecordingStore):
    """Test double: the first write waits for ``release`` (a slow commit); later writes commit at
    once. ``fail_first`` makes the first attempt fail instead, once released."""

    def __init__(self, *, fail_first: bool = False) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started: list[list[int]] = []
        self._fail_first = fail_first

    def write(self, batches: Sequence[Batch]) -> None:
        attempt = len(self.started)
        self.started.append(span_numbers(batches))
        if attempt == 0:
            self.release.wait(30)
            if self._fail_first:
                raise StoreError("injected fault: first commit failed")
        super().write(batches)


def _pipelined(buffer: MemoryBuffer, store: RecordingStore, watermark: CommitWatermark) -> Flusher:
    return Flusher(
        buffer,
        store,
        batch_size=5,
        interval=HOUR,
        max_backoff=0.02,
        watermark=watermark,
        writes_in_flight=2,
    )


def test_flusher_pipelined_next_write_starts_while_first_commits_watermark_waits() -> None:
    # Arrange
    buffer, store, watermark = MemoryBuffer(100), GatedStore(), CommitWatermark()
    first = buffer.put(span_batch(0, 5)).sequence
    second = buffer.put(span_batch(5, 5)).sequence
    flusher = _pipelined(buffer, store, watermark)

    # Act
    flusher.start()
    both_started = wait_until(lambda: len(store.started) == 2)
    second_committed = wait_until(lambda: span_numbers(store.committed) == list(range(5, 10)))
    watermark_while_first_commits = watermark.committed
    done_before_first = flusher.stats.flushes
    store.release.set()
    published = wait_until(lambda: watermark.committed == second)
    flusher.stop(10)

    # Assert: the second write ran during the first, but nothing was published past the first
    assert both_started
    assert second_committed
    assert published
    assert store.started == [list(range(5)), list(range(5, 10))]
    assert watermark_while_first_commits < first
    assert done_before_first == 0
    assert flusher.stats.flushes == 2
    assert sorted(span_numbers(store.committed)) == list(range(10))


def test_flusher_pipelined_failed_write_retried_before_later_ones_count() -> None:
    # Arrange
    buffer, watermark = MemoryBuffer(100), CommitWatermark()
    store = GatedStore(fail_first=True)
    buffer.put(span_batch(0, 5))
    last = buffer.put(span_batch(5, 5)).sequence
    flusher = _pipelined(buffer, store, watermark)

    # Act
    flusher.start()
    assert wait_until(lambda: len(store.started) == 2)
    store.release.set()
    published = wait_until(lambda: watermark.committed == last)
    flusher.stop(10)

    # Assert: the failed first batch was written again, everything is stored once
    assert published
    assert store.started == [list(range(5)), list(range(5, 10)), list(range(5))]
    assert sorted(span_numbers(store.committed)) == list(range(10))
    assert flusher.stats.failures == 1
    assert flusher.stats.consecutive_failures == 0
    assert flusher.stats.flushed_items == 10


def test_flusher_pipelined_stop_drains_everything_once() -> None:
    # Arrange
    buffer, store, watermark = MemoryBuffer(100), RecordingStore(), CommitWatermark()
    for first in range(0, 23, 4):
        last = buffer.put(span_batch(first, min(4, 23 - first))).sequence
    flusher = _pipelined(buffer, store, watermark)

    # Act
    flusher.start()
    flusher.stop(10)

    # Assert
    assert sorted(span_numbers(store.committed)) == list(range(23))
    assert buffer.size() == 0
    assert watermark.committed == last


class PoisonedStore(RecordingStore):
    """Test double: refuses every write that holds span 0 (a store that keeps failing on one
    batch through shutdown); commits the others."""

    def write(self, batches: Sequence[Batch]) -> None:
        if 0 in span_numbers(batches):
            raise StoreError("injected fault: this batch cannot be stored")
        super().write(batches)


def test_flusher_pipelined_write_given_up_at_shutdown_later_commit_publishes_nothing() -> None:
    # Arrange: two full batches, the first of which the store refuses until the end
    buffer, store, watermark = MemoryBuffer(100), PoisonedStore(), CommitWatermark()
    buffer.put(span_batch(0, 5))
    buffer.put(span_batch(5, 5))
    flusher = _pipelined(buffer, store, watermark)

    # Act
    flusher.start()
    assert wait_until(lambda: span_numbers(store.committed) == list(range(5, 10)))
    flusher.stop(10)

    # Assert: the second batch is stored, but the watermark never claims the first
    assert watermark.committed == 0
    assert flusher.stats.lost_items == 5
