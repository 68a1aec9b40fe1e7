"""CommitWatermark: durable acknowledgements wait for the flusher's commits."""

from __future__ import annotations

import asyncio
import threading

import pytest

from obsvty.application.commit_watermark import CommitWatermark

pytestmark = pytest.mark.unit


def test_watermark_wait_for_committed_sequence_returns_at_once() -> None:
    # Arrange
    watermark = CommitWatermark()
    watermark.publish(5)

    # Act
    done = asyncio.run(watermark.wait_for(5, timeout=10))

    # Assert
    assert done is True
    assert watermark.waiting() == 0


def test_watermark_publish_from_another_thread_wakes_only_covered_waiters() -> None:
    # Arrange
    watermark = CommitWatermark()

    async def scenario() -> tuple[bool, bool, bool]:
        early = asyncio.create_task(watermark.wait_for(2, timeout=30))
        late = asyncio.create_task(watermark.wait_for(4, timeout=30))
        await asyncio.sleep(0)
        assert watermark.waiting() == 2
        # Act
        publisher = threading.Thread(target=watermark.publish, args=(3,))
        publisher.start()
        first = await early
        publisher.join()
        still_waiting = not late.done()
        watermark.publish(4)
        return first, still_waiting, await late

    # Assert
    assert asyncio.run(scenario()) == (True, True, True)
    assert watermark.committed == 4


def test_watermark_wait_for_uncommitted_sequence_times_out_false() -> None:
    # Arrange
    watermark = CommitWatermark()
    watermark.publish(1)

    # Act
    done = asyncio.run(watermark.wait_for(2, timeout=0.01))

    # Assert
    assert done is False
    watermark.publish(2)  # resolving a waiter that gave up is harmless
    assert watermark.waiting() == 0


def test_watermark_never_moves_backwards() -> None:
    # Arrange
    watermark = CommitWatermark()
    watermark.publish(7)

    # Act
    watermark.publish(3)

    # Assert
    assert watermark.committed == 7


def test_watermark_publish_after_loop_closed_does_not_raise() -> None:
    # Arrange
    watermark = CommitWatermark()
    asyncio.run(watermark.wait_for(9, timeout=0.01))

    # Act
    watermark.publish(9)

    # Assert
    assert watermark.waiting() == 0
