"""The query port on the embedded DuckDB store.

Every call takes a cursor of its own from the store (a DuckDB connection must not be shared
between threads), so queries run in the API's worker threads next to the flusher's writes, each
on a consistent snapshot (DuckDB MVCC). The conditions are built in ``query_sql``, the trace
search's ranking in ``query_trace_search``, and rows are decoded by column name in ``query_rows``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import duckdb

from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.query_rows import (
    LOG_COLUMNS,
    METRIC_SELECT,
    SPAN_SELECT,
    LogKeyRow,
    RowDecoder,
    SummaryRow,
    log_key,
    select_list,
)
from obsvty.adapters.storage.duckdb.query_sql import TraceRows, Where
from obsvty.adapters.storage.duckdb.query_trace_search import ranked, trace_ranges
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.domain.model import (
    LogRecord,
    MetricPoint,
    Signal,
    Span,
    StatusCode,
)
from obsvty.ports.query import (
    DependencyLink,
    LogCursor,
    LogPage,
    LogQuery,
    MetricInfo,
    MetricQuery,
    Operation,
    SignalStats,
    StoreStats,
    TraceQuery,
    TraceSummary,
)

_LOG_SEQ = duckdb_schema.LOG_SEQ_COLUMN  # the log cursor's tie breaker, stable across checkpoints
_LOG_TIME = "COALESCE(NULLIF(time_unix_nano, 0), observed_time_unix_nano)"
_LOG_PAGE_SELECT = select_list(
    LOG_COLUMNS, LogKeyRow._fields, expressions={"log_time": _LOG_TIME, "log_seq": _LOG_SEQ}
)
_ROOT_FIRST = "ORDER BY parent_span_id <> '', start_time_unix_nano, span_id"
_SUMMARY_SELECT = select_list(
    SummaryRow._fields,
    expressions={
        "root_service": f"first(service_name {_ROOT_FIRST})",
        "root_name": f"first(name {_ROOT_FIRST})",
        "trace_start": "min(start_time_unix_nano)",
        "trace_duration": "max(end_time_unix_nano) - min(start_time_unix_nano)",
        "span_count": "count(*)",
        "error_count": f"count(*) FILTER (WHERE status_code = {int(StatusCode.ERROR)})",
        "services": "list(DISTINCT service_name ORDER BY service_name)",
    },
)
_TABLE = {Signal.TRACES: "spans", Signal.LOGS: "logs", Signal.METRICS: "metric_points"}


class DuckDBQuery:
    """:class:`obsvty.ports.query.TelemetryQueryPort` on a :class:`DuckDBStore`."""

    def __init__(self, store: DuckDBStore) -> None:
        self._store = store

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self._store.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._cursor() as cursor:
            return cursor.execute(sql, list(params)).fetchall()

    # --------------------------------------------------------------------------------- traces

    def services(self, signal: Signal = Signal.TRACES) -> list[str]:
        table = _TABLE[signal]
        return [r[0] for r in self._rows(f"SELECT DISTINCT service_name FROM {table} ORDER BY 1")]  # noqa: S608

    def operations(self, service: str, span_kind: int | None = None) -> list[Operation]:
        where = Where()
        where.add("service_name = ?", service)
        if span_kind is not None:
            where.add("kind = ?", span_kind)
        rows = self._rows(
            f"SELECT DISTINCT name, kind FROM spans WHERE {where.sql()} ORDER BY 1, 2",  # noqa: S608
            where.params,
        )
        return [Operation(name, kind) for name, kind in rows]

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        with self._cursor() as cursor:
            trace_ids, ranges = ranked(cursor, query)
            return self._summaries(cursor, trace_ids, ranges)

    def find_trace_spans(self, query: TraceQuery) -> list[list[Span]]:
        """The ranking of :meth:`find_traces`, then the traces read as :meth:`get_traces` does,
        with the start ranges the ranking already looked up."""
        with self._cursor() as cursor:
            trace_ids, ranges = ranked(cursor, query)
            found = self._trace_spans(cursor, trace_ids, ranges)
        return [spans for spans in found if spans]

    def _summaries(
        self,
        cursor: duckdb.DuckDBPyConnection,
        trace_ids: list[str],
        ranges: Mapping[str, tuple[int, int]],
    ) -> list[TraceSummary]:
        """Each trace summarised over all its spans (their start ``ranges`` from
        ``trace_times``), in the given order, from one scan (:class:`TraceRows`)."""
        if not trace_ids:
            return []
        rows_of = TraceRows(trace_ids, ranges)
        rows = cursor.execute(
            f"SELECT {_SUMMARY_SELECT} FROM spans WHERE {rows_of.sql} GROUP BY trace_id",  # noqa: S608
            rows_of.params,
        ).fetchall()
        by_id = {s.trace_id: s for s in map(SummaryRow._make, rows)}
        return [
            TraceSummary(
                trace_id=bytes.fromhex(s.trace_id),
                root_service=s.root_service,
                root_name=s.root_name,
                start_time_unix_nano=s.trace_start,
                duration_ns=s.trace_duration,
                span_count=s.span_count,
                error_count=s.error_count,
                services=tuple(s.services),
            )
            for s in (by_id[t] for t in trace_ids)
        ]

    def get_trace(self, trace_id: bytes) -> list[Span]:
        return self.get_traces([trace_id])[0]

    def get_traces(self, trace_ids: Sequence[bytes]) -> list[list[Span]]:
        """The traces' start-time ranges (``trace_times``, written with the spans) limit one scan
        to the row groups of those ranges (:class:`TraceRows`)."""
        if not trace_ids:
            return []
        hex_ids = list(dict.fromkeys(t.hex() for t in trace_ids))
        with self._cursor() as cursor:
            found = self._trace_spans(cursor, hex_ids, trace_ranges(cursor, hex_ids))
        by_trace = dict(zip(hex_ids, found, strict=True))
        return [by_trace[t.hex()] for t in trace_ids]

    @staticmethod
    def _trace_spans(
        cursor: duckdb.DuckDBPyConnection,
        trace_ids: list[str],
        ranges: Mapping[str, tuple[int, int]],
    ) -> list[list[Span]]:
        """Each trace's spans, ordered by start then span id (``[]`` when not in ``ranges``:
        not stored), from one scan (:class:`TraceRows`)."""
        found = [t for t in trace_ids if t in ranges]
        rows = []
        if found:
            rows_of = TraceRows(found, ranges)
            rows = cursor.execute(
                f"SELECT {SPAN_SELECT} FROM spans WHERE {rows_of.sql} "  # noqa: S608
                "ORDER BY start_time_unix_nano, span_id",
                rows_of.params,
            ).fetchall()
        decoder = RowDecoder()
        by_trace: dict[bytes, list[Span]] = {bytes.fromhex(t): [] for t in trace_ids}
        for r in rows:
            span = decoder.span(*r)
            by_trace[span.trace_id].append(span)
        return list(by_trace.values())

    def dependencies(
        self, start_unix_nano: int | None = None, end_unix_nano: int | None = None
    ) -> list[DependencyLink]:
        """The child spans of the range joined with their parents by (trace, span id). Parents
        are read only within the start-time range of the traces involved (``trace_times``), so
        DuckDB skips the row groups of other times."""
        in_range = Where()
        in_range.add("parent_span_id <> ''")
        in_range.time_range("start_time_unix_nano", start_unix_nano, end_unix_nano)
        rows = self._rows(
            f"""
            WITH calls AS (
                SELECT trace_id, parent_span_id, service_name, status_code
                FROM spans WHERE {in_range.sql()}
            ),
            bounds AS (
                SELECT min(start_min) AS lo, max(start_max) AS hi FROM trace_times
                WHERE trace_id IN (SELECT trace_id FROM calls)
            )
            SELECT p.service_name, c.service_name, count(*),
                   count(*) FILTER (WHERE c.status_code = {int(StatusCode.ERROR)})
            FROM calls c
            JOIN spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
            WHERE p.start_time_unix_nano BETWEEN (SELECT lo FROM bounds) AND (SELECT hi FROM bounds)
              AND p.service_name <> c.service_name
            GROUP BY 1, 2 ORDER BY 1, 2
            """,  # noqa: S608 - only this module's own SQL fragments; every value is a parameter
            in_range.params,
        )
        return [DependencyLink(r[0], r[1], int(r[2]), int(r[3])) for r in rows]

    # ----------------------------------------------------------------------------------- logs

    def find_logs(self, query: LogQuery) -> LogPage:
        where = Where()
        where.time_range(_LOG_TIME, query.start_unix_nano, query.end_unix_nano)
        if query.min_severity is not None:
            where.add("severity_number >= ?", query.min_severity)
        if query.service is not None:
            where.add("service_name = ?", query.service)
        if query.trace_id is not None:
            where.add("trace_id = ?", query.trace_id.hex())
        if query.body_contains is not None:
            where.add(
                "json_type(body) = 'VARCHAR' "
                "AND contains(lower(json_extract_string(body, '$')), lower(?))",
                query.body_contains,
            )
        where.attributes(query.attributes, ("attributes", "resource_attributes"))
        if query.cursor is not None:
            c = query.cursor
            where.add(
                f"({_LOG_TIME} < ? OR ({_LOG_TIME} = ? AND {_LOG_SEQ} < ?))",
                c.time_unix_nano,
                c.time_unix_nano,
                c.tiebreak,
            )
        rows = self._rows(
            f"SELECT {_LOG_PAGE_SELECT} FROM logs "  # noqa: S608
            f"WHERE {where.sql()} ORDER BY log_time DESC, {_LOG_SEQ} DESC LIMIT ?",
            [*where.params, query.limit + 1],
        )
        decoder = RowDecoder()
        page = rows[: query.limit]
        records: list[LogRecord] = [decoder.log(*r) for r in page]
        next_cursor = None
        if len(rows) > query.limit:
            last = log_key(page[-1])
            next_cursor = LogCursor(last.log_time, last.log_seq)
        return LogPage(records, next_cursor)

    # -------------------------------------------------------------------------------- metrics

    def metric_descriptors(self, service: str | None = None) -> list[MetricInfo]:
        where = Where()
        if service is not None:
            where.add("service_name = ?", service)
        rows = self._rows(
            f"""
            SELECT metric_name, metric_type,
                   arg_max(metric_unit, time_unix_nano),
                   arg_max(metric_description, time_unix_nano),
                   list(DISTINCT service_name ORDER BY service_name)
            FROM metric_points WHERE {where.sql()}
            GROUP BY 1, 2 ORDER BY 1, 2
            """,  # noqa: S608
            where.params,
        )
        return [MetricInfo(r[0], r[1], r[2], r[3], tuple(r[4])) for r in rows]

    def metric_points(self, query: MetricQuery) -> list[MetricPoint]:
        where = Where()
        where.add("metric_name = ?", query.name)
        where.time_range("time_unix_nano", query.start_unix_nano, query.end_unix_nano)
        if query.service is not None:
            where.add("service_name = ?", query.service)
        where.attributes(query.attributes, ("attributes", "resource_attributes"))
        rows = self._rows(
            f"SELECT {METRIC_SELECT} FROM metric_points WHERE {where.sql()} "  # noqa: S608
            "ORDER BY time_unix_nano, rowid LIMIT ?",
            [*where.params, query.limit],
        )
        decoder = RowDecoder()
        points: list[MetricPoint] = [decoder.metric_point(*r) for r in rows]
        return points

    # ---------------------------------------------------------------------------------- stats

    def stats(self) -> StoreStats:
        rows = self._rows(
            f"""
            SELECT 'traces', count(*), min(start_time_unix_nano), max(start_time_unix_nano)
              FROM spans
            UNION ALL
            SELECT 'logs', count(*), min({_LOG_TIME}), max({_LOG_TIME}) FROM logs
            UNION ALL
            SELECT 'metrics', count(*), min(time_unix_nano), max(time_unix_nano)
              FROM metric_points
            """  # noqa: S608
        )
        signals = {Signal(r[0]): SignalStats(r[1], r[2], r[3]) for r in rows}
        return StoreStats(signals, self._size_bytes())

    def _size_bytes(self) -> int | None:
        total = 0
        for path in (self._store.path, self._store.path.with_name(self._store.path.name + ".wal")):
            with contextlib.suppress(OSError):
                total += os.path.getsize(path)
        return total or None
