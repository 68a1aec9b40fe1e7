"""The cloud sync's two sides: the local store it reads from (with its durable cursor and its
dead letters) and the cloud it replicates to.

Records travel as documents (``dict``) of the MongoDB document model, each with a deterministic
``_id``, so that sending a record twice stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Document = dict[str, Any]


class TargetUnavailableError(Exception):
    """The cloud could not take the records now (unreachable, slow, failing over): retry later."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Records after the cursor, in the source's order; ``cursor`` is the position after the
    last of them (save it once they are in the cloud)."""

    collection: str
    documents: list[Document]
    cursor: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """A record the cloud refused for good (too large, invalid), and why."""

    document: Document
    error: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    collection: str
    error: str
    attempts: int
    first_failed_unix_nano: int
    last_failed_unix_nano: int
    document: Document = field(repr=False, default_factory=dict)


class SyncSourcePort(Protocol):
    """The local store, as the sync reads it."""

    collections: tuple[str, ...]

    def pending(self, collection: str, limit: int) -> Pending:
        """Up to ``limit`` records after the saved cursor of ``collection``."""
        ...

    def save_cursor(self, collection: str, cursor: int) -> None:
        """Durably record that everything up to ``cursor`` is in the cloud (or dead-lettered)."""
        ...

    def backlog(self) -> int:
        """How many records are not synced yet (the lag, in records)."""
        ...

    def add_dead_letters(self, collection: str, refusals: list[Refusal]) -> None:
        """Keep refused records with their error; a record already there gets one more attempt."""
        ...

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[DeadLetter]: ...

    def dead_letter_count(self) -> int: ...

    def remove_dead_letters(self, ids: list[str] | None = None) -> int:
        """Remove the given dead letters (all when ``ids`` is None); returns how many."""
        ...


class SyncTargetPort(Protocol):
    """The cloud store."""

    def send(self, collection: str, documents: list[Document]) -> list[Refusal]:
        """Store ``documents`` (those already there count as stored). Returns the ones refused for
        good; raises :class:`TargetUnavailableError` when nothing can be said for now."""
        ...

    def close(self) -> None: ...
