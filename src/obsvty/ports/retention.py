"""What retention needs from a store: find and delete its oldest data, and give space back."""

from __future__ import annotations

from typing import Protocol


class RetentionStorePort(Protocol):
    @property
    def tables(self) -> tuple[str, ...]:
        """The tables (or collections) that hold telemetry."""
        ...

    def time_range(self, table: str) -> tuple[int, int] | None:
        """Oldest and newest item time in ``table`` (unix nanoseconds), ``None`` when empty."""
        ...

    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        """Delete the next chunk, about ``limit`` items, of the items older than the cutoff,
        in one short transaction; returns how many were deleted, 0 once none are left. A store
        may round a chunk to how it keeps items together, and keep an item that arrived late
        until the items stored before it have gone too."""
        ...

    def stored_bound(self, table: str, share: float) -> int | None:
        """The position, in the order items were stored, of the last of the ``share`` (0 to 1)
        of ``table``'s items stored first, or near it where the store keeps items together;
        ``None`` when that share holds no item."""
        ...

    def delete_stored_through(self, table: str, bound: int, limit: int) -> int:
        """Delete the next chunk, about ``limit`` items, of the items stored at or before
        ``bound`` (from :meth:`stored_bound`), in one short transaction; returns how many were
        deleted, 0 once none are left. A store may round a chunk to how it keeps items
        together."""
        ...

    def used_bytes(self) -> int:
        """Bytes the data occupies (space freed by deletes no longer counts once reclaimed)."""
        ...

    def reclaim(self) -> bool:
        """Make the space of deleted items reusable; ``False`` when the store was busy and it
        should be tried again later."""
        ...
