"""ArrowBatch through the buffer: lengths, slices and concatenation keep every row once."""

from __future__ import annotations

import pytest
from bench.payloads import PayloadFactory

from obsvty.adapters.buffer.memory import MemoryBuffer, OverflowPolicy
from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.model import Signal

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]


def _batch(number: int, spans: int = 10) -> ArrowBatch:
    payload = PayloadFactory(spans_per_request=spans).payload(number)
    batch = CODECS[Signal.TRACES].decode_protobuf(payload).batch
    assert isinstance(batch, ArrowBatch)
    return batch


def test_arrow_batch_slice_bounds_clamped_like_a_list() -> None:
    batch = _batch(1)

    assert len(batch.slice(3)) == 7
    assert len(batch.slice(3, 5)) == 2
    assert len(batch.slice(8, 50)) == 2
    assert len(batch.slice(12)) == 0
    assert batch.slice(3, 5).table.to_pylist() == batch.table.to_pylist()[3:5]


def test_arrow_batch_concat_keeps_rows_in_order() -> None:
    first, second = _batch(1), _batch(2)

    merged = ArrowBatch.concat([first, second])

    assert merged.signal is Signal.TRACES
    assert merged.table.to_pylist() == first.table.to_pylist() + second.table.to_pylist()


def test_arrow_batch_buffer_split_takes_every_row_once() -> None:
    buffer = MemoryBuffer(100, OverflowPolicy.REJECT)
    batches = [_batch(n) for n in range(3)]
    for batch in batches:
        buffer.put(batch)

    taken = buffer.take(15, timeout=0) + buffer.take(100, timeout=0)

    rows = [row for b in taken for row in b.table.to_pylist()]  # type: ignore[union-attr]
    assert rows == [row for b in batches for row in b.table.to_pylist()]
    assert [len(b) for b in taken] == [10, 5, 5, 10]
