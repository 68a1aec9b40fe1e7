"""Attribute conversion with the key/value cache: a hit must give exactly what a miss gives, and
never share a mutable value between two items."""

from __future__ import annotations

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from obsvty.adapters.otlp import to_domain

pytestmark = pytest.mark.unit


def _kvs() -> list[KeyValue]:
    return [
        KeyValue(key="s", value=AnyValue(string_value="GET")),
        KeyValue(key="i", value=AnyValue(int_value=8080)),
        KeyValue(key="d", value=AnyValue(double_value=1.0)),
        KeyValue(key="b", value=AnyValue(bool_value=False)),
        KeyValue(key="y", value=AnyValue(bytes_value=b"\x00\x01")),
        KeyValue(key="e", value=AnyValue()),
        KeyValue(
            key="a",
            value=AnyValue(
                array_value=ArrayValue(values=[AnyValue(string_value="x"), AnyValue(int_value=2)])
            ),
        ),
        KeyValue(
            key="m",
            value=AnyValue(
                kvlist_value=KeyValueList(
                    values=[KeyValue(key="k", value=AnyValue(string_value="v"))]
                )
            ),
        ),
    ]


_EXPECTED = {
    "s": "GET",
    "i": 8080,
    "d": 1.0,
    "b": False,
    "y": b"\x00\x01",
    "e": None,
    "a": ["x", 2],
    "m": {"k": "v"},
}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    to_domain._kv_cache.clear()


def test_attributes_cache_hit_equals_miss_with_types_kept() -> None:
    # Act
    first = to_domain.attributes(_kvs())
    second = to_domain.attributes(_kvs())

    # Assert
    assert first == second == _EXPECTED
    assert type(second["i"]) is int
    assert type(second["d"]) is float
    assert type(second["b"]) is bool
    assert type(second["a"]) is list


def test_attributes_cached_array_is_a_fresh_list_each_time() -> None:
    # Arrange
    first = to_domain.attributes(_kvs())

    # Act
    first["a"].append("mutated")  # type: ignore[union-attr]
    second = to_domain.attributes(_kvs())

    # Assert
    assert second["a"] == ["x", 2]
    assert second["a"] is not first["a"]


def test_attributes_same_value_under_another_key_is_not_confused() -> None:
    # Arrange
    to_domain.attributes([KeyValue(key="a", value=AnyValue(string_value="v"))])

    # Act
    out = to_domain.attributes([KeyValue(key="b", value=AnyValue(string_value="v"))])

    # Assert
    assert out == {"b": "v"}


def test_attributes_large_value_is_converted_but_not_cached() -> None:
    # Arrange
    big = KeyValue(key="big", value=AnyValue(string_value="x" * 1000))

    # Act
    out = to_domain.attributes([big])

    # Assert
    assert out == {"big": "x" * 1000}
    assert to_domain._kv_cache == {}


def test_attributes_cache_stays_bounded_under_high_cardinality() -> None:
    # Arrange
    limit = to_domain._KV_CACHE_ENTRIES
    kvs = [KeyValue(key="id", value=AnyValue(int_value=n)) for n in range(limit + 10)]

    # Act
    outs = [to_domain.attributes([kv]) for kv in kvs]

    # Assert
    assert outs[-1] == {"id": limit + 9}
    assert [o["id"] for o in outs] == list(range(limit + 10))
    assert len(to_domain._kv_cache) <= limit
