"""The buffer between the receivers (producers) and the flusher (consumer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from obsvty.domain.batches import Batch
from obsvty.domain.model import Signal


class BufferFullError(Exception):
    """The buffer cannot take the batch under the ``reject`` policy; the client should retry."""


@dataclass(frozen=True, slots=True)
class PutResult:
    sequence: int
    """Position of the batch in the stream of accepted batches; increases by one per put."""
    dropped: int
    """Items discarded to make room (``drop_oldest``), possibly including some of this batch."""


@dataclass(frozen=True, slots=True)
class TakenBatches:
    """What one :meth:`BufferPort.take_tracked` removed from the buffer."""

    batches: list[Batch]
    completes_through: int
    """Every batch put with a ``sequence`` up to this one has now left the buffer whole (taken by
    this or an earlier take, or dropped by the overflow policy). The tail batch of a take may be a
    slice; the rest of it is still held, so its sequence is not covered yet."""

    @property
    def items(self) -> int:
        return sum(len(b) for b in self.batches)


class BufferPort(Protocol):
    """A bounded, thread-safe FIFO of batches, measured in items and in (estimated) bytes."""

    @property
    def capacity(self) -> int: ...

    @property
    def max_bytes(self) -> int | None:
        """The byte bound, ``None`` when only items are bounded."""
        ...

    def put(self, batch: Batch, nbytes: int = 0) -> PutResult:
        """Add a batch whose size is estimated at ``nbytes`` (e.g. its request payload's size);
        raises :class:`BufferFullError` when the policy is to reject."""
        ...

    def take(self, max_items: int, timeout: float) -> list[Batch]:
        """Remove up to ``max_items`` items, oldest first, waiting up to ``timeout`` seconds for
        the first one. Returns an empty list when nothing arrived in time."""
        ...

    def take_tracked(self, max_items: int, timeout: float) -> TakenBatches:
        """:meth:`take`, also telling which put sequences the take completes."""
        ...

    def bytes_held(self) -> int:
        """Estimated bytes held now."""
        ...

    def size(self) -> int:
        """Items held now."""
        ...

    def is_full(self) -> bool: ...

    def has_room(self, nbytes: int = 0) -> bool:
        """``False`` when a batch of ``nbytes`` would now surely be refused: the policy rejects and
        the buffer is full (in items, or in bytes for this batch). Receivers ask before decoding a
        request, so that an overloaded server spends no work on requests it will refuse. ``True``
        does not promise that the put will succeed."""
        ...

    def wait_until_size(self, items: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until at least ``items`` items are held."""
        ...

    @property
    def dropped_total(self) -> int:
        """Items discarded by the overflow policy since start."""
        ...

    @property
    def dropped_by_signal(self) -> Mapping[Signal, int]:
        """:attr:`dropped_total`, per signal."""
        ...
