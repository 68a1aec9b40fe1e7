"""Span events cross to the DuckDB process pickled (with their batch): the round trip keeps them
equal, typed and frozen."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from obsvty.domain.model import SpanEvent

pytestmark = pytest.mark.unit


def test_span_event_pickle_round_trip_equal_typed_and_frozen() -> None:
    # Arrange
    event = SpanEvent(
        1_700_000_000_000_000_001,
        "exception",
        {"exception.type": "ValueError", "count": 3, "ratio": 0.5, "raw": b"\x00", "ok": True},
        dropped_attributes_count=2,
    )

    # Act
    back = pickle.loads(pickle.dumps([event, event], protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301

    # Assert
    assert back == [event, event]
    assert [type(v) for v in back[0].attributes.values()] == [str, int, float, bytes, bool]
    with pytest.raises(dataclasses.FrozenInstanceError):
        back[0].name = "changed"  # type: ignore[misc]
