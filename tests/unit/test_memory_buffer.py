"""MemoryBuffer: FIFO order, the two overflow policies, drop logging, and thread safety under many
concurrent producers and a consumer."""

from __future__ import annotations

import logging
import threading
from collections import Counter

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer, OverflowPolicy
from obsvty.domain.batches import LogBatch
from obsvty.domain.model import Signal
from obsvty.ports.buffer import BufferFullError
from tests.support.reliability import span_batch, span_numbers

pytestmark = pytest.mark.unit


def test_buffer_take_returns_oldest_first_and_slices_the_last_batch() -> None:
    # Arrange
    buffer = MemoryBuffer(100)
    buffer.put(span_batch(0, 3))
    buffer.put(span_batch(3, 3))

    # Act
    first = buffer.take(4, timeout=0)
    rest = buffer.take(100, timeout=0)

    # Assert
    assert span_numbers(first) == [0, 1, 2, 3]
    assert span_numbers(rest) == [4, 5]
    assert buffer.size() == 0


def test_buffer_take_on_empty_buffer_times_out_empty() -> None:
    # Act / Assert
    assert MemoryBuffer(10).take(10, timeout=0.01) == []


def test_buffer_put_sequence_increases_by_one_per_put() -> None:
    # Arrange
    buffer = MemoryBuffer(10)

    # Act
    sequences = [buffer.put(span_batch(i, 1)).sequence for i in range(3)]

    # Assert
    assert sequences == [1, 2, 3]


def test_buffer_drop_oldest_discards_oldest_items_first_and_counts_them() -> None:
    # Arrange
    buffer = MemoryBuffer(5, OverflowPolicy.DROP_OLDEST)
    buffer.put(span_batch(0, 3))
    buffer.put(span_batch(3, 2))

    # Act
    result = buffer.put(span_batch(5, 2))

    # Assert
    assert result.dropped == 2
    assert buffer.dropped_total == 2
    assert buffer.is_full()
    assert span_numbers(buffer.take(10, timeout=0)) == [2, 3, 4, 5, 6]


def test_buffer_drop_oldest_batch_larger_than_capacity_keeps_its_newest_items() -> None:
    # Arrange
    buffer = MemoryBuffer(3, OverflowPolicy.DROP_OLDEST)
    buffer.put(span_batch(0, 1))

    # Act
    result = buffer.put(span_batch(10, 5))

    # Assert
    assert result.dropped == 3  # the one held, and the two oldest of the new batch
    assert span_numbers(buffer.take(10, timeout=0)) == [12, 13, 14]


def test_buffer_reject_refuses_whole_batch_and_keeps_contents() -> None:
    # Arrange
    buffer = MemoryBuffer(4, OverflowPolicy.REJECT)
    buffer.put(span_batch(0, 3))

    # Act
    with pytest.raises(BufferFullError, match="buffer full"):
        buffer.put(span_batch(3, 2))

    # Assert
    assert buffer.dropped_total == 0
    assert span_numbers(buffer.take(10, timeout=0)) == [0, 1, 2]


def test_buffer_drop_oldest_logs_at_most_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Arrange
    buffer = MemoryBuffer(1, OverflowPolicy.DROP_OLDEST, drop_log_interval=3600)
    caplog.set_level(logging.WARNING, logger="obsvty.adapters.buffer.memory")

    # Act
    for i in range(5):
        buffer.put(span_batch(i, 1))

    # Assert
    warnings = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(warnings) == 1  # the first drop, then quiet for the interval
    assert buffer.dropped_total == 4


def test_buffer_drop_oldest_with_zero_interval_logs_every_drop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Arrange
    buffer = MemoryBuffer(1, OverflowPolicy.DROP_OLDEST, drop_log_interval=0)
    caplog.set_level(logging.WARNING, logger="obsvty.adapters.buffer.memory")

    # Act
    for i in range(3):
        buffer.put(span_batch(i, 1))

    # Assert
    assert len([r for r in caplog.records if "dropped 1 oldest" in r.getMessage()]) == 2


def test_buffer_wait_until_size_sees_items_put_by_another_thread() -> None:
    # Arrange
    buffer = MemoryBuffer(10)
    producer = threading.Timer(0.01, lambda: buffer.put(span_batch(0, 3)))

    # Act
    producer.start()
    reached = buffer.wait_until_size(3, timeout=30)
    producer.join()

    # Assert
    assert reached
    assert not buffer.wait_until_size(4, timeout=0)


def test_buffer_non_positive_capacity_is_refused() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="capacity"):
        MemoryBuffer(0)


PRODUCERS = 8
PUTS_PER_PRODUCER = 150


