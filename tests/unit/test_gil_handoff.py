"""The short GIL switch interval while DuckDB runs: lowered inside, restored by the last one out
(nested, across threads, after an error), and in force while the store's write executes."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from obsvty.adapters.storage.duckdb.gil_handoff import HANDOFF_INTERVAL_S, short_switch_interval
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.domain.batches import LogBatch
from obsvty.domain.model import InstrumentationScope, Resource

pytestmark = pytest.mark.unit

DEFAULT = 0.005


@pytest.fixture(autouse=True)
def default_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(DEFAULT)
    yield
    sys.setswitchinterval(before)


def test_short_switch_interval_inside_lowered_after_restored() -> None:
    # Arrange
    seen = []

    # Act
    with short_switch_interval():
        seen.append(sys.getswitchinterval())

    # Assert
    assert seen == [pytest.approx(HANDOFF_INTERVAL_S)]
    assert sys.getswitchinterval() == pytest.approx(DEFAULT)


def test_short_switch_interval_error_inside_restored() -> None:
    # Arrange / Act
    with pytest.raises(RuntimeError, match="boom"), short_switch_interval():
        raise RuntimeError("boom")

    # Assert
    assert sys.getswitchinterval() == pytest.approx(DEFAULT)


def test_short_switch_interval_two_threads_overlapping_restored_by_last_out() -> None:
    # Arrange: thread A enters, B enters, A leaves (B still inside), then B leaves
    a_inside, b_inside, a_left, b_may_leave = (threading.Event() for _ in range(4))
    seen: dict[str, float] = {}

    def a() -> None:
        with short_switch_interval():
            a_inside.set()
            b_inside.wait(5)
        a_left.set()

    def b() -> None:
        a_inside.wait(5)
        with short_switch_interval():
            b_inside.set()
            b_may_leave.wait(5)
            seen["b after a left"] = sys.getswitchinterval()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]

    # Act
    for t in threads:
        t.start()
    a_left.wait(5)
    seen["while b inside"] = sys.getswitchinterval()
    b_may_leave.set()
    for t in threads:
        t.join(5)

    # Assert
    assert seen["while b inside"] == pytest.approx(HANDOFF_INTERVAL_S)
    assert seen["b after a left"] == pytest.approx(HANDOFF_INTERVAL_S)
    assert sys.getswitchinterval() == pytest.approx(DEFAULT)


class _RecordingConnection:
    """Wraps the store's real DuckDB connection and notes the switch interval of each execute."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.intervals: list[float] = []

    def execute(self, *args: Any) -> Any:
        self.intervals.append(sys.getswitchinterval())
        return self._real.execute(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_duckdb_store_write_executes_with_short_interval(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "handoff.duckdb")
    recording = _RecordingConnection(store._con)
    store._con = recording  # type: ignore[assignment]
    batch = LogBatch(
        time_unix_nano=[1],
        observed_time_unix_nano=[1],
        severity_number=[9],
        severity_text=["INFO"],
        body=["hello"],
        attributes=[{}],
        dropped_attributes_count=[0],
        flags=[0],
        trace_id=[b""],
        span_id=[b""],
        event_name=[""],
        resource=[Resource({"service.name": "svc"})],
        scope=[InstrumentationScope("lib")],
    )

    # Act
    store.write([batch])

    # Assert
    assert recording.intervals == [pytest.approx(HANDOFF_INTERVAL_S)]
    assert sys.getswitchinterval() == pytest.approx(DEFAULT)
    store._con = recording._real
    store.close()
