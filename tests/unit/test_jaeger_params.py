"""Parsing the Jaeger APIs' parameters: Go durations, microsecond and RFC 3339 times, ids, tags."""

from __future__ import annotations

import pytest

from obsvty.adapters.api import jaeger_params as params
from obsvty.adapters.api.jaeger_params import ParameterError
from obsvty.domain.model import SpanKind
from obsvty.ports.query import AttributeFilter

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100ms", 100_000_000),
        ("1.5s", 1_500_000_000),
        ("0.1s", 100_000_000),
        ("1h30m", 5_400_000_000_000),
        ("250us", 250_000),
        ("250µs", 250_000),
        ("7ns", 7),
        ("2d", 172_800_000_000_000),
        ("0", 0),
        ("-1s", -1_000_000_000),
        (".5s", 500_000_000),
    ],
)
def test_duration_ns_go_duration_strings_parse(text: str, expected: int) -> None:
    # Act / Assert
    assert params.duration_ns("minDuration", text) == expected


@pytest.mark.parametrize("text", ["", "100", "ms", "1x", "1s2", "abc", "1 s", "--1s"])
def test_duration_ns_malformed_names_the_parameter(text: str) -> None:
    # Act / Assert
    with pytest.raises(ParameterError, match="invalid parameter minDuration"):
        params.duration_ns("minDuration", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-10T10:00:00Z", 1_704_880_800_000_000_000),
        ("2024-01-10T10:00:00.123456789Z", 1_704_880_800_123_456_789),
        ("2024-01-10T10:00:00.5Z", 1_704_880_800_500_000_000),
        ("2024-01-10T12:00:00+02:00", 1_704_880_800_000_000_000),
        ("2024-01-10T12:00:00 02:00", 1_704_880_800_000_000_000),  # unencoded "+" from Grafana
        ("2024-01-10T05:00:00-05:00", 1_704_880_800_000_000_000),
        ("2024-01-10t10:00:00z", 1_704_880_800_000_000_000),
    ],
)
def test_rfc3339_ns_times_with_offsets_and_nanoseconds_parse(text: str, expected: int) -> None:
    # Act / Assert
    assert params.rfc3339_ns("query.start_time_min", text) == expected


@pytest.mark.parametrize(
    "text", ["2024-01-10", "1704880800", "2024-13-10T10:00:00Z", "2024-01-10T10:00:00"]
)
def test_rfc3339_ns_malformed_is_refused(text: str) -> None:
    # Act / Assert
    with pytest.raises(ParameterError, match=r"query\.start_time_min"):
        params.rfc3339_ns("query.start_time_min", text)


def test_micros_ns_converts_and_refuses_garbage() -> None:
    # Act / Assert
    assert params.micros_ns("start", "1704880800000000") == 1_704_880_800_000_000_000
    with pytest.raises(ParameterError, match="invalid parameter start"):
        params.micros_ns("start", "yesterday")
    with pytest.raises(ParameterError, match="out of range"):
        params.micros_ns("start", "-5")


def test_trace_id_pads_short_ids_and_refuses_non_hex() -> None:
    # Act / Assert
    assert params.trace_id("traceID", "ABCDEF") == bytes.fromhex("abcdef".rjust(32, "0"))
    assert params.trace_id("traceID", "5b8efff798038103d269b633813fc60c").hex() == (
        "5b8efff798038103d269b633813fc60c"
    )
    for bad in ("", "xyz", "0" * 33):
        with pytest.raises(ParameterError, match="traceID"):
            params.trace_id("traceID", bad)


def test_positive_int_bounds() -> None:
    # Act / Assert
    assert params.positive_int("limit", "20", 100) == 20
    for bad in ("0", "101", "ten"):
        with pytest.raises(ParameterError, match="limit"):
            params.positive_int("limit", bad, 100)


def test_span_kind_accepts_jaeger_otlp_and_numeric_names() -> None:
    # Act / Assert
    assert params.span_kind("span_kind", "server") == SpanKind.SERVER
    assert params.span_kind("span_kind", "SPAN_KIND_CLIENT") == SpanKind.CLIENT
    assert params.span_kind("span_kind", "4") == SpanKind.PRODUCER
    with pytest.raises(ParameterError, match="span_kind"):
        params.span_kind("span_kind", "sideways")


def test_span_tag_filters_map_synthetic_tags_and_type_values() -> None:
    # Act
    filters = params.SpanTagFilters(
        "tags",
        {
            "error": "true",
            "span.kind": "client",
            "http.status_code": "200",
            "http.method": "GET",
            "ratio": "1.5",
            "cached": "false",
        },
    )

    # Assert
    assert filters.errors_only is True
    assert filters.span_kind == SpanKind.CLIENT
    assert filters.attributes == (
        AttributeFilter("http.status_code", 200),
        AttributeFilter("http.method", "GET"),
        AttributeFilter("ratio", 1.5),
        AttributeFilter("cached", False),
    )


def test_span_tag_filters_status_code_error_means_errors_only() -> None:
    # Act
    filters = params.SpanTagFilters("tags", {"otel.status_code": "ERROR"})

    # Assert
    assert filters.errors_only is True
    assert filters.attributes == ()


def test_json_tags_parses_objects_and_refuses_others() -> None:
    # Act / Assert
    assert params.json_tags("tags", '{"a":"x","n":200,"b":true}') == {
        "a": "x",
        "n": "200",
        "b": "true",
    }
    for bad in ("[1]", "{bad", '"text"'):
        with pytest.raises(ParameterError, match="invalid parameter tags"):
            params.json_tags("tags", bad)


def test_colon_tags_splits_on_first_colon() -> None:
    # Act / Assert
    assert params.colon_tags("tag", ["http.url:http://x:80/", "a:"]) == {
        "http.url": "http://x:80/",
        "a": "",
    }
    with pytest.raises(ParameterError, match="tag"):
        params.colon_tags("tag", ["novalue"])


def test_filter_value_keeps_non_scalar_json_as_text() -> None:
    # Act / Assert
    assert params.filter_value("[1,2]") == "[1,2]"
    assert params.filter_value('"quoted"') == "quoted"
    assert params.filter_value("plain text") == "plain text"
