"""The write-path benchmark's own logic: batches of the flusher's size whose times advance, and a
checkpoint run that reports what it measured."""

from __future__ import annotations

import re

import pytest
from bench.payloads import PayloadFactory
from bench.store_write import (
    STARTS,
    TEN_MINUTES_NS,
    _template_tables,
    batches,
    checkpoints,
    growing_tables,
    growth,
    retention,
    startup,
)

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


@pytest.mark.parametrize("starts", STARTS)
def test_store_write_growing_tables_fresh_ids_and_starts_by_kind(starts: str) -> None:
    # Arrange
    template = next(_template_tables(2, PayloadFactory(spans_per_request=10)))

    # Act
    tables = list(growing_tables(template, 3, starts))

    # Assert: unique ids; start times within 10 minutes before arrival, spread only when asked
    assert [t.num_rows for t in tables] == [20, 20, 20]
    assert len({s for t in tables for s in t["span_id"].to_pylist()}) == 60
    spans = [
        (max(t["start_time_unix_nano"].to_pylist()) - min(t["start_time_unix_nano"].to_pylist()))
        for t in tables
    ]
    if starts == "fresh":
        assert max(spans) < 10**9
    else:
        assert min(spans) > 60 * 10**9
        assert max(spans) <= TEN_MINUTES_NS
    durations = [
        e - s
        for t in tables
        for s, e in zip(
            t["start_time_unix_nano"].to_pylist(), t["end_time_unix_nano"].to_pylist(), strict=True
        )
    ]
    assert durations == template["duration_ns"].to_pylist() * 3


def test_store_write_growth_reports_ms_per_write_over_time_and_cpu(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Act
    growth("long", 400, 100, 200, PayloadFactory(spans_per_request=10))

    # Assert
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("long: 400 spans, 100 per write")
    assert [line.split()[0] for line in out[1:3]] == ["200", "400"]
    assert out[3].startswith("  all: ")
    assert out[3].endswith("us CPU per span")


def test_store_write_startup_reports_the_open_time_and_rss(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Act
    startup(1000)

    # Assert
    out = capsys.readouterr().out
    assert out.startswith("open a store of 1,000 spans: ")
    assert out.rstrip().endswith("MiB with it open")


def test_store_write_retention_reports_checkpoints_and_what_the_cap_deleted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Act: 20 writes of 5,000 spans, the store's rows of one checkpoint, under a cap of one byte
    retention(100_000, max_bytes=1, max_age=None, pause=0.0)

    # Assert: the last pass deleted spans; the writes checkpointed at least once
    out = capsys.readouterr().out
    found = re.search(r"^100,000 spans in \d+ s, ([\d,]+) deleted .*; (\d+) checkpoints, ", out)
    assert found is not None, out
    assert int(found[1].replace(",", "")) > 0
    assert int(found[2]) >= 1
    assert "longest write" in out
