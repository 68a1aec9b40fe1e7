from __future__ import annotations

import atexit
import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from obsvty.adapters.gc_tuning import GC_THRESHOLDS, malloc_trim, start_heap_trim, tune_gc

pytestmark = pytest.mark.unit


@pytest.fixture
def _restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    atexit.unregister(gc.unfreeze)


@pytest.mark.usefixtures("_restore_gc")
def test_tune_gc_start_up_objects_frozen_and_thresholds_raised() -> None:
    # Arrange
    survivor = [object() for _ in range(10)]

    # Act
    tune_gc()

    # Assert
    assert gc.get_freeze_count() >= len(survivor)
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.isenabled()


@pytest.mark.usefixtures("_restore_gc")
def test_tune_gc_called_twice_unfreezes_once_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange: record what is registered to run at exit
    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(
        atexit, "unregister", lambda f: registered.remove(f) if f in registered else None
    )

    # Act
    tune_gc()
    tune_gc()

    # Assert: frozen cycles are freed before DuckDB's bindings count what is still alive
    assert registered == [gc.unfreeze]


def _anonymous_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_malloc_trim_freed_holes_in_the_heap_go_back_to_the_system() -> None:
    # Arrange: 64 MiB of 4 KiB blocks (malloc'd, not pymalloc), every 32nd kept, so the freed
    # ones are holes inside the heap that glibc does not give back by itself
    trim = malloc_trim()
    assert trim is not None
    blocks = [bytearray(4096) for _ in range(16_384)]
    kept = blocks[::32]
    del blocks
    before = _anonymous_kib()

    # Act
    trim()

    # Assert: most of the 62 MiB of holes left resident memory
    assert before - _anonymous_kib() > 32 * 1024
    assert len(kept) == 512


def test_start_heap_trim_starts_one_daemon_thread_per_process() -> None:
    # Act
    first = start_heap_trim()
    second = start_heap_trim()

    # Assert
    assert first is not None
    assert first is second
    assert first.daemon
    assert first.is_alive()
    assert first.name == "obsvty-heap-trim"
