"""The query port on the embedded DuckDB store.

Every call takes a cursor of its own from the store (a DuckDB connection must not be shared
between threads), so queries run in the API's worker threads next to the flusher's writes, each
on a consistent snapshot (DuckDB MVCC). Every value a user sends is a bound parameter; the only
text composed into SQL is this module's own column names and operators.

Attribute filters run on the typed-JSON attribute columns: a cheap substring test on the JSON text
(``"key":``) discards most rows before DuckDB parses any JSON, then the value is compared by its
JSON type, as :class:`obsvty.ports.query.AttributeFilter` defines.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from typing import Any, cast

import duckdb

from obsvty.adapters.encoding.typed_json import dumps, loads_attributes, loads_value
from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.domain.model import (
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    MetricPoint,
    Resource,
    Signal,
    Span,
    SpanEvent,
    SpanLink,
    StatusCode,
)
from obsvty.ports.query import (
    AttributeFilter,
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
    filter_text,
)

_RESOURCE_SCOPE = (
    "service_name, resource_attributes, resource_dropped_attributes_count, resource_schema_url, "
    "scope_name, scope_version, scope_attributes, scope_dropped_attributes_count, scope_schema_url"
)
_SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, trace_state, flags, name, kind, start_time_unix_nano, "
    "end_time_unix_nano, attributes, dropped_attributes_count, events, dropped_events_count, "
    "links, dropped_links_count, status_code, status_message, " + _RESOURCE_SCOPE
)
_LOG_COLUMNS = (
    "time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body, attributes, "
    "dropped_attributes_count, flags, trace_id, span_id, event_name, " + _RESOURCE_SCOPE
)
_METRIC_COLUMNS = (
    "metric_name, metric_description, metric_unit, metric_type, aggregation_temporality, "
    "is_monotonic, metric_metadata, start_time_unix_nano, time_unix_nano, attributes, flags, "
    "exemplars, value_int, value_double, count, sum, min, max, bucket_counts, explicit_bounds, "
    "scale, zero_count, zero_threshold, positive_offset, positive_bucket_counts, "
    "negative_offset, negative_bucket_counts, quantile_values, " + _RESOURCE_SCOPE
)
_SUMMARY_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, start_time_unix_nano, end_time_unix_nano, "
    "status_code, service_name"
)
_LOG_SEQ = duckdb_schema.LOG_SEQ_COLUMN  # the log cursor's tie breaker, stable across checkpoints
_LOG_TIME = "COALESCE(NULLIF(time_unix_nano, 0), observed_time_unix_nano)"
_TABLE = {Signal.TRACES: "spans", Signal.LOGS: "logs", Signal.METRICS: "metric_points"}
_INTEGER_TYPES = "('BIGINT', 'UBIGINT')"
_WINDOW_BISECTIONS = 6
_SPANS_PER_WANTED_TRACE = 50
"""A trace search first looks at the newest ``limit * this`` spans of the time range."""


def trace_key(trace_id: str) -> int:
    """``duckdb_schema.TRACE_KEY`` of a hex trace id."""
    try:
        return int("0x" + trace_id[-14:], 16)
    except ValueError:
        return -1


def _json_pointer(key: str) -> str:
    """A top-level key as a JSON Pointer (RFC 6901): dots and spaces need no escaping."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Closed ranges sorted, the overlapping ones merged into one."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _marks(values: Sized) -> str:
    return ", ".join("?" for _ in range(len(values)))


class _TraceRows:
    """The rows of a set of traces, as one scan: ``trace_id IN (...)`` and the start-time ranges
    of those traces (``trace_times``) OR'ed, merged where they overlap. DuckDB prunes the row
    groups outside every range (zone maps) and reads each remaining one once, where a scan per
    trace would read a row group again for every trace in it (dense data: many traces per row
    group). A trace missing from ``trace_times`` is looked for over the whole table."""

    def __init__(self, trace_ids: Sequence[str], ranges: Mapping[str, tuple[int, int]]) -> None:
        known = [ranges[t] for t in trace_ids if t in ranges]
        unknown = [t for t in trace_ids if t not in ranges]
        times: list[tuple[str, list[Any]]] = [
            ("start_time_unix_nano BETWEEN ? AND ?", [lo, hi]) for lo, hi in _merged(known)
        ]
        if unknown:
            times.append((f"trace_id IN ({_marks(unknown)})", unknown))
        self.sql = (
            f"trace_id IN ({_marks(trace_ids)}) AND (" + " OR ".join(sql for sql, _ in times) + ")"
        )
        self.params: list[Any] = [*trace_ids, *(p for _, params in times for p in params)]


