"""Which traces a DuckDB trace search returns, in order: the ranking behind ``find_traces``.

A trace ranks by the start of its earliest span matching the search; the ranking looks at a recent
window of the time range first and widens it only while too few traces are found there (see
:func:`ranked`). Each trace's start-time range comes from ``trace_times`` (``trace_ranges``), which
lets later scans skip the row groups of other times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from obsvty.adapters.storage.duckdb.query_sql import Where, marks
from obsvty.domain.model import StatusCode
from obsvty.ports.query import TraceQuery

_WINDOW_BISECTIONS = 6
_SPANS_PER_WANTED_TRACE = 50
"""A trace search first looks at the newest ``limit * this`` spans of the time range."""


def trace_key(trace_id: str) -> int:
    """``duckdb_schema.TRACE_KEY`` of a hex trace id."""
    try:
        return int("0x" + trace_id[-14:], 16)
    except ValueError:
        return -1


def ranked(
    cursor: duckdb.DuckDBPyConnection, query: TraceQuery
) -> tuple[list[str], Mapping[str, tuple[int, int]]]:
    """The ids of the traces ``DuckDBQuery.find_traces`` returns, in order, with their start ranges
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
    span_filter = _span_filter(query)
    in_range = Where()
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
        lo = None if newest >= count else _window_start(cursor, in_range, newest, count, bounds)
        if lo is None:  # the whole range: every hit time is the key
            hits = _newest_hits(cursor, span_filter, None, query.limit)
            trace_ids = [trace_id for trace_id, _ in hits]
            return trace_ids, trace_ranges(cursor, trace_ids)
        hits = _newest_hits(cursor, span_filter, lo, 2 * query.limit)
        if len(hits) >= query.limit:
            ranges = trace_ranges(cursor, [trace_id for trace_id, _ in hits])
            best = _keys_from(cursor, span_filter, hits, lo, ranges)[: query.limit]
            if len(best) == query.limit:
                return best, ranges
        newest *= 4  # too few traces ranked in the window: look further back


def _window_start(
    cursor: duckdb.DuckDBPyConnection,
    in_range: Where,
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


def trace_ranges(
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
    cursor: duckdb.DuckDBPyConnection,
    span_filter: Where,
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
            f"SELECT trace_id FROM spans WHERE trace_id IN ({marks(trace_ids)}) "  # noqa: S608
            f"{pruned}AND start_time_unix_nano < ? AND {span_filter.sql()}"
        )
        params.extend([*trace_ids, *([min(firsts)] if firsts else []), lo])
        params.extend(span_filter.params)
    rows = cursor.execute(" UNION ".join(branches), params).fetchall()
    matched_before = {r[0] for r in rows}
    return [trace_id for trace_id, _ in hits if trace_id not in matched_before]


def _span_filter(query: TraceQuery) -> Where:
    """The span filters of a trace search (time range included)."""
    where = Where()
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


def _newest_hits(
    cursor: duckdb.DuckDBPyConnection, span_filter: Where, lo: int | None, limit: int
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
