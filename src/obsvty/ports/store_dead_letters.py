"""Store dead letters: batches the local store refused for good, parked on disk for an operator.

Not the cloud sync's dead letters (:mod:`obsvty.ports.sync`: single records the *cloud* refused,
kept inside the local store): these are whole batches the *local* store could not take, kept
outside it (it cannot hold them), so that one poison batch does not block everything behind it.
Each is one batch of one signal, from one export request (or the part of it one flush held).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from obsvty.domain.batches import Batch
from obsvty.domain.model import Signal


class StoreDeadLetterError(Exception):
    """A store dead letter could not be written, read or removed (disk full, unknown id, ...)."""


@dataclass(frozen=True, slots=True)
class StoreDeadLetter:
    id: str
    signal: Signal
    items: int
    created_unix_nano: int
    attempts: int
    """Failed store writes that included this batch before it was parked."""
    error: str
    """The store's last error for it."""
    replaying: bool = False
    """A replay claimed it and did not finish: its items may already be stored."""


class StoreDeadLetterPort(Protocol):
    """Where refused batches wait. Thread-safe; several processes may share it (the server
    parks, the ``obsvty dead-letters`` command replays and drops)."""

    def park(self, batch: Batch, error: str, attempts: int) -> StoreDeadLetter:
        """Keep ``batch``; it is durably on disk when this returns (else
        :class:`StoreDeadLetterError`, and nothing is kept)."""
        ...

    def letters(self) -> list[StoreDeadLetter]:
        """Every waiting dead letter, oldest first."""
        ...

    def waiting(self) -> int:
        """How many dead letters wait (cheap: read on every probe and scrape)."""
        ...

    def claim(self, letter_id: str, *, force: bool = False) -> list[Batch]:
        """Mark the dead letter as being replayed and return its batches. A letter already
        claimed (an unfinished replay, whose items may be stored) is refused unless ``force``,
        so that two replays cannot both store it."""
        ...

    def unclaim(self, letter_id: str) -> None:
        """Give a claimed dead letter back (its replay failed: nothing of it was stored)."""
        ...

    def remove(self, letter_id: str) -> None:
        """Delete the dead letter (claimed or not)."""
        ...
