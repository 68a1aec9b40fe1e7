"""The decoders of the stored parts (events, links, exemplars, quantiles, shared values) that the
Arrow batches of ``stored_rows`` and the DuckDB query rows both use."""

from __future__ import annotations

import pytest

from obsvty.adapters.encoding import stored_rows
from obsvty.adapters.encoding.typed_json import dumps

pytestmark = pytest.mark.unit


def test_span_events_bytes_attribute_revived_as_bytes() -> None:
    # Arrange
    document = dumps(
        [{"time_unix_nano": 5, "name": "e", "attributes": {"b": b"\x00\x01", "n": 1},
          "dropped_attributes_count": 2}]
    )  # fmt: skip

    # Act
    (event,) = stored_rows.span_events(document)

    # Assert
    assert (event.time_unix_nano, event.name, event.dropped_attributes_count) == (5, "e", 2)
    assert event.attributes == {"b": b"\x00\x01", "n": 1}


def test_span_links_hex_ids_decoded_to_bytes() -> None:
    # Arrange
    document = dumps(
        [{"trace_id": "ab" * 16, "span_id": "cd" * 8, "trace_state": "s", "attributes": {},
          "dropped_attributes_count": 0, "flags": 1}]
    )  # fmt: skip

    # Act
    (link,) = stored_rows.span_links(document)

    # Assert
    assert (link.trace_id, link.span_id, link.trace_state, link.flags) == (
        b"\xab" * 16,
        b"\xcd" * 8,
        "s",
        1,
    )


def test_quantile_values_null_stored_reads_none() -> None:
    # Arrange
    document = '[{"quantile":0.5,"value":null},{"quantile":0.99,"value":2.5}]'

    # Act
    quantiles = stored_rows.quantile_values(document)

    # Assert
    assert quantiles == [(0.5, None), (0.99, 2.5)]


def test_exemplars_empty_document_no_exemplars() -> None:
    # Arrange
    document = "[]"

    # Act
    exemplars = stored_rows.exemplars(document)

    # Assert
    assert exemplars == []


def test_shared_same_stored_values_one_object() -> None:
    # Arrange
    shared = stored_rows.Shared(stored_rows.resource)

    # Act
    a = shared.get(('{"service.name":"a"}', 0, ""))
    b = shared.get(('{"service.name":"a"}', 0, ""))
    c = shared.get(('{"service.name":"c"}', 0, ""))

    # Assert
    assert a is b
    assert a.attributes == {"service.name": "a"}
    assert c is not a
