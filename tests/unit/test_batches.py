"""Columnar batches: every column moves together through slice, extend and concat."""

from __future__ import annotations

from dataclasses import fields

import pytest

from obsvty.domain.batches import Batch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Resource, Signal

pytestmark = pytest.mark.unit

RESOURCE = Resource({"service.name": "svc"})


def _fill(batch_type: type[Batch], first: int, count: int) -> Batch:
    """A batch whose every column holds ``first + i`` (or a value derived from it) at row i, so
    that a row whose columns got out of step is noticed."""
    batch = batch_type()
    for f in fields(batch):
        column = getattr(batch, f.name)
        for i in range(first, first + count):
            column.append((f.name, i))
    return batch


def _row_numbers(batch: Batch) -> list[int]:
    numbers = None
    for f in fields(batch):
        column_numbers = [number for _name, number in getattr(batch, f.name)]
        assert numbers is None or column_numbers == numbers, f"column {f.name} out of step"
        numbers = column_numbers
    return numbers or []


BATCH_TYPES = [SpanBatch, LogBatch, MetricBatch]


@pytest.mark.parametrize("batch_type", BATCH_TYPES)
def test_batch_slice_takes_rows_from_every_column(batch_type: type[Batch]) -> None:
    # Arrange
    batch = _fill(batch_type, 0, 5)

    # Act
    middle = batch.slice(1, 3)
    tail = batch.slice(3)

    # Assert
    assert _row_numbers(middle) == [1, 2]
    assert _row_numbers(tail) == [3, 4]
    assert len(middle) == 2
    assert _row_numbers(batch) == [0, 1, 2, 3, 4]  # the source is untouched


@pytest.mark.parametrize("batch_type", BATCH_TYPES)
def test_batch_slice_copies_columns(batch_type: type[Batch]) -> None:
    # Arrange
    batch = _fill(batch_type, 0, 3)
    copy = batch.slice(0)

    # Act
    copy.extend(_fill(batch_type, 3, 1))

    # Assert
    assert len(batch) == 3
    assert len(copy) == 4


@pytest.mark.parametrize("batch_type", BATCH_TYPES)
def test_batch_extend_and_concat_keep_order(batch_type: type[Batch]) -> None:
    # Arrange
    parts = [_fill(batch_type, 0, 2), _fill(batch_type, 2, 0), _fill(batch_type, 2, 3)]

    # Act
    merged = batch_type.concat(parts)  # type: ignore[arg-type]

    # Assert
    assert _row_numbers(merged) == [0, 1, 2, 3, 4]
    assert len(batch_type.concat([])) == 0


def test_batch_signal_names_its_signal() -> None:
    # Act / Assert
    assert (SpanBatch.signal, LogBatch.signal, MetricBatch.signal) == (
        Signal.TRACES,
        Signal.LOGS,
        Signal.METRICS,
    )


def test_resource_service_name_falls_back_to_unknown_service() -> None:
    # Act / Assert
    assert RESOURCE.service_name == "svc"
    assert Resource().service_name == "unknown_service"
    assert Resource({"service.name": ""}).service_name == "unknown_service"
    assert Resource({"service.name": 5}).service_name == "unknown_service"
