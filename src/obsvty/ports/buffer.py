"""The buffer between the receivers (producers) and the flusher (consumer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from obsvty.domain.batches import Batch


class BufferFullError(Exception):
    """The buffer cannot take the batch under the ``reject`` policy; the client should retry."""


@dataclass(frozen=True, slots=True)
class PutResult:
    sequence: int
    """Position of the batch in the stream of accepted batches; increases by one per put."""
    dropped: int
    """Items discarded to make room (``drop_oldest``), possibly including some of this batch."""


class BufferPort(Protocol):
    """A bounded, thread-safe FIFO of batches, measured in items."""

    @property
    def capacity(self) -> int: ...

    def put(self, batch: Batch) -> PutResult:
        """Add a batch; raises :class:`BufferFullError` when the policy is to reject."""
        ...

    def take(self, max_items: int, timeout: float) -> list[Batch]:
        """Remove up to ``max_items`` items, oldest first, waiting up to ``timeout`` seconds for
        the first one. Returns an empty list when nothing arrived in time."""
        ...

    def size(self) -> int:
        """Items held now."""
        ...

    def is_full(self) -> bool: ...

    def wait_until_size(self, items: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until at least ``items`` items are held."""
        ...

    @property
    def dropped_total(self) -> int:
        """Items discarded by the overflow policy since start."""
        ...
