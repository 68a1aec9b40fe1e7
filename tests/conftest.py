from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningObsvty, running_obsvty

pytest_plugins = ["tests.support.mongodb"]

OTLP_EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "otlp"
"""The official OTLP/JSON example requests, shipped in the repository (never skipped)."""


@pytest.fixture
def obsvty(tmp_path: Path) -> Iterator[RunningObsvty]:
    """A real obsvty with default settings on free ports and a fresh DuckDB file."""
    with running_obsvty(tmp_path) as server:
        yield server


@pytest.fixture
def otlp_examples() -> Path:
    return OTLP_EXAMPLES
