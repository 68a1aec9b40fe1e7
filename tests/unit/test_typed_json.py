"""Typed attribute JSON: every OTLP value type survives a round trip with its type."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obsvty.adapters.encoding.typed_json import dumps, loads_attributes, loads_value

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    [
        "text",
        "",
        True,
        False,
        0,
        1,
        -(2**63),
        2**63 - 1,
        1.0,
        -0.5,
        1e300,
        b"",
        b"\x00\xff",
        None,
        [],
        [1, 1.0, "1", True, b"1", None],
        {},
        {"nested": {"deeper": [{"k": b"\x01"}]}, "n": 2},
    ],
    ids=repr,
)
def test_typed_json_round_trip_keeps_value_and_type(value: Any) -> None:
    # Act
    back = loads_value(dumps(value))

    # Assert
    assert back == value
    assert type(back) is type(value)


def test_typed_json_int_and_double_stay_distinct() -> None:
    # Act
    back = loads_attributes(dumps({"i": 1, "d": 1.0, "arr": [2, 2.0]}))

    # Assert
    assert type(back["i"]) is int
    assert type(back["d"]) is float
    assert [type(x) for x in back["arr"]] == [int, float]  # type: ignore[union-attr]


def test_typed_json_bytes_are_tagged_base64() -> None:
    # Act / Assert
    assert dumps(b"\x00\x01") == '{"$bytes":"AAE="}'


def test_typed_json_map_that_merely_looks_like_bytes_with_other_keys_stays_a_map() -> None:
    # Arrange
    value = {"$bytes": "AAE=", "other": 1}

    # Act / Assert
    assert loads_value(dumps(value)) == value


def test_typed_json_loads_attributes_absent_or_not_a_map_is_empty() -> None:
    # Act / Assert
    assert loads_attributes(None) == {}
    assert loads_attributes("[1]") == {}
    assert loads_value(None) is None


def test_typed_json_unsupported_type_is_refused() -> None:
    # Act / Assert
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"x": object()})


def test_typed_json_non_finite_double_is_not_silently_changed() -> None:
    # JSON has no NaN or infinity; orjson writes null. Documented here so a change is noticed.
    assert loads_value(dumps(math.inf)) is None


scalars = (
    st.text()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.binary()
    | st.none()
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=5).filter(lambda k: k != "$bytes"), children, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_typed_json_any_attribute_value_round_trips(value: Any) -> None:
    # Act
    back = loads_value(dumps(value))

    # Assert
    assert back == value
    assert dumps(back) == dumps(value)  # same types all the way down (1 vs 1.0 vs True)
