"""The embedded DuckDB store: the default, local-first home of all telemetry.

Writes arrive as columnar batches from the flusher thread; each becomes an Arrow table
(``tables``) that DuckDB inserts in bulk, all signals of one flush in one transaction. Readers
(the query API) use their own cursors, so queries run next to ingestion under DuckDB's MVCC.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.gil_handoff import short_switch_interval
from obsvty.adapters.storage.duckdb.span_keys import SpanKeys
from obsvty.adapters.storage.duckdb.tables import arrow_table
from obsvty.domain.batches import Batch
from obsvty.domain.model import Signal
from obsvty.ports.store import StoreError, StoreLockedError

log = logging.getLogger(__name__)

_TABLE_NAMES = {Signal.TRACES: "spans", Signal.LOGS: "logs", Signal.METRICS: "metric_points"}

_INSERT_ODD_SPANS = """
INSERT INTO spans BY NAME
SELECT * FROM (SELECT DISTINCT ON (trace_id, span_id) * FROM {source}) AS i
WHERE NOT EXISTS (SELECT 1 FROM spans AS s WHERE s.trace_id = i.trace_id AND s.span_id = i.span_id)
"""
"""Spans whose ids the key set cannot hold (see ``span_keys``; the decoders never produce them),
de-duplicated against the whole table."""

_ODD_SPANS = "incoming_spans_odd"


def _incoming(table: str) -> str:
    """The name a write registers its Arrow table for ``table`` under."""
    return f"incoming_{table}"


def _insert_statements(table: str) -> list[str]:
    """The statements that store one table's rows from its registered Arrow table.

    Columns are matched BY NAME, so that columns added by others (the cloud sync's ``sync_seq``)
    take their defaults. Spans are stored once per (trace_id, span_id); the rows registered are
    those :meth:`DuckDBStore._new_spans` kept, and where each trace lies in time goes to
    ``trace_times``. Logs and metric points have no identity: they are inserted as they come."""
    incoming = _incoming(table)
    statements = [f"INSERT INTO {table} BY NAME SELECT * FROM {incoming}"]  # noqa: S608
    if table == "spans":
        statements.append(duckdb_schema.TRACE_TIMES_OF.format(source=incoming))
    return statements


_SPAN_KEYS_REFILL = """
SELECT trace_id, span_id FROM spans
WHERE rowid > (SELECT max(rowid) FROM spans) - {count:d}
"""
"""The keys of the newest stored spans, oldest first: DuckDB's ``rowid`` grows in insertion order
(deleted rows leave gaps, or a checkpoint renumbers the rows after them, in the same order), and
a scan returns rows in that order (DuckDB's ``preserve_insertion_order``, on by default), so no
ORDER BY: sorting first would hold all the rows at once."""


def _refill_span_keys(con: duckdb.DuckDBPyConnection, keys: SpanKeys) -> None:
    """Make the keys of the last ``keys.capacity`` spans stored (fewer where rows were deleted)
    members, in the order they were stored, so that requests re-sent across a restart are still
    stored once."""
    reader = con.sql(_SPAN_KEYS_REFILL.format(count=keys.capacity)).to_arrow_reader(_REFILL_ROWS)
    for batch in reader:
        keys.new_rows(pa.Table.from_batches([batch]))
        keys.commit()


_REFILL_ROWS = 100_000


def _create_trace_times(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``trace_times``; filled from the stored spans when the file predates it."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE table_name = 'trace_times' AND database_name = current_database()"
    ).fetchone()
    if row is not None and row[0]:
        return
    con.execute("BEGIN TRANSACTION")
    con.execute(duckdb_schema.TRACE_TIMES)
    con.execute(duckdb_schema.TRACE_TIMES_OF.format(source="spans"))
    con.execute("COMMIT")


def open_duckdb(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database file, translating the "file in use" failure into a clear error."""
    target = Path(path)
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"the DuckDB file {target} is already open by another process "
                "(is another obsvty running on it?); stop it or set OBSVTY_DB_PATH to another file"
            ) from None
        raise StoreError(f"cannot open the DuckDB file {target}: {exc}") from None


CHECKPOINT_ROWS = 100_000
"""Rows of one table appended since the last checkpoint after which a write checkpoints (folds
DuckDB's write-ahead log into the compressed file). A count of rows rather than DuckDB's own
trigger, a size of log: a checkpoint leaves the rows it wrote in row groups of at most 122,880
rows, and DuckDB merges consecutive row groups that would fit in fewer, rewriting them; so the
stalls depend on how many rows each checkpoint writes. ``python -m bench.store_write checkpoints
N`` (1.2M spans, 5,000 per write, one DuckDB thread): 60k: 150-200 / 380-515 ms alternating,
14.1 us of CPU per span; 80k: 0.9-1.5 s every fourth, 14.2 us; **100k: 212-250 ms each,
10.0 us**; 120k: 234-295 ms, 9.6 us; 150k: 0.3-1.6 s, 13.8 us; DuckDB's trigger at 128 MB of
log (~145k of these spans): 0.3-1.7 s, 14.3 us. A stall longer than the buffer holds is refused
requests. 100k rather than 120k leaves room for a batch larger than 5,000 before a checkpoint
passes one row group. 100k rows of bench spans are ~78 MB of log."""

CHECKPOINT_THRESHOLD = "256MB"
"""DuckDB's own checkpoint trigger (size of the write-ahead log), kept as a bound for rows so
large that :data:`CHECKPOINT_ROWS` of them would make a long log (replayed at start-up after a
crash, held in memory until the checkpoint). close() always checkpoints."""


WRITES_IDLE_SECONDS = 2.0
"""A wait for the next checkpoint made by writes ends when no write has come for this long (the
flusher writes at least once a flush interval while data arrives)."""

SLOW_CHECKPOINT_SECONDS = 1.0
"""A checkpoint this long is logged: writes wait for it, and the buffer fills meanwhile."""

DEDUPE_WINDOW = 1_000_000
"""Spans whose keys the store keeps to de-duplicate re-sent spans (``DUCKDB_DEDUPE_WINDOW``,
see ``span_keys``): a span re-sent within the last this many spans stored is stored once.
~40 MB of memory (``span_keys.BYTES_PER_KEY`` per key); a minute of spans at 16,000 spans/s,
five minutes (the Collector's longest retry) at 3,300 spans/s."""

ALLOCATOR_SETTINGS = ("SET allocator_background_threads = true",)
"""DuckDB's allocator (its own jemalloc) keeps the pages it frees and gives them back to the
system only as it allocates again, so after a checkpoint or a burst an idle process would keep
the peak's memory; its background threads give freed pages back within seconds instead."""


def default_threads() -> int:
    """DuckDB's threads when none are configured: one fewer than the cores this process may use
    (at least one), so that a checkpoint's compression or a large query never takes every core
    from the receivers' event loop. Measured on 2 cores at 100 requests/s of 100 spans: with a
    thread per core (DuckDB's default), p99 latency 856 ms and acknowledged spans dropped from
    the buffer during checkpoints; with one thread, p99 59 ms and nothing lost."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class DuckDBStore:
    """Telemetry in one DuckDB file."""

    def __init__(
        self,
        path: Path | str,
        *,
        threads: int | None = None,
        memory_limit: int | None = None,
        checkpoint_rows: int = CHECKPOINT_ROWS,
        dedupe_window: int = DEDUPE_WINDOW,
    ) -> None:
        """``memory_limit``: bytes DuckDB may use (``DUCKDB_MEMORY_LIMIT``); ``None`` keeps
        DuckDB's default, 80% of RAM. Past it DuckDB evicts cached blocks of the file and spills
        to its temp directory, ``<file>.tmp`` beside the database file. ``checkpoint_rows``: see
        :data:`CHECKPOINT_ROWS`. ``dedupe_window``: see :data:`DEDUPE_WINDOW`."""
        self.path = Path(path)
        self._con = open_duckdb(self.path)
        self._con.execute(f"SET threads TO {int(threads or default_threads())}")
        self._con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        if memory_limit is not None:
            self._con.execute(f"SET memory_limit = '{int(memory_limit)}B'")
        for setting in ALLOCATOR_SETTINGS:
            self._con.execute(setting)
        self._lock = threading.Lock()
        self._closed = False
        self._checkpoint_rows = checkpoint_rows
        self._appended: dict[str, int] = {}
        """Rows given to each table since the last checkpoint."""
        self._writes = 0
        self._checkpointed = threading.Condition()
        self._checkpoints = 0
        """Checkpoints made by writes (and the one on close), for :meth:`wait_for_checkpoint`."""
        self._checkpoint_observers: list[Callable[[float], None]] = []
        for statement in (*duckdb_schema.STATEMENTS, *duckdb_schema.LOG_SEQ):
            self._con.execute(statement)
        _create_trace_times(self._con)
        for statement in duckdb_schema.TRACE_TIMES_KEYED:
            self._con.execute(statement)
        self._con.execute(
            "INSERT OR REPLACE INTO obsvty_meta VALUES ('schema_version', ?)",
            [str(duckdb_schema.SCHEMA_VERSION)],
        )
        self._span_keys = SpanKeys(dedupe_window)
        _refill_span_keys(self._con, self._span_keys)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for a reader thread."""
        return self._con.cursor()

    @contextlib.contextmanager
    def writes_held(self) -> Iterator[None]:
        """Hold off writes (and the checkpoints that follow them) meanwhile: for a reading of
        the file that a commit would change halfway, such as counting a table's rows against
        its row groups. Keep it to milliseconds: the buffer fills while it lasts."""
        with self._lock:
            yield

    def write(self, batches: Sequence[Batch]) -> None:
        grouped: dict[Signal, list[Batch]] = {}
        for batch in batches:
            if len(batch):
                grouped.setdefault(batch.signal, []).append(batch)
        if not grouped:
            return
        tables: dict[str, pa.Table] = {}
        rows: dict[str, int] = {}
        statements = ["BEGIN TRANSACTION"]
        try:
            for signal, group in grouped.items():
                name = _TABLE_NAMES[signal]
                table = arrow_table(group)
                statements += _insert_statements(name)
                tables[_incoming(name)] = table
                rows[name] = table.num_rows
        except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
            # a value the columns cannot hold: nothing of this write is stored (port contract)
            raise StoreError(f"DuckDB write failed: cannot convert the batch: {exc}") from exc
        with self._lock:
            spans = tables.get(_incoming("spans"))
            if spans is not None:
                statements += self._new_spans(spans, tables)
            statements.append("COMMIT")
            # one call for the whole transaction: each call gives up Python's GIL and must win it
            # back from the receivers' busy event loop, so fewer calls mean a flusher that keeps up
            script = ";\n".join(statements)
            con = self._con
            try:
                for incoming, table in tables.items():
                    con.register(incoming, table)
                try:
                    with short_switch_interval():
                        con.execute(script)
                finally:
                    for incoming in tables:
                        con.unregister(incoming)
            except duckdb.Error as exc:
                self._span_keys.discard()  # nothing was stored: its spans must not look stored
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise StoreError(f"DuckDB write failed: {exc}") from exc
            self._span_keys.commit()  # only now: the spans are stored
            self._writes += 1
            appended = self._appended
            for name, count in rows.items():
                appended[name] = appended.get(name, 0) + count
            if max(appended.values()) >= self._checkpoint_rows:
                self._checkpoint()

    def _new_spans(self, spans: pa.Table, tables: dict[str, pa.Table]) -> list[str]:
        """Keep, in ``tables``, only the spans of this write that are not stored yet (caller holds
        the lock; the keys stay staged until the write commits), and answer the statements for
        the odd rows the key set cannot hold (none, in practice). Filtering costs the same
        whatever the spans' start times and however much is stored, unlike looking for each span
        among the stored rows."""
        try:
            keep, odd = self._span_keys.new_rows(spans)
            if keep is not None:
                tables[_incoming("spans")] = spans.filter(keep)
            if odd is None:
                return []
            tables[_ODD_SPANS] = spans.filter(odd)
        except (pa.ArrowException, ValueError) as exc:  # pragma: no cover - pyarrow's own arrays
            self._span_keys.discard()
            raise StoreError(f"DuckDB write failed: cannot read the span ids: {exc}") from exc
        return [
            _INSERT_ODD_SPANS.format(source=_ODD_SPANS),
            duckdb_schema.TRACE_TIMES_OF.format(source=_ODD_SPANS),
        ]

    def _checkpoint(self) -> None:
        """Checkpoint after a committed write (caller holds the lock). A failure is not the
        write's: its rows are committed, so it is logged and the next write tries again. One
        that holds up writes long enough to fill the buffer is logged too."""
        try:
            with short_switch_interval():
                took = self.checkpoint_on(self._con)
        except duckdb.Error as exc:
            log.warning("DuckDB checkpoint failed, retried after the next write: %s", exc)
            return
        self._appended.clear()
        self._count_checkpoint()
        if took >= SLOW_CHECKPOINT_SECONDS:
            log.warning("DuckDB checkpoint held up writes for %.2f s", took)

    def observe_checkpoints(self, observer: Callable[[float], None]) -> None:
        """Call ``observer`` with the seconds of each checkpoint from now on (the writes' and
        those made through :meth:`checkpoint_on`); writes wait for a checkpoint, so these are
        the pauses of the write path (``/metrics``)."""
        self._checkpoint_observers.append(observer)

    def checkpoint_on(self, con: duckdb.DuckDBPyConnection) -> float:
        """``CHECKPOINT`` on ``con`` (the store's connection or a cursor of it), its seconds
        told to the observers and returned; a ``duckdb.Error`` is the caller's."""
        started = time.monotonic()
        con.execute("CHECKPOINT")
        took = time.monotonic() - started
        for observer in self._checkpoint_observers:
            observer(took)
        return took

    def _count_checkpoint(self) -> None:
        with self._checkpointed:
            self._checkpoints += 1
            self._checkpointed.notify_all()

    def wait_for_checkpoint(self, timeout: float) -> bool:
        """Wait for the next checkpoint that writes make; ``False`` when none came within
        ``timeout`` seconds, when nothing was written since the last one, or when the writes
        stopped for :data:`WRITES_IDLE_SECONDS`. Deletes wait for one rather than checkpoint
        themselves: a checkpoint at any other time writes the rows appended so far as a
        part-filled row group, which the next checkpoint writes again in full with the rows
        appended to it, while it holds up writes."""
        deadline = time.monotonic() + timeout
        with self._checkpointed:
            seen, writes = self._checkpoints, self._writes
            while self._checkpoints == seen:
                left = deadline - time.monotonic()
                if left <= 0 or not self._appended:
                    return False  # none coming soon, or nothing written since the last one
                self._checkpointed.wait(min(left, WRITES_IDLE_SECONDS))
                if self._checkpoints == seen and self._writes == writes:
                    return False  # the writes stopped (shutdown, a pause in the load)
                writes = self._writes
            return True

    def close(self) -> None:
        """Checkpoint and close the file; closing again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._con.execute("CHECKPOINT")
            except duckdb.Error as exc:  # pragma: no cover - best effort before closing
                log.warning("checkpoint on close failed: %s", exc)
            self._con.close()
        self._count_checkpoint()  # nobody waits for a checkpoint of a closed store
