"""The DuckDB trace search looks at the newest spans first and widens its window; trace loading
reads ``trace_times`` first. These tests hold both to the port's exact definitions (a reference
computed in Python from the very spans written) on data built to defeat a naive window: traces
that match long before the window, traces written in several batches far apart, many ties.

Longer than the project's ~450-line bound: the reference definitions and the search they hold are
read together.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.query_trace_search import trace_key
from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.domain.model import InstrumentationScope, Resource, Span, StatusCode
from obsvty.ports.query import AttributeFilter, TraceQuery, TraceSummary
from tests.support.records import span_batch

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000_000
SECOND = 1_000_000_000
SCOPE = InstrumentationScope("search-test")
RESOURCES = [Resource({"service.name": f"svc-{n}", "host.name": f"h{n % 2}"}) for n in range(4)]


def _dataset(seed: int) -> list[Span]:
    """~3,000 spans in ~600 traces over ~1,000 s; a few long traces whose early spans also
    match, written in separate batches; coarse start times (many ties)."""
    rng = random.Random(seed)
    spans: list[Span] = []
    for t in range(600):
        trace_id = rng.randbytes(16)
        begin = T0 + t * 1_600_000_000 + rng.randrange(3) * SECOND  # ties across traces
        size = rng.randrange(1, 9)
        long_running = t % 97 == 5
        for i in range(size):
            # a long trace starts early and has its last spans near the newest data
            start = begin + (i * 900 * SECOND // size if long_running else i * 1000)
            status = StatusCode.ERROR if rng.random() < 0.1 else StatusCode.UNSET
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=rng.randbytes(8),
                    parent_span_id=b"" if i == 0 else spans[-1].span_id,
                    name=f"op-{rng.randrange(5)}",
                    kind=1 + rng.randrange(2),
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + rng.randrange(1, 5_000_000),
                    resource=RESOURCES[rng.randrange(len(RESOURCES))],
                    scope=SCOPE,
                    attributes={"http.status_code": rng.choice([200, 200, 200, 500, "500"])},
                    status_code=status,
                )
            )
    return spans


def _matches(span: Span, q: TraceQuery) -> bool:
    checks = [
        q.service is None or span.resource.service_name == q.service,
        q.operation is None or span.name == q.operation,
        q.span_kind is None or span.kind == q.span_kind,
        q.start_unix_nano is None or span.start_time_unix_nano >= q.start_unix_nano,
        q.end_unix_nano is None or span.start_time_unix_nano < q.end_unix_nano,
        q.min_duration_ns is None or span.duration_ns >= q.min_duration_ns,
        q.max_duration_ns is None or span.duration_ns <= q.max_duration_ns,
        not q.errors_only or span.status_code == StatusCode.ERROR,
    ]
    for f in q.attributes:
        own = f.key in span.attributes and f.matches(span.attributes[f.key])
        res = span.resource.attributes
        checks.append(own or (f.key in res and f.matches(res[f.key])))
    return all(checks)


def _reference(spans: list[Span], q: TraceQuery) -> list[TraceSummary]:
    """The port's definition of find_traces, spelled out in Python."""
    by_trace: dict[bytes, list[Span]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    keys = {
        trace_id: min(s.start_time_unix_nano for s in members if _matches(s, q))
        for trace_id, members in by_trace.items()
        if any(_matches(s, q) for s in members)
    }
    ranked = sorted(keys, key=lambda t: (-keys[t], t))[: q.limit]
    out = []
    for trace_id in ranked:
        members = by_trace[trace_id]
        root = min(
            members, key=lambda s: (s.parent_span_id != b"", s.start_time_unix_nano, s.span_id)
        )
        start = min(s.start_time_unix_nano for s in members)
        out.append(
            TraceSummary(
                trace_id=trace_id,
                root_service=root.resource.service_name,
                root_name=root.name,
                start_time_unix_nano=start,
                duration_ns=max(s.end_time_unix_nano for s in members) - start,
                span_count=len(members),
                error_count=sum(s.status_code == StatusCode.ERROR for s in members),
                services=tuple(sorted({s.resource.service_name for s in members})),
            )
        )
    return out


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Span], DuckDBQuery]]:
    spans = _dataset(seed=7)
    store = DuckDBStore(tmp_path_factory.mktemp("search") / "search.duckdb", threads=1)
    # arrival order: by start time, in batches of 250 (the long traces' spans land far apart)
    ordered = sorted(spans, key=lambda s: s.start_time_unix_nano)
    for at in range(0, len(ordered), 250):
        store.write([span_batch(ordered[at : at + 250])])
    try:
        yield spans, DuckDBQuery(store)
    finally:
        store.close()


