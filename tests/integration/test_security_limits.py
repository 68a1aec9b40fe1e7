"""Input limits through the real receivers: sizes (a gzip bomb included), items per request,
attributes, value lengths, nesting, events and links; gRPC concurrency per client."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import grpc
import httpx
import pytest

from tests.support.security import grpc_export, one_span_request, span_names
from tests.support.server import running_obsvty

pytestmark = pytest.mark.integration

PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_ID = "5b8efff798038103d269b633813fc60c"


def _span(span_id: str, name: str, attributes: list[dict[str, object]], **extra: object) -> dict:
    return {
        "traceId": TRACE_ID,
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
        "attributes": attributes,
        **extra,
    }


def test_gzip_bomb_is_refused_413_and_the_server_keeps_serving(tmp_path: Path) -> None:
    # Arrange: 64 MiB of zeros in ~64 KiB of gzip, against a 1 MiB decompressed limit
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)
    with running_obsvty(tmp_path, http_max_request_size=1024 * 1024) as server:
        url = f"{server.http_url}/v1/traces"

        # Act
        refused = httpx.post(url, content=bomb, headers={**PROTOBUF, "Content-Encoding": "gzip"})
        after = httpx.post(url, content=one_span_request("after"), headers=PROTOBUF)
        server.flush()
        stored = span_names(server.app.store.cursor())

    # Assert
    assert len(bomb) < 1024 * 1024
    assert refused.status_code == 413
    assert "decompressed body over 1048576 bytes" in refused.text
    assert after.status_code == 200
    assert stored == ["after"]


def test_compressed_body_over_its_own_limit_is_refused_413(tmp_path: Path) -> None:
    # Arrange
    body = gzip.compress(one_span_request("x" * 5000), compresslevel=0)
    with running_obsvty(tmp_path, http_max_compressed_request_size=1024) as server:
        url = f"{server.http_url}/v1/traces"

        # Act
        compressed = httpx.post(url, content=body, headers={**PROTOBUF, "Content-Encoding": "gzip"})
        plain = httpx.post(url, content=one_span_request("x" * 5000), headers=PROTOBUF)

    # Assert
    assert len(body) > 1024
    assert compressed.status_code == 413
    assert plain.status_code == 200  # the compressed limit only applies to compressed bodies


def test_items_per_request_over_the_limit_is_refused_on_both_receivers(tmp_path: Path) -> None:
    # Arrange
    doc = {
        "resourceSpans": [
            {"scopeSpans": [{"spans": [_span(f"{n:016x}", f"s{n}", []) for n in range(1, 4)]}]}
        ]
    }
    with running_obsvty(tmp_path, max_items_per_request=2) as server:
        # Act
        over_http = httpx.post(
            f"{server.http_url}/v1/traces",
            content=json.dumps(doc),
            headers={"Content-Type": "application/json"},
        )
        with grpc.insecure_channel(server.grpc_endpoint) as channel:
            within = grpc_export(channel, one_span_request("one"))
        server.flush()
        stored = span_names(server.app.store.cursor())

    # Assert
    assert over_http.status_code == 400
    assert over_http.json()["message"] == "request carries 3 spans, over the limit of 2"
    assert within == b""
    assert stored == ["one"]


def test_attribute_event_and_link_limits_apply_to_what_is_stored(tmp_path: Path) -> None:
    # Arrange
    attributes = [
        {"key": "a", "value": {"stringValue": "0123456789"}},
        {"key": "b", "value": {"intValue": "2"}},
        {"key": "c", "value": {"intValue": "3"}},
    ]
    deep = [{"key": "d", "value": {"arrayValue": {"values": [{"arrayValue": {"values": []}}]}}}]
    events = [{"timeUnixNano": "1", "name": f"e{n}"} for n in range(4)]
    links = [{"traceId": TRACE_ID, "spanId": f"{n:016x}"} for n in range(1, 4)]
    doc = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            _span(
                                "0000000000000001", "kept", attributes, events=events, links=links
                            ),
                            _span("0000000000000002", "too-deep", deep),
                        ]
                    }
                ]
            }
        ]
    }
    with running_obsvty(
        tmp_path,
        max_attributes_per_item=2,
        max_attribute_value_length=4,
        max_attribute_depth=1,
        max_events_per_span=1,
        max_links_per_span=2,
    ) as server:
        # Act
        response = httpx.post(
            f"{server.http_url}/v1/traces",
            content=json.dumps(doc),
            headers={"Content-Type": "application/json"},
        )
        server.flush()
        row = (
            server.app.store.cursor()
            .execute(
                "SELECT name, dropped_attributes_count, dropped_events_count, "
                "dropped_links_count, json_array_length(events), json_array_length(links), "
                "attributes FROM spans"
            )
            .fetchall()
        )
        counters = server.app.security.counters

    # Assert
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert "deeper than 1" in response.json()["partialSuccess"]["errorMessage"]
    assert len(row) == 1
    name, dropped_attrs, dropped_events, dropped_links, n_events, n_links, stored = row[0]
    assert (name, dropped_attrs, dropped_events, dropped_links) == ("kept", 1, 3, 1)
    assert (n_events, n_links) == (1, 2)
    assert "0123" in stored
    assert "01234" not in stored
    assert counters.truncated_values["traces"] == 1
