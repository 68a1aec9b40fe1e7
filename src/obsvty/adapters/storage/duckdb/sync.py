"""The local DuckDB store as the cloud sync's source.

Additive to the DuckDB schema: each telemetry table gets a ``sync_seq`` column filled from a
sequence on insert (existing rows are numbered when the column is added). The store writes one
transaction at a time, so ``sync_seq`` grows in commit order and "everything after the cursor" is
a stable, resumable range: rows are never renumbered, and a rolled-back write only leaves a gap.
The cursor and the dead letters are tables of the same file (``sync_state``,
``sync_dead_letters``, a record each as exact typed JSON), so they survive a restart with the
data they describe. A row becomes a record by parsing its JSON columns: the stored form is the
shared encoding (``encoding.model_fields``) as typed JSON.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import bson
import duckdb

from obsvty.adapters.encoding.sync_records import (
    legacy_record,
    record_from_text,
    record_text,
    sync_record,
)
from obsvty.adapters.encoding.typed_json import loads_attributes, loads_value
from obsvty.adapters.storage.duckdb.single_row import single_row
from obsvty.ports.sync import (
    COLLECTIONS,
    LOGS,
    METRIC_POINTS,
    SPANS,
    DeadLetter,
    Pending,
    Refusal,
    SyncRecord,
)

SEQ_COLUMN = "sync_seq"


def _json_list(text: str | None) -> list[Any]:
    value = loads_value(text)
    return value if isinstance(value, list) else []


_Parse = Callable[[str | None], Any]
_COMMON: tuple[tuple[str, _Parse], ...] = (
    ("attributes", loads_attributes),
    ("resource_attributes", loads_attributes),
    ("scope_attributes", loads_attributes),
)
_JSON_COLUMNS: dict[str, tuple[tuple[str, _Parse], ...]] = {
    SPANS: (*_COMMON, ("events", _json_list), ("links", _json_list)),
    LOGS: (*_COMMON, ("body", loads_value)),
    METRIC_POINTS: (
        *_COMMON,
        ("metric_metadata", loads_attributes),
        ("exemplars", _json_list),
        ("quantile_values", _json_list),
    ),
}
"""Each table's JSON columns (typed JSON text) and how a record holds them."""


def record_from_row(table: str, row: dict[str, Any]) -> SyncRecord:
    """The sync record of a stored row (without ``sync_seq``; parsed in place)."""
    for column, parse in _JSON_COLUMNS[table]:
        row[column] = parse(row[column])
    return sync_record(table, row)


_STATE = """
CREATE TABLE IF NOT EXISTS sync_state (
    collection VARCHAR PRIMARY KEY,
    cursor BIGINT NOT NULL
)
"""
_DEAD = """
CREATE TABLE IF NOT EXISTS sync_dead_letters (
    id VARCHAR PRIMARY KEY,
    collection VARCHAR NOT NULL,
    document BLOB NOT NULL,
    error VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    first_failed_unix_nano BIGINT NOT NULL,
    last_failed_unix_nano BIGINT NOT NULL
)
"""


_BSON: bson.CodecOptions[dict[str, Any]] = bson.CodecOptions(tz_aware=True)


def _dead_letter_blob(record: SyncRecord) -> bytes:
    """What a dead letter keeps: the record as exact typed JSON; one read from a version before
    sync records stays the BSON cloud document it was."""
    if record.cloud_document is not None:
        return bson.encode(record.cloud_document)
    return record_text(record).encode()


def _dead_record(letter_id: str, blob: bytes) -> SyncRecord:
    """The record of a dead letter; a version before sync records kept the cloud document as
    BSON, which is sent again as it is (BSON starts with its length, whose fourth byte is 0 below
    16 MiB: never the text's ``{"key":``)."""
    if blob.startswith(b'{"key":'):
        return record_from_text(blob.decode())
    document: dict[str, Any] = bson.decode(blob, codec_options=_BSON)
    return legacy_record(letter_id, document)


