"""Attribute/event/link columns are VARCHAR holding typed JSON in new files; files created
before that hold DuckDB JSON columns. Both must store and answer the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb import schema as duckdb_schema
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.store import DuckDBStore, open_duckdb
from obsvty.domain.model import InstrumentationScope, Resource, Span, SpanEvent
from obsvty.ports.query import AttributeFilter, TraceQuery
from tests.support.records import span_batch

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000_000
JSON_TEXT_COLUMNS = {"attributes", "events", "links", "resource_attributes", "scope_attributes"}


def _spans() -> list[Span]:
    resource = Resource({"service.name": "checkout", "host.name": "h1"})
    scope = InstrumentationScope("lib", "1.0", {"s": b"\x00\xff"})
    return [
        Span(
            trace_id=bytes([n + 1]) * 16,
            span_id=bytes([n + 1]) * 8,
            parent_span_id=b"",
            kind=1,
            name=f"op-{n}",
            start_time_unix_nano=T0 + n,
            end_time_unix_nano=T0 + n + 1000,
            resource=resource,
            scope=scope,
            attributes={"http.status_code": 500 if n % 2 else 200, "ratio": 1.0, "raw": b"\x01"},
            events=[SpanEvent(T0 + n, "boom", {"n": n})],
        )
        for n in range(6)
    ]


def _create_json_typed_file(path: Path) -> None:
    """The spans table as files before VARCHAR columns had it (JSON-typed)."""
    old_spans = re.sub(
        r"\b(attributes|events|links|resource_attributes|scope_attributes) VARCHAR",
        r"\1 JSON",
        duckdb_schema.SPANS,
    )
    con = open_duckdb(path)
    con.execute(old_spans)
    con.close()


def _column_types(store: DuckDBStore) -> dict[str, str]:
    rows = (
        store.cursor()
        .execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'spans'")
        .fetchall()
    )
    return {name: kind for name, kind in rows if name in JSON_TEXT_COLUMNS}


@pytest.mark.parametrize("json_typed_file", [False, True])
def test_duckdb_store_new_or_json_typed_file_stores_and_answers_the_same(
    tmp_path: Path, json_typed_file: bool
) -> None:
    # Arrange
    path = tmp_path / "t.duckdb"
    if json_typed_file:
        _create_json_typed_file(path)
    store = DuckDBStore(path, threads=1)
    spans = _spans()

    # Act
    store.write([span_batch(spans)])
    query = DuckDBQuery(store)
    found = query.find_traces(TraceQuery(attributes=(AttributeFilter("http.status_code", 500),)))
    trace = query.get_trace(spans[1].trace_id)
    types = _column_types(store)
    store.close()

    # Assert
    assert set(types.values()) == {"JSON" if json_typed_file else "VARCHAR"}
    assert sorted(t.trace_id for t in found) == sorted(s.trace_id for s in spans[1::2])
    assert len(trace) == 1
    assert trace[0].attributes == spans[1].attributes
    assert list(trace[0].events) == list(spans[1].events)
    assert trace[0].scope.attributes == {"s": b"\x00\xff"}
