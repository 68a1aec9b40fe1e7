"""Use case: store the batches parked as store dead letters, or drop them.

A replay claims a letter (so no other replay takes it), writes its items to the store in one
atomic write, and removes it only once that write is committed. A failed write gives the letter
back, untouched: replaying it again later is safe. Each letter is therefore stored exactly once,
except when the process dies between the commit and the removal: the letter then stays claimed,
is listed as an unfinished replay, and is replayed again only when forced (spans are stored once
per ``(trace_id, span_id)`` whatever happens; log records and metric points would be stored twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from obsvty.domain.batches import Batch
from obsvty.ports.store import StoreError
from obsvty.ports.store_dead_letters import StoreDeadLetterError, StoreDeadLetterPort

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LetterOutcome:
    id: str
    items: int
    """Items stored (replay) or removed (drop); 0 when it failed."""
    error: str = ""
    """Why it failed; empty when it succeeded."""


Write = Callable[[list[Batch]], None]
"""One atomic store write (a store's ``write``, or the running server's
:meth:`~obsvty.application.flush.Flusher.write_now`); raises ``StoreError``."""


def replay(
    letters: StoreDeadLetterPort,
    write: Write,
    ids: Iterable[str],
    *,
    force: bool = False,
) -> list[LetterOutcome]:
    """Store each letter of ``ids`` with ``write`` and remove it; ``force`` also takes a letter
    whose earlier replay did not finish."""
    outcomes = []
    for letter_id in ids:
        try:
            batches = letters.claim(letter_id, force=force)
        except StoreDeadLetterError as exc:
            outcomes.append(LetterOutcome(letter_id, 0, str(exc)))
            continue
        try:
            write(batches)
        except StoreError as exc:
            letters.unclaim(letter_id)
            outcomes.append(LetterOutcome(letter_id, 0, f"the store refused it again: {exc}"))
            continue
        items = sum(len(b) for b in batches)
        try:
            letters.remove(letter_id)
        except StoreDeadLetterError as exc:  # stored: it stays claimed, never replayed twice
            outcomes.append(LetterOutcome(letter_id, items, f"stored, but {exc}"))
            continue
        log.info("store dead letter %s replayed: %d items stored", letter_id, items)
        outcomes.append(LetterOutcome(letter_id, items))
    return outcomes


def drop(letters: StoreDeadLetterPort, ids: Iterable[str]) -> list[LetterOutcome]:
    """Delete each letter of ``ids`` without storing it."""
    by_id = {letter.id: letter for letter in letters.letters()}
    outcomes = []
    for letter_id in ids:
        try:
            letters.remove(letter_id)
        except StoreDeadLetterError as exc:
            outcomes.append(LetterOutcome(letter_id, 0, str(exc)))
            continue
        letter = by_id.get(letter_id)
        outcomes.append(LetterOutcome(letter_id, letter.items if letter is not None else 0))
    return outcomes