class DuckDBSyncSource:
    collections: tuple[str, ...] = COLLECTIONS

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        """``con``: a cursor of the DuckDB store's connection (same database, own transactions).
        Call before the flusher starts writing (the columns are added here)."""
        self._con = con
        self._lock = threading.Lock()
        for table in self.collections:
            con.execute(f"CREATE SEQUENCE IF NOT EXISTS {table}_sync_seq")
            con.execute(
                f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {SEQ_COLUMN} BIGINT "
                f"DEFAULT nextval('{table}_sync_seq')"
            )
        con.execute(_STATE)
        con.execute(_DEAD)

    def _cursor(self, collection: str) -> int:
        row = single_row(
            self._con, "SELECT cursor FROM sync_state WHERE collection = ?", [collection]
        )
        return 0 if row is None else int(row[0])

    def pending(self, collection: str, limit: int) -> Pending:
        with self._lock:
            after = self._cursor(collection)
            result = self._con.execute(
                f"SELECT * FROM {collection} WHERE {SEQ_COLUMN} > ? "  # noqa: S608 - fixed names
                f"ORDER BY {SEQ_COLUMN} LIMIT ?",
                [after, limit],
            )
            names = [d[0] for d in result.description or ()]
            rows = result.fetchall()
        records = []
        cursor = after
        for values in rows:
            row = dict(zip(names, values, strict=True))
            cursor = row.pop(SEQ_COLUMN)
            records.append(record_from_row(collection, row))
        return Pending(collection, records, cursor)

    def save_cursor(self, collection: str, cursor: int) -> None:
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO sync_state VALUES (?, ?)", [collection, cursor]
            )

    def backlog(self) -> int:
        total = 0
        with self._lock:
            for table in self.collections:
                row = single_row(
                    self._con,
                    f"SELECT count(*) FROM {table} WHERE {SEQ_COLUMN} > "  # noqa: S608
                    "coalesce((SELECT cursor FROM sync_state WHERE collection = ?), 0)",
                    [table],
                )
                total += int(row[0]) if row else 0
        return total

    def add_dead_letters(self, collection: str, refusals: list[Refusal]) -> None:
        now = time.time_ns()
        with self._lock:
            for refusal in refusals:
                self._con.execute(
                    """
                    INSERT INTO sync_dead_letters VALUES (?, ?, ?, ?, 1, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        attempts = attempts + 1,
                        error = excluded.error,
                        document = excluded.document,
                        last_failed_unix_nano = excluded.last_failed_unix_nano
                    """,
                    [
                        f"{collection}:{refusal.record.key}",
                        collection,
                        _dead_letter_blob(refusal.record),
                        refusal.error,
                        now,
                        now,
                    ],
                )

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
        with self._lock:
            rows = self._con.execute(
                "SELECT id, collection, error, attempts, first_failed_unix_nano, "
                "last_failed_unix_nano, document FROM sync_dead_letters "
                "ORDER BY first_failed_unix_nano, id LIMIT ? OFFSET ?",
                [limit, offset],
            ).fetchall()
        return [
            DeadLetter(
                id=r[0],
                collection=r[1],
                error=r[2],
                attempts=r[3],
                first_failed_unix_nano=r[4],
                last_failed_unix_nano=r[5],
                record=_dead_record(r[0], bytes(r[6])),
            )
            for r in rows
        ]

    def dead_letter_count(self) -> int:
        with self._lock:
            row = single_row(self._con, "SELECT count(*) FROM sync_dead_letters")
        return int(row[0]) if row else 0

    def remove_dead_letters(self, ids: list[str] | None = None) -> int:
        with self._lock:
            if ids is None:
                row = self._con.execute("DELETE FROM sync_dead_letters RETURNING id").fetchall()
            else:
                row = self._con.execute(
                    "DELETE FROM sync_dead_letters WHERE list_contains(?, id) RETURNING id",
                    [ids],
                ).fetchall()
        return len(row)
