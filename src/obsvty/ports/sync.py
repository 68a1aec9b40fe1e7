"""The cloud sync's two sides: the local store it reads from (with its durable cursor and its
dead letters) and the cloud it replicates to.

Records travel as :class:`SyncRecord`: a deterministic key and the record's fields in the
backend-neutral encoding of the domain model (``adapters.encoding.model_fields``), so that no
backend knows another's form: each source produces records, and the target turns them into its
own (the MongoDB target into the documents its store writes, with their deterministic ``_id``s,
so that sending a record twice stores it once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Fields = dict[str, Any]

SPANS = "spans"
LOGS = "logs"
METRIC_POINTS = "metric_points"
COLLECTIONS = (SPANS, LOGS, METRIC_POINTS)
"""The collections records travel in (also the stores' table and collection names)."""


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """One span, log record or metric data point to replicate.

    ``key`` identifies the record for good (the same record has the same key in every round and
    after a restart): a span's is its trace id and span id in hex, another record's a digest of
    its fields. ``fields`` are named as the stores' columns, with attribute maps as dicts, ids
    as hex, bytes as ``bytes`` and uint64 counts as ``int``.

    ``cloud_document``: a dead letter kept by a version before these records, as the cloud
    document it was refused as (then ``fields`` are that document too); the target sends it as
    it is, and the source keeps it in its old form if it is refused again."""

    key: str
    fields: Fields = field(repr=False)
    cloud_document: Fields | None = field(default=None, repr=False)


class TargetUnavailableError(Exception):
    """The cloud could not take the records now (unreachable, slow, failing over): retry later."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Records after the cursor, in the source's order; ``cursor`` is the position after the
    last of them (save it once they are in the cloud)."""

    collection: str
    records: list[SyncRecord]
    cursor: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """A record the cloud refused for good (too large, invalid), and why."""

    record: SyncRecord
    error: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    collection: str
    error: str
    attempts: int
    first_failed_unix_nano: int
    last_failed_unix_nano: int
    record: SyncRecord = field(repr=False)

    @property
    def document(self) -> Fields:
        """The refused record's fields (what the admin API shows)."""
        return self.record.fields


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

    def send(self, collection: str, records: list[SyncRecord]) -> list[Refusal]:
        """Store ``records`` (those already there count as stored). Returns the ones refused for
        good; raises :class:`TargetUnavailableError` when nothing can be said for now."""
        ...

    def close(self) -> None: ...
