"""The write-path benchmark's own logic: batches of the flusher's size whose times advance, and a
checkpoint run that reports what it measured."""

from __future__ import annotations

import pytest
from bench.payloads import PayloadFactory
from bench.store_write import batches, checkpoints

pytestmark = pytest.mark.unit


def test_store_write_batches_flusher_sized_with_advancing_times() -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=10)

    # Act
    made = list(batches(3, factory))

    # Assert: 50 requests of 10 spans each, unique ids, times never going back from batch to batch
    assert [len(b) for b in made] == [500, 500, 500]
    firsts = [min(b.start_time_unix_nano) for b in made]
    assert firsts == sorted(firsts)
    assert len({s for b in made for s in b.span_id}) == 1500


def test_store_write_checkpoints_by_rows_reports_cpu_long_writes_and_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=10)

    # Act
    checkpoints("1000", 2000, factory)

    # Assert
    out = capsys.readouterr().out
    assert "checkpoint every 1000: 2,000 spans" in out
    assert "us CPU per span" in out
    assert "writes over 150 ms" in out
    assert "MiB" in out
