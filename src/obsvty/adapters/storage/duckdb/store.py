"""The embedded DuckDB store: the default, local-first home of all telemetry.

Writes arrive as columnar batches from the flusher thread; each becomes an Arrow table that
DuckDB inserts in bulk, all signals of one flush in one transaction. Readers (the query API) use
their own cursors, so queries run next to ingestion under DuckDB's MVCC.
"""

from __future__ import annotations

import binascii
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from obsvty.adapters.encoding.typed_json import dumps
from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.gil_handoff import short_switch_interval
from obsvty.adapters.storage.duckdb.span_keys import SpanKeys
from obsvty.domain.arrow_batch import LOG_SCHEMA, METRIC_SCHEMA, SPAN_SCHEMA, ArrowBatch
from obsvty.domain.batches import Batch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import (
    Exemplar,
    InstrumentationScope,
    Resource,
    Signal,
    SpanEvent,
    SpanLink,
)
from obsvty.ports.store import StoreError, StoreLockedError

log = logging.getLogger(__name__)

_U32 = pa.uint32()
_U8 = pa.uint8()
_I32 = pa.int32()
_I64 = pa.int64()
_STR = pa.string()


def _shared_columns(
    objects: list[Any], encode: Callable[[Any], tuple[Any, ...]], columns: dict[str, pa.DataType]
) -> dict[str, pa.Array]:
    """Columns of objects shared by many rows (resources, scopes, metric descriptors): each
    distinct object is encoded once, and each column is a dictionary array (one index per row
    into the short array of distinct values), which DuckDB reads as its own dictionary vector.

    Dictionary arrays are built without running an Arrow compute function. That matters next to
    the receivers' busy event loop: a compute function (``take``) gives Python's GIL up and must
    then wait to get it back (see ``gil_handoff``). ``python -m bench.store_write gil``, the
    table of 5,000 spans alone / next to a spinning Python thread: 14.4 / 104.0 ms with nine
    ``take`` and three ``multiply`` calls (``_hex``), 14.2 / 55.3 ms without them."""
    position: dict[int, int] = {}
    distinct: list[tuple[Any, ...]] = []
    indices = []
    for obj in objects:
        at = position.get(id(obj))
        if at is None:
            at = position[id(obj)] = len(distinct)
            distinct.append(encode(obj))
        indices.append(at)
    rows = pa.array(indices, _I32)
    return {
        name: pa.DictionaryArray.from_arrays(rows, pa.array([d[n] for d in distinct], kind))
        for n, (name, kind) in enumerate(columns.items())
    }


_RESOURCE_COLUMNS = {
    "service_name": _STR,
    "resource_attributes": _STR,
    "resource_dropped_attributes_count": _U32,
    "resource_schema_url": _STR,
}
_SCOPE_COLUMNS = {
    "scope_name": _STR,
    "scope_version": _STR,
    "scope_attributes": _STR,
    "scope_dropped_attributes_count": _U32,
    "scope_schema_url": _STR,
}


def _resource_scope_columns(
    resources: list[Resource], scopes: list[InstrumentationScope]
) -> dict[str, pa.Array]:
    columns = _shared_columns(
        resources,
        lambda r: (
            r.service_name,
            dumps(r.attributes),
            r.dropped_attributes_count,
            r.schema_url,
        ),
        _RESOURCE_COLUMNS,
    )
    columns.update(
        _shared_columns(
            scopes,
            lambda s: (
                s.name,
                s.version,
                dumps(s.attributes),
                s.dropped_attributes_count,
                s.schema_url,
            ),
            _SCOPE_COLUMNS,
        )
    )
    return columns


_double = (2).__mul__


def _hex(ids: list[bytes]) -> pa.Array:
    """Ids as lower-case hex strings, without a Python string per id: one ``hexlify`` of their
    concatenation is the strings' data, and the offsets are the ids' lengths doubled and summed
    (C-level iterators; no Arrow compute function, see :func:`_shared_columns`). About 4x
    cheaper than ``id.hex()`` per row."""
    count = len(ids)
    if not count:
        return pa.array([], _STR)
    offsets = pa.array(accumulate(map(_double, map(len, ids)), initial=0), _I32).buffers()[1]
    data = pa.py_buffer(binascii.hexlify(b"".join(ids)))
    return pa.Array.from_buffers(_STR, count, [None, offsets, data])


_EMPTY_LIST = "[]"
"""Events, links or exemplars of an item that has none (most spans): no call, no encoding."""


def _events_json(events: list[SpanEvent]) -> str:
    return dumps(
        [
            {
                "time_unix_nano": e.time_unix_nano,
                "name": e.name,
                "attributes": e.attributes,
                "dropped_attributes_count": e.dropped_attributes_count,
            }
            for e in events
        ]
    )


def _links_json(links: list[SpanLink]) -> str:
    return dumps(
        [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "trace_state": link.trace_state,
                "attributes": link.attributes,
                "dropped_attributes_count": link.dropped_attributes_count,
                "flags": link.flags,
            }
            for link in links
        ]
    )


def _exemplars_json(exemplars: list[Exemplar]) -> str:
    return dumps(
        [
            {
                "time_unix_nano": e.time_unix_nano,
                "value": e.value,
                "filtered_attributes": e.filtered_attributes,
                "trace_id": e.trace_id.hex(),
                "span_id": e.span_id.hex(),
            }
            for e in exemplars
        ]
    )