QUERIES = {
    "no filter": TraceQuery(limit=5),
    "no filter, limit 50": TraceQuery(limit=50),
    "service": TraceQuery(service="svc-1", limit=7),
    "service + operation + kind": TraceQuery(service="svc-2", operation="op-3", span_kind=2),
    "errors": TraceQuery(errors_only=True, limit=10),
    "rare: errors + service + operation": TraceQuery(
        service="svc-0", operation="op-1", errors_only=True, limit=10
    ),
    "attribute int matches string too": TraceQuery(
        attributes=(AttributeFilter("http.status_code", 500),), limit=8
    ),
    "resource attribute + duration": TraceQuery(
        attributes=(AttributeFilter("host.name", "h1"),), min_duration_ns=2_000_000, limit=6
    ),
    "time range in the middle": TraceQuery(
        start_unix_nano=T0 + 200 * SECOND, end_unix_nano=T0 + 500 * SECOND, limit=9
    ),
    "nothing matches": TraceQuery(service="no-such-service"),
    "more than there are": TraceQuery(service="svc-3", operation="op-0", limit=1000),
}


@pytest.mark.parametrize("name", QUERIES)
def test_find_traces_windowed_search_equals_reference(
    searched: tuple[list[Span], DuckDBQuery], name: str
) -> None:
    # Arrange
    spans, query = searched
    q = QUERIES[name]

    # Act
    found = query.find_traces(q)

    # Assert
    assert found == _reference(spans, q)


def test_find_traces_long_trace_matching_before_window_ranked_by_earliest_match(
    searched: tuple[list[Span], DuckDBQuery],
) -> None:
    # Arrange: a long trace has matching spans in the newest window and long before it
    spans, query = searched
    long_ids = {s.trace_id for s in spans if s.trace_id and _spread(spans, s.trace_id) > 500}
    q = TraceQuery(limit=5)

    # Act
    found = [t.trace_id for t in query.find_traces(q)]

    # Assert: none of them is among the newest (they rank by their first span), yet they exist
    assert long_ids
    assert not long_ids & set(found)
    assert found == [t.trace_id for t in _reference(spans, q)]


def _spread(spans: list[Span], trace_id: bytes) -> int:
    starts = [s.start_time_unix_nano for s in spans if s.trace_id == trace_id]
    return (max(starts) - min(starts)) // SECOND


def test_get_trace_spans_written_far_apart_all_returned(
    searched: tuple[list[Span], DuckDBQuery],
) -> None:
    # Arrange
    spans, query = searched
    trace_id = max({s.trace_id for s in spans}, key=lambda t: _spread(spans, t))
    expected = sorted(
        (s for s in spans if s.trace_id == trace_id),
        key=lambda s: (s.start_time_unix_nano, s.span_id),
    )

    # Act
    loaded = query.get_trace(trace_id)

    # Assert
    assert _spread(spans, trace_id) > 500
    assert loaded == expected


