from __future__ import annotations

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
