"""The DuckDB query port's rows: SELECT lists built from the decoders' column names, rows decoded
by those names."""

from __future__ import annotations

from typing import Any

import pytest

from obsvty.adapters.storage.duckdb.query_rows import (
    LOG_COLUMNS,
    METRIC_COLUMNS,
    SPAN_COLUMNS,
    RowDecoder,
    log_key,
    select_list,
)
from obsvty.domain.arrow_batch import LOG_SCHEMA, METRIC_SCHEMA, SPAN_SCHEMA

pytestmark = pytest.mark.unit

_RESOURCE_SCOPE = {
    "service_name": "checkout",
    "resource_attributes": '{"service.name":"checkout"}',
    "resource_dropped_attributes_count": 1,
    "resource_schema_url": "https://resource",
    "scope_name": "lib",
    "scope_version": "1.0",
    "scope_attributes": '{"s":true}',
    "scope_dropped_attributes_count": 2,
    "scope_schema_url": "https://scope",
}


def _span_row(**values: Any) -> tuple[Any, ...]:
    """A row as DuckDB returns it for ``SPAN_COLUMNS``, from the values by column name."""
    columns: dict[str, Any] = {
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "parent_span_id": "",
        "trace_state": "k=v",
        "flags": 1,
        "name": "GET /",
        "kind": 2,
        "start_time_unix_nano": 100,
        "end_time_unix_nano": 250,
        "attributes": '{"http.status_code":200}',
        "dropped_attributes_count": 3,
        "events": '[{"time_unix_nano":120,"name":"retry","attributes":{"n":1},'
        '"dropped_attributes_count":0}]',
        "dropped_events_count": 4,
        "links": "[]",
        "dropped_links_count": 5,
        "status_code": 2,
        "status_message": "boom",
        **_RESOURCE_SCOPE,
        **values,
    }
    return tuple(columns[c] for c in SPAN_COLUMNS)


@pytest.mark.parametrize(
    ("columns", "schema", "not_read"),
    [
        (SPAN_COLUMNS, SPAN_SCHEMA, {"duration_ns"}),
        (LOG_COLUMNS, LOG_SCHEMA, set()),
        (METRIC_COLUMNS, METRIC_SCHEMA, set()),
    ],
)
def test_decoder_columns_stored_schema_every_column_but_derived_ones(
    columns: tuple[str, ...], schema: Any, not_read: set[str]
) -> None:
    # Arrange
    stored = set(schema.names)

    # Act
    read = set(columns)

    # Assert
    assert len(read) == len(columns)
    assert read == stored - not_read


def test_row_decoder_span_row_built_by_name_decodes_each_field() -> None:
    # Arrange
    row = _span_row(status_message="timeout", dropped_links_count=7)

    # Act
    span = RowDecoder().span(*row)

    # Assert
    assert (span.trace_id, span.span_id, span.parent_span_id) == (b"\xab" * 16, b"\xcd" * 8, b"")
    assert (span.status_code, span.status_message) == (2, "timeout")
    assert (span.dropped_attributes_count, span.dropped_events_count) == (3, 4)
    assert span.dropped_links_count == 7
    assert span.attributes == {"http.status_code": 200}
    assert [(e.name, e.attributes) for e in span.events] == [("retry", {"n": 1})]
    assert span.links == ()
    assert (span.resource.attributes, span.resource.dropped_attributes_count) == (
        {"service.name": "checkout"},
        1,
    )
    assert (span.scope.name, span.scope.attributes, span.scope.schema_url) == (
        "lib",
        {"s": True},
        "https://scope",
    )


def test_row_decoder_rows_of_one_resource_other_scopes_share_the_resource() -> None:
    # Arrange
    decoder = RowDecoder()
    first = _span_row(span_id="01" * 8)
    second = _span_row(span_id="02" * 8)
    other_scope = _span_row(span_id="03" * 8, scope_name="other")

    # Act
    a, b, c = decoder.span(*first), decoder.span(*second), decoder.span(*other_scope)

    # Assert
    assert a.resource is b.resource is c.resource
    assert a.scope is b.scope
    assert c.scope is not a.scope
    assert c.scope.name == "other"


def test_log_key_page_row_reads_the_columns_after_the_record() -> None:
    # Arrange
    row = (*(None for _ in LOG_COLUMNS), 1_700, 42)

    # Act
    key = log_key(row)

    # Assert
    assert (key.log_time, key.log_seq) == (1_700, 42)


def test_select_list_expressions_alias_their_fields() -> None:
    # Arrange
    fields = ("trace_id", "span_count")

    # Act
    sql = select_list(fields, expressions={"span_count": "count(*)"})

    # Assert
    assert sql == "trace_id, count(*) AS span_count"


def test_select_list_expression_for_no_field_raises() -> None:
    # Arrange
    fields = ("trace_id",)

    # Act / Assert
    with pytest.raises(ValueError, match="span_count"):
        select_list(fields, expressions={"span_count": "count(*)"})