def test_store_file_without_trace_times_backfilled_on_open(tmp_path: Path) -> None:
    # Arrange: a file written before trace_times existed (the table dropped again)
    spans = _dataset(seed=3)[:200]
    path = tmp_path / "old.duckdb"
    store = DuckDBStore(path, threads=1)
    store.write([span_batch(spans)])
    con = store.cursor()
    con.execute("DROP TABLE trace_times")
    con.close()
    store.close()

    # Act
    reopened = DuckDBStore(path, threads=1)
    try:
        loaded = DuckDBQuery(reopened).get_trace(spans[0].trace_id)
    finally:
        reopened.close()

    # Assert
    assert loaded
    assert {s.span_id for s in loaded} == {
        s.span_id for s in spans if s.trace_id == spans[0].trace_id
    }


def test_store_file_without_trace_keys_keyed_on_open(tmp_path: Path) -> None:
    # Arrange: trace_times as written before trace_key existed (the column dropped again)
    spans = _dataset(seed=4)[:300]
    path = tmp_path / "unkeyed.duckdb"
    store = DuckDBStore(path, threads=1)
    store.write([span_batch(spans)])
    con = store.cursor()
    con.execute("ALTER TABLE trace_times DROP COLUMN trace_key")
    con.close()
    store.close()
    wanted = spans[-1].trace_id

    # Act
    reopened = DuckDBStore(path, threads=1)
    try:
        loaded = DuckDBQuery(reopened).get_trace(wanted)
        con = reopened.cursor()
        unkeyed = con.execute("SELECT count(*) FROM trace_times WHERE trace_key IS NULL").fetchone()
        con.close()
    finally:
        reopened.close()

    # Assert
    assert {s.span_id for s in loaded} == {s.span_id for s in spans if s.trace_id == wanted}
    assert unkeyed == (0,)


def test_traces_sharing_a_trace_key_each_read_whole_and_found_exactly(tmp_path: Path) -> None:
    # Arrange: traces whose ids end alike (the same trace_key), far apart in time, one of them
    # long; the search must rank and summarise each by its own spans
    tail = bytes.fromhex("00aabbccddeeff")  # the last 14 hex digits
    spans = []
    for n, (begin, size) in enumerate([(0, 3), (500, 2), (900, 4)]):
        trace_id = bytes([n + 1]) * 9 + tail
        for i in range(size):
            start = T0 + (begin + i * (300 if n == 0 else 1)) * SECOND
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=bytes([n + 1, i + 1]) * 4,
                    parent_span_id=b"",
                    name=f"op-{i}",
                    kind=1,
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + 1000,
                    resource=RESOURCES[n],
                    scope=SCOPE,
                )
            )
    store = DuckDBStore(tmp_path / "keys.duckdb", threads=1)
    for at in range(0, len(spans), 2):  # several writes: several rows per trace
        store.write([span_batch(spans[at : at + 2])])
    query = DuckDBQuery(store)
    trace_ids = list(dict.fromkeys(s.trace_id for s in spans))

    # Act
    try:
        loaded = query.get_traces(trace_ids)
        found = {q: query.find_traces(q) for q in (TraceQuery(), TraceQuery(service="svc-1"))}
    finally:
        store.close()

    # Assert
    assert [[s.span_id for s in trace] for trace in loaded] == [
        [s.span_id for s in spans if s.trace_id == t] for t in trace_ids
    ]
    for q, summaries in found.items():
        assert summaries == _reference(spans, q)


@pytest.mark.parametrize(
    "trace_id",
    ["", "ab", "f" * 32, "0123456789abcdef0123456789abcdef", "not hex", "0" * 31 + "1"],
)
def test_trace_key_python_equals_sql(trace_id: str) -> None:
    # Arrange
    con = duckdb.connect()

    # Act
    row = con.execute(
        f"SELECT {duckdb_schema.TRACE_KEY} FROM (SELECT ?::VARCHAR AS trace_id)",  # noqa: S608
        [trace_id],
    ).fetchone()

    # Assert
    assert row == (trace_key(trace_id),)


