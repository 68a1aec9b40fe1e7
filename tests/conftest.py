from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningObsvty, running_obsvty

pytest_plugins = ["tests.support.mongodb"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
OTLP_EXAMPLES = SHARED / "otlp-examples"


@pytest.fixture
def obsvty(tmp_path: Path) -> Iterator[RunningObsvty]:
    """A real obsvty with default settings on free ports and a fresh DuckDB file."""
    with running_obsvty(tmp_path) as server:
        yield server


@pytest.fixture
def otlp_examples() -> Path:
    if not OTLP_EXAMPLES.is_dir():
        pytest.skip(f"official OTLP examples not found at {OTLP_EXAMPLES}")
    return OTLP_EXAMPLES