def span_table(b: SpanBatch) -> pa.Table:
    start = b.start_time_unix_nano
    end = b.end_time_unix_nano
    columns: dict[str, pa.Array] = {
        "trace_id": _hex(b.trace_id),
        "span_id": _hex(b.span_id),
        "parent_span_id": _hex(b.parent_span_id),
        "trace_state": pa.array(b.trace_state, _STR),
        "flags": pa.array(b.flags, _U32),
        "name": pa.array(b.name, _STR),
        "kind": pa.array(b.kind, _U8),
        "start_time_unix_nano": pa.array(start, _I64),
        "end_time_unix_nano": pa.array(end, _I64),
        "duration_ns": pa.array([e - s for s, e in zip(start, end, strict=True)], _I64),
        "attributes": pa.array([dumps(a) for a in b.attributes], _STR),
        "dropped_attributes_count": pa.array(b.dropped_attributes_count, _U32),
        "events": pa.array([_events_json(e) if e else _EMPTY_LIST for e in b.events], _STR),
        "dropped_events_count": pa.array(b.dropped_events_count, _U32),
        "links": pa.array([_links_json(k) if k else _EMPTY_LIST for k in b.links], _STR),
        "dropped_links_count": pa.array(b.dropped_links_count, _U32),
        "status_code": pa.array(b.status_code, _U8),
        "status_message": pa.array(b.status_message, _STR),
    }
    columns.update(_resource_scope_columns(b.resource, b.scope))
    return pa.table(columns, schema=SPAN_SCHEMA)


def log_table(b: LogBatch) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "time_unix_nano": pa.array(b.time_unix_nano, _I64),
        "observed_time_unix_nano": pa.array(b.observed_time_unix_nano, _I64),
        "severity_number": pa.array(b.severity_number, _U8),
        "severity_text": pa.array(b.severity_text, _STR),
        "body": pa.array([None if v is None else dumps(v) for v in b.body], _STR),
        "attributes": pa.array([dumps(a) for a in b.attributes], _STR),
        "dropped_attributes_count": pa.array(b.dropped_attributes_count, _U32),
        "flags": pa.array(b.flags, _U32),
        "trace_id": _hex(b.trace_id),
        "span_id": _hex(b.span_id),
        "event_name": pa.array(b.event_name, _STR),
    }
    columns.update(_resource_scope_columns(b.resource, b.scope))
    return pa.table(columns, schema=LOG_SCHEMA)


def metric_table(b: MetricBatch) -> pa.Table:
    u64_list = pa.list_(pa.uint64())
    columns = _shared_columns(
        b.metric,
        lambda m: (
            m.name,
            m.description,
            m.unit,
            m.type,
            m.aggregation_temporality,
            m.is_monotonic,
            dumps(m.metadata),
        ),
        {
            "metric_name": _STR,
            "metric_description": _STR,
            "metric_unit": _STR,
            "metric_type": _STR,
            "aggregation_temporality": _U8,
            "is_monotonic": pa.bool_(),
            "metric_metadata": _STR,
        },
    )
    columns |= {
        "start_time_unix_nano": pa.array(b.start_time_unix_nano, _I64),
        "time_unix_nano": pa.array(b.time_unix_nano, _I64),
        "attributes": pa.array([dumps(a) for a in b.attributes], _STR),
        "flags": pa.array(b.flags, _U32),
        "exemplars": pa.array(
            [_exemplars_json(e) if e else _EMPTY_LIST for e in b.exemplars], _STR
        ),
        "value_int": pa.array(b.value_int, _I64),
        "value_double": pa.array(b.value_double, pa.float64()),
        "count": pa.array(b.count, pa.uint64()),
        "sum": pa.array(b.sum, pa.float64()),
        "min": pa.array(b.min, pa.float64()),
        "max": pa.array(b.max, pa.float64()),
        "bucket_counts": pa.array(b.bucket_counts, u64_list),
        "explicit_bounds": pa.array(b.explicit_bounds, pa.list_(pa.float64())),
        "scale": pa.array(b.scale, pa.int32()),
        "zero_count": pa.array(b.zero_count, pa.uint64()),
        "zero_threshold": pa.array(b.zero_threshold, pa.float64()),
        "positive_offset": pa.array(b.positive_offset, pa.int32()),
        "positive_bucket_counts": pa.array(b.positive_bucket_counts, u64_list),
        "negative_offset": pa.array(b.negative_offset, pa.int32()),
        "negative_bucket_counts": pa.array(b.negative_bucket_counts, u64_list),
        "quantile_values": pa.array(
            [dumps([{"quantile": q, "value": v} for q, v in qv]) for qv in b.quantile_values],
            _STR,
        ),
    }
    columns.update(_resource_scope_columns(b.resource, b.scope))
    return pa.table(columns, schema=METRIC_SCHEMA)


_TO_ARROW: dict[type[Any], Callable[[Any], pa.Table]] = {
    SpanBatch: span_table,
    LogBatch: log_table,
    MetricBatch: metric_table,
}
_TABLE_NAMES = {Signal.TRACES: "spans", Signal.LOGS: "logs", Signal.METRICS: "metric_points"}


def _arrow_table(group: list[Batch]) -> pa.Table:
    """One signal's batches as one Arrow table: the compiled decoder's as they are, the
    list-based ones converted."""
    tables = [b.table if isinstance(b, ArrowBatch) else _TO_ARROW[type(b)](b) for b in group]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


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
                table = _arrow_table(group)
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
        write's: its rows are committed, so it is logged and the next write tries again."""
        try:
            with short_switch_interval():
                self._con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            log.warning("DuckDB checkpoint failed, retried after the next write: %s", exc)
            return
        self._appended.clear()

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