def test_find_traces_trace_missing_from_trace_times_still_exact(tmp_path: Path) -> None:
    # Arrange: the newest traces lose their trace_times rows (as after a failed backfill): the
    # search looks for their spans over the whole table instead
    spans = _dataset(seed=9)
    store = DuckDBStore(tmp_path / "missing.duckdb", threads=1)
    store.write([span_batch(sorted(spans, key=lambda s: s.start_time_unix_nano))])
    q = TraceQuery(limit=12)
    newest = [t.trace_id.hex() for t in _reference(spans, q)][::3]
    con = store.cursor()
    con.execute("DELETE FROM trace_times WHERE list_contains(?, trace_id)", [newest])
    con.close()

    # Act
    try:
        found = DuckDBQuery(store).find_traces(q)
    finally:
        store.close()

    # Assert
    assert found == _reference(spans, q)


def test_retention_delete_spans_drops_time_ranges_of_deleted_traces(tmp_path: Path) -> None:
    # Arrange
    spans = _dataset(seed=5)[:400]
    store = DuckDBStore(tmp_path / "retention.duckdb", threads=1)
    store.write([span_batch(spans)])
    cutoff = sorted(s.start_time_unix_nano for s in spans)[200]
    retention = DuckDBRetention(store, reclaim_wait=0)
    con = store.cursor()

    # Act
    while retention.delete_before("spans", cutoff, 10_000):
        pass

    # Assert: only ranges reaching the cutoff remain, and the kept spans still load
    try:
        stale = con.execute("SELECT count(*) FROM trace_times WHERE start_max < ?", [cutoff])
        assert stale.fetchone() == (0,)
        kept = [s for s in spans if s.start_time_unix_nano >= cutoff]
        assert DuckDBQuery(store).get_trace(kept[-1].trace_id)
    finally:
        con.close()
        retention.close()
        store.close()


def _dense_then_sparse() -> list[Span]:
    """400 traces of 5 spans in the first 100 s, then one trace whose 60 spans run from 50 s to
    1,000 s: the newest stretch of time holds only that trace's spans, more than a first window
    of ``50 * limit`` spans for ``limit`` 1."""
    spans = []
    for t in range(401):
        trace_id = (t + 1).to_bytes(16, "big")
        for i in range(60 if t == 400 else 5):
            start = T0 + (50 * SECOND + i * 16 * SECOND if t == 400 else t * SECOND // 4 + i)
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=(t * 16 + i + 1).to_bytes(8, "big"),
                    parent_span_id=b"",
                    name="op",
                    kind=1,
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + 10,
                    resource=RESOURCES[t % 2],
                    scope=SCOPE,
                )
            )
    return spans


@pytest.mark.parametrize("limit", [1, 2, 30])
def test_find_traces_sparse_newest_stretch_equals_reference(tmp_path: Path, limit: int) -> None:
    # Arrange: the window has to widen past the sparse stretch, narrow again, and drop the long
    # trace (it matched long before the window)
    spans = _dense_then_sparse()
    store = DuckDBStore(tmp_path / "sparse.duckdb", threads=1)
    store.write([span_batch(sorted(spans, key=lambda s: s.start_time_unix_nano))])
    q = TraceQuery(limit=limit)

    # Act
    try:
        found = DuckDBQuery(store).find_traces(q)
    finally:
        store.close()

    # Assert
    assert found == _reference(spans, q)


