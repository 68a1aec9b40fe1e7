"""Parsing the native query API's text parameters: durations, times, trace ids, attribute
filters, limits, severities, span kinds and log cursors."""

from __future__ import annotations

import pytest

from obsvty.adapters.api.query_params import (
    decode_cursor,
    encode_cursor,
    parse_attribute_filter,
    parse_duration,
    parse_limit,
    parse_severity,
    parse_span_kind,
    parse_time,
    parse_trace_id,
)
from obsvty.application.query import QueryError
from obsvty.ports.query import AttributeFilter, LogCursor

pytestmark = pytest.mark.unit

S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "ns"),
    [("250ms", 250_000_000), ("1.5s", 1_500_000_000), ("1h30m", 5400 * S), ("100us", 100_000)],
)
def test_parse_duration_units(text: str, ns: int) -> None:
    assert parse_duration("d", text) == ns


@pytest.mark.parametrize("text", ["", "fast", "1x", "-1s", "1s2"])
def test_parse_duration_invalid_names_parameter(text: str) -> None:
    with pytest.raises(QueryError, match="'min_duration'"):
        parse_duration("min_duration", text)


def test_parse_time_forms() -> None:
    now = 1_700_000_000 * S
    assert parse_time("t", "now", now) == now
    assert parse_time("t", "now-1m", now) == now - 60 * S
    assert parse_time("t", "2024-01-10T10:00:00Z") == 1_704_880_800 * S
    assert parse_time("t", "2024-01-10T10:00:00.5") == 1_704_880_800 * S + S // 2
    assert parse_time("t", "123") == 123
    with pytest.raises(QueryError, match="'t'"):
        parse_time("t", "yesterday")


def test_parse_trace_id_hex_padding_and_errors() -> None:
    assert parse_trace_id("id", "AB" * 16) == bytes.fromhex("ab" * 16)
    assert parse_trace_id("id", "00000000000000ff") == bytes(15) + b"\xff"
    for bad in ("0" * 32, "zz" * 16, "abc"):
        with pytest.raises(QueryError):
            parse_trace_id("id", bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http.status_code=200", AttributeFilter("http.status_code", 200)),
        ("ratio=1.5", AttributeFilter("ratio", 1.5)),
        ("ok=true", AttributeFilter("ok", True)),
        ('code="200"', AttributeFilter("code", "200")),
        ("name=checkout", AttributeFilter("name", "checkout")),
        ("q=a=b", AttributeFilter("q", "a=b")),
        ("empty=", AttributeFilter("empty", "")),
        ("arr=[1]", AttributeFilter("arr", "[1]")),
    ],
)
def test_parse_attribute_filter_typed_values(text: str, expected: AttributeFilter) -> None:
    assert parse_attribute_filter("attr", text) == expected


def test_parse_attribute_filter_without_key_rejected() -> None:
    for bad in ("novalue", "=1"):
        with pytest.raises(QueryError, match="'attr'"):
            parse_attribute_filter("attr", bad)


def test_parse_limit_severity_span_kind() -> None:
    assert parse_limit("limit", None, 20) == 20
    assert parse_limit("limit", "1000", 20) == 1000
    for bad in ("0", "1001", "x"):
        with pytest.raises(QueryError):
            parse_limit("limit", bad, 20)
    assert parse_severity("s", "warn") == 13
    assert parse_severity("s", "21") == 21
    assert parse_span_kind("k", "SPAN_KIND_CLIENT") == 3
    assert parse_span_kind("k", "5") == 5
    for bad in ("25", "loud"):
        with pytest.raises(QueryError):
            parse_severity("s", bad)
    with pytest.raises(QueryError):
        parse_span_kind("k", "9")


def test_cursor_round_trip_and_garbage_rejected() -> None:
    cursor = LogCursor(1_700_000_000_123_456_789, 42)
    assert decode_cursor("cursor", encode_cursor(cursor)) == cursor
    for bad in ("!!", "", "bnVsbA", "WzEsIngiXQ"):  # invalid, empty, null, [1,"x"]
        with pytest.raises(QueryError, match="'cursor'"):
            decode_cursor("cursor", bad)
