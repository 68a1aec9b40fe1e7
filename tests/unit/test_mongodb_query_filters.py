"""Parts of the MongoDB query adapter that need no server: the query documents built for
attribute filters at the edges of the port's semantics, and log cursors as wide as an ObjectId."""

from __future__ import annotations

import math

import pytest
from bson import ObjectId

from obsvty.adapters.api.query_params import decode_cursor, encode_cursor
from obsvty.adapters.storage.mongodb.query_filters import attribute_filters, cursor_tiebreak
from obsvty.ports.query import AttributeFilter, LogCursor

pytestmark = pytest.mark.unit


def _values(f: AttributeFilter) -> list[tuple[object, object]]:
    (condition,) = attribute_filters((f,))
    match = condition["$or"][0]["attributes"]["$elemMatch"]
    assert match["k"] == f.key
    return [(a["$and"][0]["v"], a["$and"][1]["v"]["$type"]) for a in match["$or"]]


def test_attribute_filter_int_matches_int_double_and_text() -> None:
    # Act / Assert
    assert _values(AttributeFilter("code", 200)) == [
        ("200", ["string"]),
        (200, ["int", "long"]),
        (200.0, ["double"]),
    ]


def test_attribute_filter_int_beyond_int64_only_double_and_text() -> None:
    # Arrange: no int attribute can hold it, and BSON could not encode it
    big = 2**64 - 1

    # Act / Assert
    assert _values(AttributeFilter("n", big)) == [(str(big), ["string"]), (float(big), ["double"])]


def test_attribute_filter_nan_matches_only_its_text() -> None:
    # Act / Assert
    assert _values(AttributeFilter("x", math.nan)) == [("nan", ["string"])]


def test_attribute_filter_bool_and_string_typed() -> None:
    # Act / Assert
    assert _values(AttributeFilter("ok", True)) == [("true", ["string"]), (True, ["bool"])]
    assert _values(AttributeFilter("s", "200")) == [("200", ["string"])]


def test_attribute_filter_arrays_never_match() -> None:
    # Act
    (condition,) = attribute_filters((AttributeFilter("tags", "a"),))

    # Assert
    alternative = condition["$or"][1]["resource_attributes"]["$elemMatch"]["$or"][0]
    assert {"v": {"$not": {"$type": "array"}}} in alternative["$and"]


def test_log_cursor_with_objectid_tiebreak_round_trips() -> None:
    # Arrange: a 96-bit tie breaker (beyond what a JSON number library may hold)
    oid = ObjectId("ffffffffffffffffffffffff")
    cursor = LogCursor(1_700_000_000_000_000_000, cursor_tiebreak(oid))

    # Act
    decoded = decode_cursor("cursor", encode_cursor(cursor))

    # Assert
    assert decoded == cursor
    assert decoded.tiebreak == 2**96 - 1
