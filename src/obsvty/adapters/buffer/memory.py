"""An in-memory bounded buffer of columnar batches."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from obsvty.domain.batches import Batch
from obsvty.domain.model import Signal
from obsvty.ports.buffer import BufferFullError, PutResult, TakenBatches

log = logging.getLogger(__name__)


class OverflowPolicy(StrEnum):
    DROP_OLDEST = "drop_oldest"
    REJECT = "reject"


@dataclass(slots=True)
class _Entry:
    sequence: int
    batch: Batch
    nbytes: int

    def split(self, at: int) -> _Entry:
        """Cut off and return the first ``at`` items; this entry keeps the rest. The byte
        estimate is shared in proportion to the items."""
        n = len(self.batch)
        head_bytes = self.nbytes * at // n
        head = _Entry(self.sequence, self.batch.slice(0, at), head_bytes)
        self.batch = self.batch.slice(at)
        self.nbytes -= head_bytes
        return head


class MemoryBuffer:
    """FIFO of batches bounded in items and, optionally, in bytes; safe for many producer
    threads and one or more consumers.

    The byte bound works on each batch's estimated size (its request payload's size, given to
    :meth:`put`), so nothing is measured by walking objects. A batch larger than the whole byte
    bound is still admitted when the buffer is empty, so that no request is refused forever.

    ``drop_oldest`` discards the oldest items first (slicing the oldest batch when only part of it
    must go) and logs the drops at most once per ``drop_log_interval`` seconds. ``reject`` refuses a
    batch that does not fit, whole, so that the client retries it.
    """

    def __init__(
        self,
        capacity: int,
        policy: OverflowPolicy = OverflowPolicy.DROP_OLDEST,
        drop_log_interval: float = 10.0,
        max_bytes: int | None = None,
    ) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._policy = policy
        self._entries: deque[_Entry] = deque()
        self._size = 0
        self._bytes = 0
        self._sequence = 0
        self._dropped_total = 0
        self._dropped_by_signal = dict.fromkeys(Signal, 0)
        self._dropped_unlogged = 0
        self._drop_log_interval = drop_log_interval
        self._last_drop_log = float("-inf")  # the first drop is always logged
        self._cond = threading.Condition(threading.Lock())

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def max_bytes(self) -> int | None:
        return self._max_bytes

    @property
    def policy(self) -> OverflowPolicy:
        return self._policy

    @property
    def dropped_total(self) -> int:
        return self._dropped_total

    @property
    def dropped_by_signal(self) -> dict[Signal, int]:
        """Items discarded by the overflow policy since start, per signal (a copy)."""
        with self._cond:
            return dict(self._dropped_by_signal)

    def size(self) -> int:
        return self._size

    def bytes_held(self) -> int:
        return self._bytes

    def is_full(self) -> bool:
        if self._size >= self._capacity:
            return True
        return self._max_bytes is not None and self._bytes >= self._max_bytes

    def has_room(self, nbytes: int = 0) -> bool:
        if self._policy is not OverflowPolicy.REJECT:
            return True
        return self._size < self._capacity and not self._bytes_overflow(nbytes)

    def _bytes_overflow(self, nbytes: int) -> bool:
        limit = self._max_bytes
        return limit is not None and self._bytes > 0 and self._bytes + nbytes > limit

    def put(self, batch: Batch, nbytes: int = 0) -> PutResult:
        n = len(batch)
        with self._cond:
            dropped = 0
            if n > self._capacity - self._size or self._bytes_overflow(nbytes):
                if self._policy is OverflowPolicy.REJECT:
                    raise BufferFullError(
                        f"buffer full: {self._size} of {self._capacity} items and "
                        f"{self._bytes} of {self._max_bytes or 'unbounded'} bytes held, "
                        f"{n} items ({nbytes} bytes) offered"
                    )
                if n > self._capacity:  # the batch alone overflows: keep its newest items
                    dropped += n - self._capacity
                    self._dropped_by_signal[batch.signal] += n - self._capacity
                    nbytes -= nbytes * (n - self._capacity) // n
                    batch = batch.slice(n - self._capacity)
                    n = self._capacity
                dropped += self._drop_oldest(n - (self._capacity - self._size), nbytes)
            self._sequence += 1
            if n:
                self._entries.append(_Entry(self._sequence, batch, nbytes))
                self._size += n
                self._bytes += nbytes
                self._cond.notify_all()
            sequence = self._sequence
        if dropped:
            self._note_drops(dropped)
        return PutResult(sequence=sequence, dropped=dropped)

    def _drop_oldest(self, items_wanted: int, incoming_bytes: int) -> int:
        """Drop at least ``items_wanted`` of the oldest items, then whole oldest batches until
        ``incoming_bytes`` more fit the byte bound. Returns the items dropped."""
        dropped = 0
        entries = self._entries
        while dropped < items_wanted and entries:
            head = entries[0]
            excess = items_wanted - dropped
            gone = entries.popleft() if len(head.batch) <= excess else head.split(excess)
            dropped += self._discard(gone)
        while entries and self._bytes_overflow(incoming_bytes):
            dropped += self._discard(entries.popleft())
        self._size -= dropped
        return dropped

    def _discard(self, gone: _Entry) -> int:
        """Account for an entry the overflow policy removed; returns its items."""
        n = len(gone.batch)
        self._bytes -= gone.nbytes
        self._dropped_by_signal[gone.batch.signal] += n
        return n

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
        return self.take_tracked(max_items, timeout).batches

    def take_tracked(self, max_items: int, timeout: float) -> TakenBatches:
        taken: list[Batch] = []
        entries = self._entries
        with self._cond:
            if not entries:
                self._cond.wait_for(lambda: bool(entries), timeout)
            room = max_items
            while room > 0 and entries:
                head = entries[0]
                part = entries.popleft() if len(head.batch) <= room else head.split(room)
                taken.append(part.batch)
                room -= len(part.batch)
                self._bytes -= part.nbytes
            self._size -= max_items - room
            completes_through = entries[0].sequence - 1 if entries else self._sequence
        return TakenBatches(taken, completes_through)

    def wait_until_size(self, items: int, timeout: float) -> bool:
        """Wait until at least ``items`` items are held (used to flush early on full batches)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._size >= items, timeout)