class _Where:
    """Conditions joined by AND, with their parameters in order."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "TRUE"

    def time_range(self, column: str, start: int | None, end: int | None) -> None:
        if start is not None:
            self.add(f"{column} >= ?", start)
        if end is not None:
            self.add(f"{column} < ?", end)

    def attributes(self, filters: Sequence[AttributeFilter], columns: Sequence[str]) -> None:
        for f in filters:
            # first a cheap substring test on the JSON text of every column, as a condition of
            # its own (DuckDB evaluates the next conditions only on the rows that pass it) ...
            needles = _needles(f)
            self.add(
                "(" + " OR ".join(f"contains({c}, ?)" for c in columns for _ in needles) + ")",
                *(n for _ in columns for n in needles),
            )
            # ... then the exact typed comparison, which parses JSON
            parts: list[str] = []
            params: list[Any] = []
            for column in columns:
                sql, p = _attribute_match(column, f)
                parts.append(sql)
                params.extend(p)
            self.add("(" + " OR ".join(parts) + ")", *params)


def _needles(f: AttributeFilter) -> list[str]:
    """Texts one of which the JSON of any matching attribute map contains: orjson writes a
    top-level key and its value as ``"key":value``, with no spaces."""
    key = dumps(f.key) + ":"
    value = f.value
    if isinstance(value, str):
        return [key + dumps(value)]
    texts = [key + dumps(filter_text(value))]  # the string form, e.g. "200"
    if isinstance(value, bool):
        return [*texts, key + dumps(value)]
    texts.append(key + dumps(value))
    if isinstance(value, int):
        double = float(value)
        if math.isfinite(double) and double == value:
            texts.append(key + dumps(double))
    elif value.is_integer():
        texts.append(key + str(int(value)))
    return texts


def _attribute_match(column: str, f: AttributeFilter) -> tuple[str, list[Any]]:
    """SQL true when ``column`` (typed JSON) holds ``f.key`` with a value ``f`` matches."""
    path = _json_pointer(f.key)
    kind = f"json_type({column}, ?)"
    text = f"json_extract_string({column}, ?)"
    value = f.value
    if isinstance(value, str):
        return (
            f"({kind} = 'VARCHAR' AND {text} = ?)",
            [path, path, value],
        )
    if isinstance(value, bool):
        # a JSON boolean's text is true/false, the same as the string form it also matches
        return (
            f"({kind} IN ('BOOLEAN', 'VARCHAR') AND {text} = ?)",
            [path, path, filter_text(value)],
        )
    number = f"json_extract({column}, ?)"
    if isinstance(value, int):
        numeric = (
            f"({kind} IN {_INTEGER_TYPES} AND {number}::HUGEINT = ?::HUGEINT) "
            f"OR ({kind} = 'DOUBLE' AND {number}::DOUBLE = ?::DOUBLE)"
        )
        numeric_params: list[Any] = [path, path, str(value), path, path, float(value)]
    else:
        numeric = f"({kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND {number}::DOUBLE = ?::DOUBLE)"
        numeric_params = [path, path, value]
    return (
        f"({numeric} OR ({kind} = 'VARCHAR' AND {text} = ?))",
        [*numeric_params, path, path, filter_text(value)],
    )


def _json_list(document: str) -> list[dict[str, Any]]:
    """A JSON array of objects (events, links, exemplars, quantiles), bytes revived."""
    if document == "[]":
        return []
    return cast("list[dict[str, Any]]", loads_value(document))


class _Decoder:
    """Rows back into domain records; resources and scopes are decoded once per distinct row
    value, so the spans of one trace share them as they did on ingest."""

    def __init__(self) -> None:
        self._resources: dict[tuple[Any, ...], Resource] = {}
        self._scopes: dict[tuple[Any, ...], InstrumentationScope] = {}

    def resource(self, row: Sequence[Any], at: int) -> Resource:
        key = (row[at + 1], row[at + 2], row[at + 3])
        found = self._resources.get(key)
        if found is None:
            found = self._resources[key] = Resource(loads_attributes(key[0]), key[1], key[2])
        return found

    def scope(self, row: Sequence[Any], at: int) -> InstrumentationScope:
        key = (row[at + 4], row[at + 5], row[at + 6], row[at + 7], row[at + 8])
        found = self._scopes.get(key)
        if found is None:
            found = self._scopes[key] = InstrumentationScope(
                key[0], key[1], loads_attributes(key[2]), key[3], key[4]
            )
        return found

    def span(self, r: Sequence[Any]) -> Span:
        events = _json_list(r[11])
        links = _json_list(r[13])
        return Span(
            trace_id=bytes.fromhex(r[0]),
            span_id=bytes.fromhex(r[1]),
            parent_span_id=bytes.fromhex(r[2]),
            trace_state=r[3],
            flags=r[4],
            name=r[5],
            kind=r[6],
            start_time_unix_nano=r[7],
            end_time_unix_nano=r[8],
            attributes=loads_attributes(r[9]),
            dropped_attributes_count=r[10],
            events=tuple(
                SpanEvent(
                    e["time_unix_nano"], e["name"], e["attributes"], e["dropped_attributes_count"]
                )
                for e in events
            ),
            dropped_events_count=r[12],
            links=tuple(
                SpanLink(
                    bytes.fromhex(link["trace_id"]),
                    bytes.fromhex(link["span_id"]),
                    link["trace_state"],
                    link["attributes"],
                    link["dropped_attributes_count"],
                    link["flags"],
                )
                for link in links
            ),
            dropped_links_count=r[14],
            status_code=r[15],
            status_message=r[16],
            resource=self.resource(r, 17),
            scope=self.scope(r, 17),
        )

    def log(self, r: Sequence[Any]) -> LogRecord:
        return LogRecord(
            time_unix_nano=r[0],
            observed_time_unix_nano=r[1],
            severity_number=r[2],
            severity_text=r[3],
            body=loads_value(r[4]),
            attributes=loads_attributes(r[5]),
            dropped_attributes_count=r[6],
            flags=r[7],
            trace_id=bytes.fromhex(r[8]),
            span_id=bytes.fromhex(r[9]),
            event_name=r[10],
            resource=self.resource(r, 11),
            scope=self.scope(r, 11),
        )

    def metric_point(self, r: Sequence[Any]) -> MetricPoint:
        exemplars = _json_list(r[11])
        quantiles = _json_list(r[27])
        return MetricPoint(
            metric=MetricDescriptor(
                name=r[0],
                description=r[1],
                unit=r[2],
                type=r[3],
                aggregation_temporality=r[4],
                is_monotonic=r[5],
                metadata=loads_attributes(r[6]),
            ),
            start_time_unix_nano=r[7],
            time_unix_nano=r[8],
            attributes=loads_attributes(r[9]),
            flags=r[10],
            exemplars=tuple(
                Exemplar(
                    e["time_unix_nano"],
                    e["value"],
                    e["filtered_attributes"],
                    bytes.fromhex(e["trace_id"]),
                    bytes.fromhex(e["span_id"]),
                )
                for e in exemplars
            ),
            value_int=r[12],
            value_double=r[13],
            count=r[14],
            sum=r[15],
            min=r[16],
            max=r[17],
            bucket_counts=tuple(r[18]),
            explicit_bounds=tuple(r[19]),
            scale=r[20],
            zero_count=r[21],
            zero_threshold=r[22],
            positive_offset=r[23],
            positive_bucket_counts=tuple(r[24]),
            negative_offset=r[25],
            negative_bucket_counts=tuple(r[26]),
            quantile_values=tuple((q["quantile"], q["value"]) for q in quantiles),
            resource=self.resource(r, 28),
            scope=self.scope(r, 28),
        )


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
        where = _Where()
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
            trace_ids, ranges = self._ranked(cursor, query)
            return self._summaries(cursor, trace_ids, ranges)

    def find_trace_spans(self, query: TraceQuery) -> list[list[Span]]:
        """The ranking of :meth:`find_traces`, then the traces read as :meth:`get_traces` does,
        with the start ranges the ranking already looked up."""
        with self._cursor() as cursor:
            trace_ids, ranges = self._ranked(cursor, query)
            found = self._trace_spans(cursor, trace_ids, ranges)
        return [spans for spans in found if spans]

    def _ranked(
        self, cursor: duckdb.DuckDBPyConnection, query: TraceQuery
    ) -> tuple[list[str], Mapping[str, tuple[int, int]]]:
        """The ids of the traces :meth:`find_traces` returns, in order, with their start ranges
        (``trace_times``).

        Newest matching spans first, then only the traces found are summarised.

        Rows arrive roughly in start-time order, so a predicate on ``start_time_unix_nano`` lets
        DuckDB skip every row group outside it (zone maps). The search looks at a recent window
        ``[lo, end)`` first, holding at least the ``50 * limit`` newest spans of the range.
        A trace's key (its rank) is the start of its earliest matching span in the whole range;
        in the window, its earliest matching span there (``hit_time``). Every trace whose key is
        ``>= lo`` has ``key == hit_time`` and is among the window's hits, and every other trace
        ranks below it. So the hits ordered by ``hit_time`` whose key turns out ``>= lo`` are,
        in that order, the best traces; when ``limit`` of them are found they are the answer.
        A hit can only have matched before ``lo`` when its spans started before ``lo``
        (``trace_times``), and only those hits' keys are computed. With too few, the window
        grows fourfold; the last window is the whole range. Exact whatever the data: the window
        only saves work.
        """
        span_filter = self._span_filter(query)
        in_range = _Where()
        in_range.time_range("start_time_unix_nano", query.start_unix_nano, query.end_unix_nano)
        row = cursor.execute(
            "SELECT count(*), min(start_time_unix_nano), max(start_time_unix_nano) "  # noqa: S608
            f"FROM spans WHERE {in_range.sql()}",
            in_range.params,
        ).fetchone()
        count = int(row[0]) if row else 0
        bounds: tuple[int, int] = (row[1], row[2]) if row and count else (0, 0)
        newest = _SPANS_PER_WANTED_TRACE * query.limit
        while True:
            lo = (
                None
                if newest >= count
                else self._window_start(cursor, in_range, newest, count, bounds)
            )
            if lo is None:  # the whole range: every hit time is the key
                hits = self._newest_hits(cursor, span_filter, None, query.limit)
                trace_ids = [trace_id for trace_id, _ in hits]
                return trace_ids, self._trace_ranges(cursor, trace_ids)
            hits = self._newest_hits(cursor, span_filter, lo, 2 * query.limit)
            if len(hits) >= query.limit:
                ranges = self._trace_ranges(cursor, [trace_id for trace_id, _ in hits])
                best = self._keys_from(cursor, span_filter, hits, lo, ranges)[: query.limit]
                if len(best) == query.limit:
                    return best, ranges
            newest *= 4  # too few traces ranked in the window: look further back

    @staticmethod
    def _window_start(
        cursor: duckdb.DuckDBPyConnection,
        in_range: _Where,
        n: int,
        count: int,
        bounds: tuple[int, int],
    ) -> int:
        """A start time with at least ``n`` of the range's ``count`` spans (their starts within
        ``bounds``) at or after it, and not many more: the window's lower end. First ``4n``
        spans' worth of time, were the spans spread evenly, then eightfold wider while fewer are
        found, then bisected while it holds more than ``8n``. Counting the spans after a time is
        cheap (zone maps), sorting them to find the exact ``n``-th is not."""
        first, last = bounds

        def since(fraction: float) -> int:
            return last - math.ceil((last - first) * fraction)

        def after(fraction: float) -> int:
            row = cursor.execute(
                f"SELECT count(*) FROM spans WHERE {in_range.sql()} "  # noqa: S608
                "AND start_time_unix_nano >= ?",
                [*in_range.params, since(fraction)],
            ).fetchone()
            return int(row[0]) if row else 0

        short, enough = 0.0, min(1.0, 4 * n / count)  # fractions of the time range
        found = after(enough)
        while found < n and enough < 1.0:  # sparser than even: widen
            short, enough = enough, min(1.0, enough * 8)
            found = after(enough)
        for _ in range(_WINDOW_BISECTIONS):  # far more than needed: narrow
            if found <= 8 * n:
                break
            middle = (short + enough) / 2
            in_middle = after(middle)
            if in_middle >= n:
                enough, found = middle, in_middle
            else:
                short = middle
        return since(enough)

    @staticmethod
    def _trace_ranges(
        cursor: duckdb.DuckDBPyConnection, trace_ids: Sequence[str]
    ) -> dict[str, tuple[int, int]]:
        """Each trace's span start range, from ``trace_times`` by key (a range that another
        trace with the same key widened only makes a scan longer)."""
        if not trace_ids:
            return {}
        rows = cursor.execute(
            "SELECT trace_key, min(start_min), max(start_max) FROM trace_times "
            "WHERE trace_key = ANY(?::BIGINT[]) GROUP BY trace_key",
            [sorted({trace_key(t) for t in trace_ids})],
        ).fetchall()
        by_key = {r[0]: (r[1], r[2]) for r in rows}
        return {t: by_key[trace_key(t)] for t in trace_ids if trace_key(t) in by_key}

    def _keys_from(
        self,
        cursor: duckdb.DuckDBPyConnection,
        span_filter: _Where,
        hits: list[tuple[str, int]],
        lo: int,
        ranges: Mapping[str, tuple[int, int]],
    ) -> list[str]:
        """The hits, in order, whose earliest matching span in the whole range is not before
        ``lo`` (their rank is then their hit time). Only the hits whose spans start before
        ``lo`` (``ranges``) are looked at, in one query: a branch per group of them whose first
        span lies at about the same distance before ``lo`` (within a factor of 4), so one long
        trace does not widen the scan of the others, and a row group is read once per group
        rather than once per trace."""
        buckets: dict[int, list[str]] = {}
        for trace_id, _ in hits:
            first = ranges.get(trace_id, (None, 0))[0]
            if first is None:
                buckets.setdefault(-1, []).append(trace_id)  # not in trace_times: no bound
            elif first < lo:
                buckets.setdefault((lo - first).bit_length() // 2, []).append(trace_id)
        if not buckets:
            return [trace_id for trace_id, _ in hits]
        branches = []
        params: list[Any] = []
        for bucket, trace_ids in buckets.items():
            firsts = [ranges[t][0] for t in trace_ids] if bucket >= 0 else []
            pruned = "AND start_time_unix_nano >= ? " if firsts else ""
            branches.append(
                f"SELECT trace_id FROM spans WHERE trace_id IN ({_marks(trace_ids)}) "  # noqa: S608
                f"{pruned}AND start_time_unix_nano < ? AND {span_filter.sql()}"
            )
            params.extend([*trace_ids, *([min(firsts)] if firsts else []), lo])
            params.extend(span_filter.params)
        rows = cursor.execute(" UNION ".join(branches), params).fetchall()
        matched_before = {r[0] for r in rows}
        return [trace_id for trace_id, _ in hits if trace_id not in matched_before]

    @staticmethod
    def _span_filter(query: TraceQuery) -> _Where:
        """The span filters of a trace search (time range included)."""
        where = _Where()
        if query.service is not None:
            where.add("service_name = ?", query.service)
        if query.operation is not None:
            where.add("name = ?", query.operation)
        if query.span_kind is not None:
            where.add("kind = ?", query.span_kind)
        where.time_range("start_time_unix_nano", query.start_unix_nano, query.end_unix_nano)
        if query.min_duration_ns is not None:
            where.add("duration_ns >= ?", query.min_duration_ns)
        if query.max_duration_ns is not None:
            where.add("duration_ns <= ?", query.max_duration_ns)
        if query.errors_only:
            where.add("status_code = ?", int(StatusCode.ERROR))
        where.attributes(query.attributes, ("attributes", "resource_attributes"))
        return where

    @staticmethod
    def _newest_hits(
        cursor: duckdb.DuckDBPyConnection, span_filter: _Where, lo: int | None, limit: int
    ) -> list[tuple[str, int]]:
        """The ``limit`` traces whose earliest matching span at or after ``lo`` is newest, with
        that span's start, newest first (ties: trace id ascending)."""
        window = "" if lo is None else "start_time_unix_nano >= ? AND "
        rows = cursor.execute(
            "SELECT trace_id, min(start_time_unix_nano) AS hit_time FROM spans "  # noqa: S608
            f"WHERE {window}{span_filter.sql()} "
            "GROUP BY trace_id ORDER BY hit_time DESC, trace_id LIMIT ?",
            [*(() if lo is None else (lo,)), *span_filter.params, limit],
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def _summaries(
        self,
        cursor: duckdb.DuckDBPyConnection,
        trace_ids: list[str],
        ranges: Mapping[str, tuple[int, int]],
    ) -> list[TraceSummary]:
        """Each trace summarised over all its spans (their start ``ranges`` from
        ``trace_times``), in the given order, from one scan (:class:`_TraceRows`)."""
        if not trace_ids:
            return []
        rows_of = _TraceRows(trace_ids, ranges)
        rows = cursor.execute(
            f"""
            SELECT
                trace_id,
                first(service_name ORDER BY parent_span_id <> '', start_time_unix_nano, span_id),
                first(name ORDER BY parent_span_id <> '', start_time_unix_nano, span_id),
                min(start_time_unix_nano),
                max(end_time_unix_nano) - min(start_time_unix_nano),
                count(*),
                count(*) FILTER (WHERE status_code = {int(StatusCode.ERROR)}),
                list(DISTINCT service_name ORDER BY service_name)
            FROM spans WHERE {rows_of.sql}
            GROUP BY trace_id
            """,  # noqa: S608 - only this module's own SQL fragments; every value is a parameter
            rows_of.params,
        ).fetchall()
        by_id = {r[0]: r for r in rows}
        return [
            TraceSummary(
                trace_id=bytes.fromhex(r[0]),
                root_service=r[1],
                root_name=r[2],
                start_time_unix_nano=r[3],
                duration_ns=r[4],
                span_count=r[5],
                error_count=r[6],
                services=tuple(r[7]),
            )
            for r in (by_id[t] for t in trace_ids)
        ]

    def get_trace(self, trace_id: bytes) -> list[Span]:
        return self.get_traces([trace_id])[0]

    def get_traces(self, trace_ids: Sequence[bytes]) -> list[list[Span]]:
        """The traces' start-time ranges (``trace_times``, written with the spans) limit one scan
        to the row groups of those ranges (:class:`_TraceRows`)."""
        if not trace_ids:
            return []
        hex_ids = list(dict.fromkeys(t.hex() for t in trace_ids))
        with self._cursor() as cursor:
            found = self._trace_spans(cursor, hex_ids, self._trace_ranges(cursor, hex_ids))
        by_trace = dict(zip(hex_ids, found, strict=True))
        return [by_trace[t.hex()] for t in trace_ids]

    @staticmethod
    def _trace_spans(
        cursor: duckdb.DuckDBPyConnection,
        trace_ids: list[str],
        ranges: Mapping[str, tuple[int, int]],
    ) -> list[list[Span]]:
        """Each trace's spans, ordered by start then span id (``[]`` when not in ``ranges``:
        not stored), from one scan (:class:`_TraceRows`)."""
        found = [t for t in trace_ids if t in ranges]
        rows = []
        if found:
            rows_of = _TraceRows(found, ranges)
            rows = cursor.execute(
                f"SELECT {_SPAN_COLUMNS} FROM spans WHERE {rows_of.sql} "  # noqa: S608
                "ORDER BY start_time_unix_nano, span_id",
                rows_of.params,
            ).fetchall()
        decoder = _Decoder()
        by_trace: dict[str, list[Span]] = {t: [] for t in trace_ids}
        for r in rows:
            by_trace[r[0]].append(decoder.span(r))
        return [by_trace[t] for t in trace_ids]

    def dependencies(
        self, start_unix_nano: int | None = None, end_unix_nano: int | None = None
    ) -> list[DependencyLink]:
        """The child spans of the range joined with their parents by (trace, span id). Parents
        are read only within the start-time range of the traces involved (``trace_times``), so
        DuckDB skips the row groups of other times."""
        in_range = _Where()
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
        where = _Where()
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
            f"SELECT {_LOG_COLUMNS}, {_LOG_TIME} AS log_time, {_LOG_SEQ} FROM logs "  # noqa: S608
            f"WHERE {where.sql()} ORDER BY log_time DESC, {_LOG_SEQ} DESC LIMIT ?",
            [*where.params, query.limit + 1],
        )
        decoder = _Decoder()
        page = rows[: query.limit]
        records = [decoder.log(r) for r in page]
        next_cursor = None
        if len(rows) > query.limit:
            last = page[-1]
            next_cursor = LogCursor(last[-2], last[-1])
        return LogPage(records, next_cursor)

    # -------------------------------------------------------------------------------- metrics

    def metric_descriptors(self, service: str | None = None) -> list[MetricInfo]:
        where = _Where()
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
        where = _Where()
        where.add("metric_name = ?", query.name)
        where.time_range("time_unix_nano", query.start_unix_nano, query.end_unix_nano)
        if query.service is not None:
            where.add("service_name = ?", query.service)
        where.attributes(query.attributes, ("attributes", "resource_attributes"))
        rows = self._rows(
            f"SELECT {_METRIC_COLUMNS} FROM metric_points WHERE {where.sql()} "  # noqa: S608
            "ORDER BY time_unix_nano, rowid LIMIT ?",
            [*where.params, query.limit],
        )
        decoder = _Decoder()
        return [decoder.metric_point(r) for r in rows]

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
