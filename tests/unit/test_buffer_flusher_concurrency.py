"""Many producer threads, one flusher, both overflow policies: every item sent is accounted for
exactly (accepted + rejected, or stored + dropped), nothing is stored twice, order is kept."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer, OverflowPolicy
from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.flush import Flusher
from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferFullError
from tests.support.reliability import RecordingStore, span_batch, span_numbers

pytestmark = pytest.mark.unit

PRODUCERS = 8
PUTS_PER_PRODUCER = 150
NUMBERS_PER_PRODUCER = 1_000_000


class Producer(threading.Thread):
    def __init__(self, index: int, buffer: MemoryBuffer, start: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.index = index
        self.buffer = buffer
        self.barrier = start
        self.sent = 0
        self.accepted = 0
        self.rejected = 0
        self.dropped = 0
        self.sequences: list[int] = []

    def run(self) -> None:
        rng = random.Random(self.index)
        number = self.index * NUMBERS_PER_PRODUCER
        self.barrier.wait()
        for _ in range(PUTS_PER_PRODUCER):
            count = rng.randint(1, 20)
            batch = span_batch(number, count)
            number += count
            self.sent += count
            try:
                result = self.buffer.put(batch, nbytes=count * 100)
            except BufferFullError:
                self.rejected += count
                continue
            self.accepted += count
            self.dropped += result.dropped
            self.sequences.append(result.sequence)


class GatedStore(RecordingStore):
    """Test double: a store whose writes wait until the gate opens, so the buffer must overflow."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def write(self, batches: Sequence[Batch]) -> None:
        self.gate.wait(60)
        super().write(batches)


def _run(policy: OverflowPolicy) -> tuple[list[Producer], MemoryBuffer, list[int], int]:
    buffer = MemoryBuffer(120, policy, max_bytes=9_000)
    store = GatedStore()
    watermark = CommitWatermark()
    flusher = Flusher(buffer, store, batch_size=37, interval=0.01, watermark=watermark, eager=True)
    barrier = threading.Barrier(PRODUCERS)
    producers = [Producer(i, buffer, barrier) for i in range(PRODUCERS)]
    flusher.start()
    for p in producers:
        p.start()
    for p in producers:
        p.join(60)
    store.gate.set()
    flusher.stop(60)
    return producers, buffer, span_numbers(store.committed), watermark.committed


def _assert_each_producer_in_order(stored: list[int]) -> None:
    for index in range(PRODUCERS):
        own = [n for n in stored if n // NUMBERS_PER_PRODUCER == index]
        assert own == sorted(own)


def test_buffer_reject_many_producers_accepted_plus_rejected_is_sent_and_all_accepted_stored() -> (
    None
):
    # Act
    producers, buffer, stored, committed = _run(OverflowPolicy.REJECT)

    # Assert
    sent = sum(p.sent for p in producers)
    accepted = sum(p.accepted for p in producers)
    rejected = sum(p.rejected for p in producers)
    assert rejected > 0
    assert accepted + rejected == sent
    assert len(stored) == accepted
    assert max(Counter(stored).values()) == 1
    assert buffer.dropped_total == 0
    assert (buffer.size(), buffer.bytes_held()) == (0, 0)
    assert committed == max(s for p in producers for s in p.sequences)
    _assert_each_producer_in_order(stored)


def test_buffer_drop_oldest_many_producers_stored_plus_dropped_is_sent() -> None:
    # Act
    producers, buffer, stored, committed = _run(OverflowPolicy.DROP_OLDEST)

    # Assert
    sent = sum(p.sent for p in producers)
    dropped = sum(p.dropped for p in producers)
    assert sum(p.rejected for p in producers) == 0
    assert dropped > 0
    assert dropped == buffer.dropped_total
    assert len(stored) + dropped == sent
    assert max(Counter(stored).values()) == 1
    assert (buffer.size(), buffer.bytes_held()) == (0, 0)
    assert committed == PRODUCERS * PUTS_PER_PRODUCER
    _assert_each_producer_in_order(stored)