def _burst(seed: int) -> list[Span]:
    """Dense data as concurrent exporters send it: ~2,000 traces of 10 spans whose starts spread
    over ~4 s each, overlapping one another (many traces per row group, most of them starting
    before any recent window), plus three traces that start far earlier and end among the
    newest, with spans of several services."""
    rng = random.Random(seed)
    spans: list[Span] = []
    for t in range(2000):
        trace_id = rng.randbytes(16)
        begin = T0 + t * 10_000_000  # a trace every 10 ms: ~20 s of traces
        long_running = t % 700 == 3
        for i in range(10):
            offset = i * 2 * SECOND if long_running else rng.randrange(4 * SECOND)
            start = begin + offset if not long_running else T0 + offset + i
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=rng.randbytes(8),
                    parent_span_id=b"" if i == 0 else spans[-1].span_id,
                    name=f"op-{rng.randrange(4)}",
                    kind=1 + rng.randrange(2),
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + rng.randrange(1, 8_000_000),
                    resource=RESOURCES[rng.randrange(len(RESOURCES))],
                    scope=SCOPE,
                    attributes={"http.status_code": rng.choice([200, 200, 500])},
                    status_code=StatusCode.ERROR if rng.random() < 0.05 else StatusCode.UNSET,
                )
            )
    return spans


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Span], DuckDBQuery]]:
    spans = _burst(seed=11)
    store = DuckDBStore(tmp_path_factory.mktemp("burst") / "burst.duckdb", threads=1)
    # arrival: whole traces in requests of 10 traces, requests in order of their first span
    by_trace: dict[bytes, list[Span]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    traces = list(by_trace.values())
    for at in range(0, len(traces), 10):
        store.write([span_batch([s for trace in traces[at : at + 10] for s in trace])])
    try:
        yield spans, DuckDBQuery(store)
    finally:
        store.close()


BURST_QUERIES = {
    "no filter": TraceQuery(limit=20),
    "no filter, limit 100": TraceQuery(limit=100),
    "service": TraceQuery(service="svc-1", limit=20),
    "service + operation": TraceQuery(service="svc-2", operation="op-3", limit=20),
    "errors + min duration": TraceQuery(errors_only=True, min_duration_ns=4_000_000, limit=20),
    "attribute": TraceQuery(attributes=(AttributeFilter("http.status_code", 500),), limit=20),
    "time range": TraceQuery(
        service="svc-0", start_unix_nano=T0 + 5 * SECOND, end_unix_nano=T0 + 9 * SECOND
    ),
}


@pytest.mark.parametrize("name", BURST_QUERIES)
def test_find_traces_dense_overlapping_traces_equals_reference(
    burst: tuple[list[Span], DuckDBQuery], name: str
) -> None:
    # Arrange
    spans, query = burst
    q = BURST_QUERIES[name]

    # Act
    found = query.find_traces(q)

    # Assert
    assert found == _reference(spans, q)


@pytest.mark.parametrize("name", ["no filter, limit 100", "service", "attribute"])
def test_find_trace_spans_dense_overlapping_traces_reference_traces_whole(
    burst: tuple[list[Span], DuckDBQuery], name: str
) -> None:
    # Arrange
    spans, query = burst
    q = BURST_QUERIES[name]
    expected = [t.trace_id for t in _reference(spans, q)]
    sizes = {t: sum(s.trace_id == t for s in spans) for t in expected}

    # Act
    found = query.find_trace_spans(q)

    # Assert
    assert [trace[0].trace_id for trace in found] == expected
    assert [len(trace) for trace in found] == [sizes[t] for t in expected]


def test_get_traces_dense_overlapping_traces_each_complete(
    burst: tuple[list[Span], DuckDBQuery],
) -> None:
    # Arrange: the newest traces and the long ones, which share row groups with them
    spans, query = burst
    by_trace: dict[bytes, list[Span]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    wanted = [t.trace_id for t in query.find_traces(TraceQuery(limit=30))]
    wanted += [t for t, members in by_trace.items() if len(members) == 10][-3:]
    wanted += [spans[3 * 10].trace_id]  # a long-running trace (t == 3)

    # Act
    found = query.get_traces(wanted)

    # Assert
    expected = [
        sorted(by_trace[t], key=lambda s: (s.start_time_unix_nano, s.span_id.hex())) for t in wanted
    ]
    assert [[s.span_id for s in trace] for trace in found] == [
        [s.span_id for s in trace] for trace in expected
    ]