def _run_concurrently(buffer: MemoryBuffer, *, retry_when_full: bool) -> list[int]:
    """PRODUCERS threads put numbered spans (1..4 per batch) while one consumer takes; returns
    the numbers the consumer got, in order, once the producers are done and the buffer empty."""
    taken: list[int] = []
    producers_done = threading.Event()
    start = threading.Barrier(PRODUCERS + 1)

    def produce(producer: int) -> None:
        start.wait()
        number = producer * 1_000_000
        for i in range(PUTS_PER_PRODUCER):
            batch = span_batch(number, 1 + i % 4)
            number += len(batch)
            while True:
                try:
                    buffer.put(batch)
                    break
                except BufferFullError:
                    assert retry_when_full
                    threading.Event().wait(0.0005)

    def consume() -> None:
        start.wait()
        while not (producers_done.is_set() and buffer.size() == 0):
            taken.extend(span_numbers(buffer.take(7, timeout=0.01)))

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    consumer = threading.Thread(target=consume)
    for thread in [*threads, consumer]:
        thread.start()
    for thread in threads:
        thread.join(60)
    producers_done.set()
    consumer.join(60)
    assert not consumer.is_alive()
    return taken


def _all_numbers() -> list[int]:
    numbers = []
    for producer in range(PRODUCERS):
        number = producer * 1_000_000
        for i in range(PUTS_PER_PRODUCER):
            count = 1 + i % 4
            numbers.extend(range(number, number + count))
            number += count
    return numbers


def _assert_fifo_per_producer(taken: list[int]) -> None:
    by_producer: dict[int, list[int]] = {}
    for number in taken:
        by_producer.setdefault(number // 1_000_000, []).append(number)
    for numbers in by_producer.values():
        assert numbers == sorted(numbers)


def test_buffer_concurrent_producers_drop_oldest_loses_only_counted_drops() -> None:
    # Arrange: a small buffer, so that producers outpace the consumer and drops happen
    buffer = MemoryBuffer(40, OverflowPolicy.DROP_OLDEST)

    # Act
    taken = _run_concurrently(buffer, retry_when_full=False)

    # Assert
    sent = _all_numbers()
    counts = Counter(taken)
    assert not [n for n, c in counts.items() if c > 1], "an item was taken twice"
    assert set(taken) <= set(sent)
    assert buffer.dropped_total > 0, "the test meant to overflow the buffer"
    assert len(sent) - len(taken) == buffer.dropped_total
    _assert_fifo_per_producer(taken)


def test_buffer_concurrent_producers_reject_loses_nothing() -> None:
    # Arrange
    buffer = MemoryBuffer(40, OverflowPolicy.REJECT)

    # Act
    taken = _run_concurrently(buffer, retry_when_full=True)

    # Assert
    assert sorted(taken) == sorted(_all_numbers())
    assert len(taken) == len(set(taken))
    assert buffer.dropped_total == 0
    _assert_fifo_per_producer(taken)


def test_buffer_concurrent_producers_ample_capacity_drops_nothing() -> None:
    # Arrange
    buffer = MemoryBuffer(PRODUCERS * PUTS_PER_PRODUCER * 4, OverflowPolicy.DROP_OLDEST)

    # Act
    taken = _run_concurrently(buffer, retry_when_full=False)

    # Assert
    assert sorted(taken) == sorted(_all_numbers())
    assert buffer.dropped_total == 0


def _log_batch(count: int) -> LogBatch:
    batch = LogBatch()
    batch.time_unix_nano.extend(range(count))
    return batch


def test_buffer_drop_oldest_counts_drops_per_signal_of_the_dropped_items() -> None:
    # Arrange: 3 spans then 2 log records fill the buffer
    buffer = MemoryBuffer(5, OverflowPolicy.DROP_OLDEST)
    buffer.put(span_batch(0, 3))
    buffer.put(_log_batch(2))

    # Act: 4 more log records push out the 3 spans and the oldest log record
    buffer.put(_log_batch(4))

    # Assert
    assert buffer.dropped_by_signal == {Signal.TRACES: 3, Signal.LOGS: 1, Signal.METRICS: 0}
    assert buffer.dropped_total == 4


def test_buffer_drop_oldest_oversized_batch_counts_its_own_dropped_items_per_signal() -> None:
    # Arrange
    buffer = MemoryBuffer(3, OverflowPolicy.DROP_OLDEST)

    # Act: a batch of 5 log records keeps its newest 3
    buffer.put(_log_batch(5))

    # Assert
    assert buffer.dropped_by_signal[Signal.LOGS] == 2
    assert buffer.dropped_by_signal[Signal.TRACES] == 0


def test_buffer_byte_bound_drops_are_counted_per_signal() -> None:
    # Arrange
    buffer = MemoryBuffer(100, OverflowPolicy.DROP_OLDEST, max_bytes=100)
    buffer.put(span_batch(0, 2), nbytes=60)

    # Act: the spans' bytes must go for the log records' bytes to fit
    buffer.put(_log_batch(1), nbytes=60)

    # Assert
    assert buffer.dropped_by_signal[Signal.TRACES] == 2
    assert buffer.bytes_held() == 60
