"""An in-memory bounded buffer of columnar batches."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from enum import StrEnum

from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferFullError, PutResult

log = logging.getLogger(__name__)


class OverflowPolicy(StrEnum):
    DROP_OLDEST = "drop_oldest"
    REJECT = "reject"


class MemoryBuffer:
    """FIFO of batches bounded in items, safe for many producer threads and one or more consumers.

    ``drop_oldest`` discards the oldest items first (slicing the oldest batch when only part of it
    must go) and logs the drops at most once per ``drop_log_interval`` seconds. ``reject`` refuses a
    batch that does not fit, whole, so that the client retries it.
    """

    def __init__(
        self,
        capacity: int,
        policy: OverflowPolicy = OverflowPolicy.DROP_OLDEST,
        drop_log_interval: float = 10.0,
    ) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        self._policy = policy
        self._batches: deque[Batch] = deque()
        self._size = 0
        self._sequence = 0
        self._dropped_total = 0
        self._dropped_unlogged = 0
        self._drop_log_interval = drop_log_interval
        self._last_drop_log = 0.0
        self._cond = threading.Condition(threading.Lock())

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def dropped_total(self) -> int:
        return self._dropped_total

    def size(self) -> int:
        return self._size

    def is_full(self) -> bool:
        return self._size >= self._capacity

    def put(self, batch: Batch) -> PutResult:
        n = len(batch)
        with self._cond:
            free = self._capacity - self._size
            dropped = 0
            if n > free:
                if self._policy is OverflowPolicy.REJECT:
                    raise BufferFullError(
                        f"buffer full: {self._size} of {self._capacity} items held, {n} offered"
                    )
                dropped = self._drop_oldest(n - free)
                if n > self._capacity:  # the batch alone overflows: keep its newest items
                    dropped += n - self._capacity
                    batch = batch.slice(n - self._capacity)
            self._sequence += 1
            if len(batch):
                self._batches.append(batch)
                self._size += len(batch)
                self._cond.notify_all()
            sequence = self._sequence
        if dropped:
            self._note_drops(dropped)
        return PutResult(sequence=sequence, dropped=dropped)

    def _drop_oldest(self, wanted: int) -> int:
        dropped = 0
        while dropped < wanted and self._batches:
            head = self._batches[0]
            excess = wanted - dropped
            if len(head) <= excess:
                self._batches.popleft()
                dropped += len(head)
            else:
                self._batches[0] = head.slice(excess)
                dropped += excess
        self._size -= dropped
        return dropped

    def _note_drops(self, dropped: int) -> None:
        with self._cond:
            self._dropped_total += dropped
            self._dropped_unlogged += dropped
            now = time.monotonic()
            if now - self._last_drop_log < self._drop_log_interval:
                return
            count, self._dropped_unlogged, self._last_drop_log = self._dropped_unlogged, 0, now
        log.warning("buffer full: dropped %d oldest items (policy drop_oldest)", count)

    def take(self, max_items: int, timeout: float) -> list[Batch]:
        taken: list[Batch] = []
        with self._cond:
            if not self._batches:
                self._cond.wait_for(lambda: bool(self._batches), timeout)
            room = max_items
            while room > 0 and self._batches:
                head = self._batches[0]
                if len(head) <= room:
                    taken.append(self._batches.popleft())
                    room -= len(head)
                else:
                    taken.append(head.slice(0, room))
                    self._batches[0] = head.slice(room)
                    room = 0
            self._size -= max_items - room
        return taken

    def wait_until_size(self, items: int, timeout: float) -> bool:
        """Wait until at least ``items`` items are held (used to flush early on full batches)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._size >= items, timeout)
