from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator

import pytest

from obsvty.adapters.gc_tuning import GC_THRESHOLDS, tune_gc

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
