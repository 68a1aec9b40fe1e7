"""MemoryBuffer: the byte bound, and which put sequences a take completes."""

from __future__ import annotations

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer, OverflowPolicy
from obsvty.ports.buffer import BufferFullError
from tests.support.reliability import span_batch, span_numbers

pytestmark = pytest.mark.unit


def test_buffer_reject_over_byte_bound_refuses_and_keeps_contents() -> None:
    # Arrange
    buffer = MemoryBuffer(1000, OverflowPolicy.REJECT, max_bytes=1000)
    buffer.put(span_batch(0, 2), nbytes=800)

    # Act / Assert
    with pytest.raises(BufferFullError, match="bytes"):
        buffer.put(span_batch(2, 2), nbytes=300)
    assert buffer.size() == 2
    assert buffer.bytes_held() == 800
    assert buffer.is_full() is False


def test_buffer_batch_larger_than_byte_bound_is_admitted_when_empty() -> None:
    # Arrange
    buffer = MemoryBuffer(1000, OverflowPolicy.REJECT, max_bytes=100)

    # Act
    result = buffer.put(span_batch(0, 3), nbytes=5000)

    # Assert
    assert result.dropped == 0
    assert buffer.bytes_held() == 5000
    assert buffer.is_full() is True
    with pytest.raises(BufferFullError):
        buffer.put(span_batch(3, 1), nbytes=1)


def test_buffer_drop_oldest_over_byte_bound_drops_whole_oldest_batches() -> None:
    # Arrange
    buffer = MemoryBuffer(1000, OverflowPolicy.DROP_OLDEST, max_bytes=1000)
    buffer.put(span_batch(0, 2), nbytes=400)
    buffer.put(span_batch(2, 2), nbytes=400)

    # Act
    result = buffer.put(span_batch(4, 2), nbytes=500)

    # Assert
    assert result.dropped == 2
    assert buffer.dropped_total == 2
    assert buffer.bytes_held() == 900
    assert span_numbers(buffer.take(100, timeout=0)) == [2, 3, 4, 5]
    assert buffer.bytes_held() == 0


def test_buffer_take_slice_shares_bytes_in_proportion() -> None:
    # Arrange
    buffer = MemoryBuffer(1000, max_bytes=10_000)
    buffer.put(span_batch(0, 10), nbytes=1000)

    # Act
    taken = buffer.take(4, timeout=0)

    # Assert
    assert span_numbers(taken) == [0, 1, 2, 3]
    assert buffer.size() == 6
    assert buffer.bytes_held() == 600


def test_buffer_drop_oldest_item_overflow_also_releases_bytes() -> None:
    # Arrange
    buffer = MemoryBuffer(10, OverflowPolicy.DROP_OLDEST, max_bytes=10_000)
    buffer.put(span_batch(0, 10), nbytes=1000)

    # Act
    result = buffer.put(span_batch(10, 4), nbytes=100)

    # Assert
    assert result.dropped == 4
    assert buffer.size() == 10
    assert buffer.bytes_held() == 700


def test_buffer_drop_oldest_batch_over_capacity_keeps_newest_and_their_share_of_bytes() -> None:
    # Arrange
    buffer = MemoryBuffer(4, OverflowPolicy.DROP_OLDEST, max_bytes=10_000)
    buffer.put(span_batch(0, 2), nbytes=50)

    # Act
    result = buffer.put(span_batch(2, 8), nbytes=800)

    # Assert
    assert result.dropped == 6
    assert buffer.bytes_held() == 400
    assert span_numbers(buffer.take(100, timeout=0)) == [6, 7, 8, 9]


def test_buffer_take_tracked_completes_only_whole_batches() -> None:
    # Arrange
    buffer = MemoryBuffer(1000)
    first = buffer.put(span_batch(0, 3)).sequence
    second = buffer.put(span_batch(3, 3)).sequence

    # Act
    partial = buffer.take_tracked(4, timeout=0)
    rest = buffer.take_tracked(4, timeout=0)

    # Assert
    assert (partial.items, partial.completes_through) == (4, first)
    assert (rest.items, rest.completes_through) == (2, second)


def test_buffer_take_tracked_on_empty_buffer_covers_everything_put() -> None:
    # Arrange
    buffer = MemoryBuffer(1000)
    last = buffer.put(span_batch(0, 1)).sequence
    buffer.take(10, timeout=0)

    # Act
    taken = buffer.take_tracked(10, timeout=0)

    # Assert
    assert taken.batches == []
    assert taken.completes_through == last


def test_buffer_take_tracked_counts_dropped_batches_as_completed() -> None:
    # Arrange
    buffer = MemoryBuffer(3, OverflowPolicy.DROP_OLDEST)
    buffer.put(span_batch(0, 3))
    newest = buffer.put(span_batch(3, 3)).sequence

    # Act
    taken = buffer.take_tracked(10, timeout=0)

    # Assert
    assert span_numbers(taken.batches) == [3, 4, 5]
    assert taken.completes_through == newest


@pytest.mark.parametrize("bad", [0, -1])
def test_buffer_non_positive_byte_bound_is_refused(bad: int) -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="max_bytes"):
        MemoryBuffer(10, max_bytes=bad)


def test_buffer_has_room_reject_policy_false_once_full_in_items_or_bytes() -> None:
    # Arrange
    by_items = MemoryBuffer(2, OverflowPolicy.REJECT)
    by_bytes = MemoryBuffer(1000, OverflowPolicy.REJECT, max_bytes=1000)

    # Act
    before = (by_items.has_room(), by_bytes.has_room(300))
    by_items.put(span_batch(0, 2))
    by_bytes.put(span_batch(0, 1), nbytes=800)

    # Assert
    assert before == (True, True)
    assert by_items.has_room() is False
    assert by_bytes.has_room(300) is False
    assert by_bytes.has_room(200) is True


def test_buffer_has_room_drop_oldest_always_true() -> None:
    # Arrange
    buffer = MemoryBuffer(2, OverflowPolicy.DROP_OLDEST, max_bytes=10)
    buffer.put(span_batch(0, 2), nbytes=10)

    # Act / Assert: this policy makes room by dropping, it never refuses
    assert buffer.is_full() is True
    assert buffer.has_room(5) is True
