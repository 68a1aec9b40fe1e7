"""The official OTLP/JSON examples posted as-is, the way curl would, and OTLP/JSON's variations
(id case, snake_case names, 64-bit ints as strings, enums as ints, unknown fields, gzip)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.duckdb_rows import by, rows
from tests.support.server import RunningObsvty

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
EXAMPLE_RESOURCE = {
    "service_name": "my.service",
    "resource_attributes": {"service.name": "my.service"},
    "resource_dropped_attributes_count": 0,
    "resource_schema_url": "",
    "scope_name": "my.library",
    "scope_version": "1.0.0",
    "scope_attributes": {"my.scope.attribute": "some scope attribute"},
    "scope_dropped_attributes_count": 0,
    "scope_schema_url": "",
}


def _post(obsvty: RunningObsvty, signal: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{obsvty.http_url}/v1/{signal}", content=body, headers={**JSON, **headers})


def test_official_trace_example_is_stored_exactly(
    obsvty: RunningObsvty, otlp_examples: Path
) -> None:
    # Act
    response = _post(obsvty, "traces", (otlp_examples / "trace.json").read_bytes())
    obsvty.flush()

    # Assert
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["content-type"] == "application/json"
    assert rows(obsvty.app.store.cursor(), "spans") == [
        {
            "trace_id": "5b8efff798038103d269b633813fc60c",
            "span_id": "eee19b7ec3c1b174",
            "parent_span_id": "eee19b7ec3c1b173",
            "trace_state": "",
            "flags": 0,
            "name": "I'm a server span",
            "kind": 2,
            "start_time_unix_nano": 1544712660000000000,
            "end_time_unix_nano": 1544712661000000000,
            "duration_ns": 1_000_000_000,
            "attributes": {"my.span.attr": "some value"},
            "dropped_attributes_count": 0,
            "events": [],
            "dropped_events_count": 0,
            "links": [],
            "dropped_links_count": 0,
            "status_code": 0,
            "status_message": "",
            **EXAMPLE_RESOURCE,
        }
    ]


def test_official_logs_example_is_stored_exactly(
    obsvty: RunningObsvty, otlp_examples: Path
) -> None:
    # Act
    response = _post(obsvty, "logs", (otlp_examples / "logs.json").read_bytes())
    obsvty.flush()

    # Assert
    assert (response.status_code, response.json()) == (200, {})
    (row,) = rows(obsvty.app.store.cursor(), "logs")
    assert row == {
        "time_unix_nano": 1544712660300000000,
        "observed_time_unix_nano": 1544712660300000000,
        "severity_number": 0,
        "severity_text": "Information",
        "body": "Example log record",
        "attributes": {
            "string.attribute": "some string",
            "boolean.attribute": True,
            "int.attribute": 10,
            "double.attribute": 637.704,
            "array.attribute": ["many", "values"],
            "map.attribute": {"some.map.key": "some value"},
        },
        "dropped_attributes_count": 0,
        "flags": 0,
        "trace_id": "5b8efff798038103d269b633813fc60c",
        "span_id": "eee19b7ec3c1b174",
        "event_name": "",
        **EXAMPLE_RESOURCE,
    }
    assert type(row["attributes"]["int.attribute"]) is int
    assert type(row["attributes"]["double.attribute"]) is float


def test_official_metrics_example_histogram_is_rejected_and_the_rest_stored(
    obsvty: RunningObsvty, otlp_examples: Path
) -> None:
    # Act
    response = _post(obsvty, "metrics", (otlp_examples / "metrics.json").read_bytes())
    obsvty.flush()

    # Assert: the histogram point has 3 bucket counts for 1 bound (the data model wants bounds + 1)
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == "1"  # int64 is a string in proto3 JSON
    assert "my.histogram" in partial["errorMessage"]
    assert "bounds + 1" in partial["errorMessage"]
    stored = by(rows(obsvty.app.store.cursor(), "metric_points"), "metric_name")
    assert set(stored) == {"my.counter", "my.gauge"}
    counter, gauge = stored["my.counter"], stored["my.gauge"]
    assert (counter["metric_type"], counter["metric_description"], counter["metric_unit"]) == (
        "sum",
        "I`m a Counter",
        "1",
    )
    assert (counter["aggregation_temporality"], counter["is_monotonic"]) == (1, True)
    assert (counter["value_double"], counter["value_int"]) == (5.0, None)
    assert counter["start_time_unix_nano"] == counter["time_unix_nano"] == 1544712660300000000
    assert counter["attributes"] == {"my.counter.attr": "some value"}
    assert (gauge["metric_type"], gauge["value_double"], gauge["start_time_unix_nano"]) == (
        "gauge",
        10.0,
        0,
    )
    assert gauge["attributes"] == {"my.gauge.attr": "some value"}
    for row in stored.values():
        assert {k: row[k] for k in EXAMPLE_RESOURCE} == EXAMPLE_RESOURCE


def _span_json(**fields: Any) -> dict[str, Any]:
    return {"resourceSpans": [{"scopeSpans": [{"spans": [fields]}]}]}


def test_otlp_json_variants_lower_case_snake_case_string_ints_are_accepted(
    obsvty: RunningObsvty,
) -> None:
    # Arrange: snake_case names, lower-case hex, int64 as strings, enum as name, unknown fields
    doc = {
        "resource_spans": [
            {
                "resource": {
                    "attributes": [{"key": "n", "value": {"int_value": "-9007199254740993"}}]
                },
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": "5b8efff798038103d269b633813fc60c",
                                "span_id": "eee19b7ec3c1b174",
                                "name": "snake",
                                "kind": "SPAN_KIND_CLIENT",
                                "start_time_unix_nano": "1544712660000000000",
                                "end_time_unix_nano": "1544712661000000001",
                                "future_field": {"anything": [1, 2]},
                                "links": [
                                    {
                                        "traceId": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                        "spanId": "bbbbbbbbbbbbbbbb",
                                    }
                                ],
                            }
                        ]
                    }
                ],
            }
        ],
        "unknownTopLevel": True,
    }

    # Act
    response = _post(obsvty, "traces", json.dumps(doc).encode())
    obsvty.flush()

    # Assert
    assert (response.status_code, response.json()) == (200, {})
    (row,) = rows(obsvty.app.store.cursor(), "spans")
    assert (row["trace_id"], row["span_id"], row["kind"]) == (
        "5b8efff798038103d269b633813fc60c",
        "eee19b7ec3c1b174",
        3,
    )
    assert row["end_time_unix_nano"] == 1544712661000000001  # beyond a double's precision
    assert row["resource_attributes"] == {"n": -9007199254740993}
    assert row["links"][0]["trace_id"] == "a" * 32


def test_otlp_json_invalid_hex_id_rejects_that_span_only(obsvty: RunningObsvty) -> None:
    # Arrange
    good = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "startTimeUnixNano": 1,
        "endTimeUnixNano": 2,
    }
    doc = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            good,
                            {**good, "spanId": "not-hex!"},
                            {**good, "traceId": "5B8E"},
                        ]
                    }
                ]
            }
        ]
    }

    # Act
    response = _post(obsvty, "traces", json.dumps(doc).encode())
    obsvty.flush()

    # Assert
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedSpans"] == "2"
    assert len(rows(obsvty.app.store.cursor(), "spans")) == 1


def test_otlp_json_gzip_body_is_decompressed_and_stored(
    obsvty: RunningObsvty, otlp_examples: Path
) -> None:
    # Arrange
    body = gzip.compress((otlp_examples / "logs.json").read_bytes())

    # Act
    response = _post(obsvty, "logs", body, **{"Content-Encoding": "gzip"})
    obsvty.flush()

    # Assert
    assert (response.status_code, response.json()) == (200, {})
    assert [r["body"] for r in rows(obsvty.app.store.cursor(), "logs")] == ["Example log record"]
