"""Where telemetry is kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from obsvty.domain.batches import Batch


class StoreError(Exception):
    """The store could not commit a write; nothing of that write is stored."""


class StoreLockedError(StoreError):
    """The store is already open by another process."""


class TelemetryStorePort(Protocol):
    """Stores batches of every signal."""

    def write(self, batches: Sequence[Batch]) -> None:
        """Commit every item of ``batches`` atomically: all of them are stored, or none (and
        :class:`StoreError` is raised)."""
        ...

    def close(self) -> None:
        """Flush what the store holds in memory and release its files or connections."""
        ...
